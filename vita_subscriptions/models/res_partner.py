from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    # One Stripe customer per commercial partner, per company (its Stripe
    # account) and per mode. No card data is ever stored in Odoo.
    vita_stripe_customer_test_id = fields.Char(
        "Stripe customer (test)", company_dependent=True, copy=False, groups="base.group_user"
    )
    vita_stripe_customer_live_id = fields.Char(
        "Stripe customer (live)", company_dependent=True, copy=False, groups="base.group_user"
    )
    vita_subscription_ids = fields.One2many("vita.subscription", "commercial_partner_id", string="Subscriptions")
    vita_subscription_count = fields.Integer(
        compute="_compute_vita_subscription_count", groups="vita_subscriptions.group_subscription_user"
    )

    def _compute_vita_subscription_count(self):
        counts = dict(
            self.env["vita.subscription"]._read_group(
                [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.vita_subscription_count = counts.get(partner.commercial_partner_id, 0)

    def action_view_vita_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("vita_subscriptions.vita_subscription_action")
        action["domain"] = [("commercial_partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    def _vita_stripe_customer(self, gateway):
        """Stripe customer id of this partner's company, created on first need.

        The row lock makes two simultaneous first subscriptions wait for each
        other; the idempotency key makes a retried creation return the same
        customer.
        """
        partner = self.commercial_partner_id
        field = f"vita_stripe_customer_{gateway.mode}_id"
        partner_sudo = partner.sudo().with_company(gateway.provider.company_id)
        if partner_sudo[field]:
            return partner_sudo[field]
        self.env.cr.execute("SELECT id FROM res_partner WHERE id = %s FOR NO KEY UPDATE", [partner.id])
        partner_sudo.invalidate_recordset([field])
        if partner_sudo[field]:
            return partner_sudo[field]
        customer = gateway.create_customer(
            partner.name,
            partner.email,
            {"odoo_partner_id": str(partner.id)},
            idempotency_key=gateway.idempotency_key(partner, f"customer-{gateway.mode}"),
        )
        partner_sudo[field] = customer.id
        return customer.id
