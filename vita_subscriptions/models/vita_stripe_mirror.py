from odoo import api, fields, models

from ..const import MODES


class VitaStripeMirror(models.AbstractModel):
    """Odoo copy of a Stripe catalogue object (plan, tax rate).

    Stripe is the source of truth: records are written by the sync only,
    per company and mode, and never deleted (subscriptions keep pointing at
    them); what Stripe no longer lists, or archived, becomes inactive.
    """

    _name = "vita.stripe.mirror"
    _description = "Object mirrored from Stripe"
    _check_company_auto = True

    stripe_id = fields.Char("Stripe ID", required=True, readonly=True, index=True)
    active = fields.Boolean(default=True, readonly=True)
    mode = fields.Selection(MODES, required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)

    _sql_constraints = [
        (
            "stripe_id_unique",
            "UNIQUE(company_id, mode, stripe_id)",
            "A Stripe object is imported once per company and mode.",
        ),
    ]

    @api.model
    def _vita_vals_from_stripe(self, stripe_object, cache):
        """Odoo values of ``stripe_object``, or None to leave it out.

        ``cache`` is a dict shared by one sync, for lookups done once."""
        raise NotImplementedError

    @api.model
    def _vita_mirror(self, gateway, stripe_objects):
        """Create, update and deactivate records to match ``stripe_objects``.

        Returns the records Stripe listed. Only changed values are written,
        so a sync of an unchanged catalogue issues no UPDATE.
        """
        company = gateway.provider.company_id
        mirror = self.sudo().with_context(active_test=False)
        existing = {
            record.stripe_id: record
            for record in mirror.search([("company_id", "=", company.id), ("mode", "=", gateway.mode)])
        }
        to_create, seen, cache = [], mirror.browse(), {}
        for stripe_object in stripe_objects:
            vals = mirror._vita_vals_from_stripe(stripe_object, cache)
            if vals is None:
                continue
            record = existing.get(stripe_object.id)
            if not record:
                to_create.append(dict(vals, stripe_id=stripe_object.id, mode=gateway.mode, company_id=company.id))
                continue
            seen |= record
            changed = {
                name: value
                for name, value in vals.items()
                if record._fields[name].convert_to_write(record[name], record) != value
            }
            if changed:
                record.write(changed)
        seen |= mirror.create(to_create)
        vanished = mirror.browse(r.id for r in existing.values() if r.active and r not in seen)
        if vanished:
            vanished.write({"active": False})
        return seen.with_env(self.env)
