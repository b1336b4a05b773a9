"""Drift: what the reconciliation finds different in Stripe, one line per
field, and the two ways to resolve it from the subscription form.

*Use Stripe's* makes Odoo follow Stripe (the status through const.py's
table); *Push Odoo's* makes Stripe follow Odoo (a subscription update with
the proration setting). A status cannot be pushed: Stripe sets it.
"""

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..const import STRIPE_STATUS_STATES, state_from_stripe
from ..stripe_shapes import item_price_id, single_item, subscription_tax_rate_ids
from .vita_subscription import ENDED_STATES, _first_billing_ahead

# The fields a drift line may be about, in the order they are shown.
DRIFT_FIELDS = [
    ("plan_id", "Billing plan"),
    ("quantity", "Quantity"),
    ("tax_rate_ids", "Taxes"),
    ("cancel_at_period_end", "Cancels at period end"),
    ("state", "Status"),
]
# Stripe sets these; Odoo cannot push them.
STRIPE_ONLY_FIELDS = ("state",)


class VitaSubscriptionDrift(models.Model):
    _name = "vita.subscription.drift"
    _description = "Stripe subscription drift"
    _order = "subscription_id, sequence"

    subscription_id = fields.Many2one("vita.subscription", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    field_name = fields.Selection(DRIFT_FIELDS, string="Field", required=True, readonly=True)
    sequence = fields.Integer(compute="_compute_sequence", store=True)
    odoo_value = fields.Char("In Odoo", readonly=True)
    stripe_value = fields.Char("In Stripe", readonly=True)
    stripe_raw = fields.Char(readonly=True, help="Stripe's value as Stripe writes it (ids, number, status).")
    can_push = fields.Boolean(compute="_compute_can_push")

    _sql_constraints = [
        ("field_unique", "UNIQUE(subscription_id, field_name)", "One drift line per field of a subscription."),
    ]

    @api.depends("field_name")
    def _compute_sequence(self):
        order = [name for name, _label in DRIFT_FIELDS]
        for line in self:
            line.sequence = order.index(line.field_name) if line.field_name in order else 0

    @api.depends("field_name")
    def _compute_can_push(self):
        for line in self:
            line.can_push = line.field_name not in STRIPE_ONLY_FIELDS

    def action_use_stripe(self):
        for line in self:
            line.subscription_id._vita_resolve_drift(line.field_name, use_stripe=True)

    def action_push_odoo(self):
        for line in self:
            line.subscription_id._vita_resolve_drift(line.field_name, use_stripe=False)


class VitaSubscription(models.Model):
    _inherit = "vita.subscription"  # pylint: disable=consider-merging-classes-inherited

    drift_ids = fields.One2many("vita.subscription.drift", "subscription_id", readonly=True)
    stripe_drift = fields.Char(
        compute="_compute_stripe_drift", help="What the last reconciliation found different in Stripe."
    )

    @api.depends("drift_ids.odoo_value", "drift_ids.stripe_value")
    def _compute_stripe_drift(self):
        for subscription in self:
            subscription.stripe_drift = (
                " ".join(subscription._vita_drift_sentence(line) for line in subscription.drift_ids) or False
            )

    def _vita_drift_sentence(self, line):
        if line.field_name == "plan_id":
            return self.env._(
                "Billing plan %(stripe)s instead of %(odoo)s.", stripe=line.stripe_raw, odoo=line.odoo_value
            )
        if line.field_name == "quantity":
            return self.env._(
                "Quantity %(stripe)s instead of %(odoo)s.", stripe=line.stripe_value, odoo=line.odoo_value
            )
        if line.field_name == "tax_rate_ids":
            return self.env._("Taxes %(stripe)s instead of %(odoo)s.", stripe=line.stripe_value, odoo=line.odoo_value)
        if line.field_name == "cancel_at_period_end":
            return self.env._(
                "Cancels at period end: %(stripe)s instead of %(odoo)s.", stripe=line.stripe_value, odoo=line.odoo_value
            )
        return self.env._("Status %(stripe)s instead of %(odoo)s.", stripe=line.stripe_value, odoo=line.odoo_value)

    # ------------------------------------------------------------------
    # Finding drift
    # ------------------------------------------------------------------

    def _vita_drift(self, stripe_subscription):
        """{field name: (Odoo's value, Stripe's value, Stripe's raw value)}
        for every field Stripe shows differently. Nothing for a subscription
        with several items or an unknown status (the anomaly flags those)."""
        self.ensure_one()
        item = single_item(stripe_subscription)
        if not item:
            return {}
        if state_from_stripe(stripe_subscription.status, False) in ENDED_STATES:
            return {}  # Ended in Stripe: nothing left to choose, Odoo follows.
        found = {}
        plan_id = item_price_id(item)
        if plan_id and plan_id != self.plan_id.stripe_id:
            plan = self._vita_plan_by_stripe_id(plan_id, sync=False)
            found["plan_id"] = (self.plan_id.display_name, plan.display_name or plan_id, plan_id)
        if item.quantity is not None and item.quantity != self.quantity:
            found["quantity"] = (str(self.quantity), str(item.quantity), str(item.quantity))
        rate_ids = subscription_tax_rate_ids(stripe_subscription, item)
        if set(rate_ids) != set(self.tax_rate_ids.mapped("stripe_id")):
            found["tax_rate_ids"] = (
                self._vita_rates_label(self.tax_rate_ids),
                self._vita_rates_label(self._vita_known_rates(rate_ids), rate_ids),
                ",".join(rate_ids),
            )
        cancel = bool(stripe_subscription.cancel_at_period_end)
        if cancel != self.cancel_at_period_end:
            found["cancel_at_period_end"] = (
                _yes_no(self, self.cancel_at_period_end),
                _yes_no(self, cancel),
                str(cancel),
            )
        status = stripe_subscription.status
        states = STRIPE_STATUS_STATES.get(status)
        if states and self.state not in states:
            stripe_state = state_from_stripe(status, _first_billing_ahead(stripe_subscription))
            labels = dict(self._fields["state"]._description_selection(self.env))
            found["state"] = (labels[self.state], labels[stripe_state], status)
        return found

    def _vita_record_drift(self, found):
        """Make the drift lines tell ``found``: new lines, updated values,
        resolved lines removed. Returns the subscription's drift sentence."""
        self.ensure_one()
        lines = {line.field_name: line for line in self.drift_ids}
        commands = [Command.unlink(line.id) for name, line in lines.items() if name not in found]
        for name, (odoo_value, stripe_value, raw) in found.items():
            vals = {"odoo_value": odoo_value, "stripe_value": stripe_value, "stripe_raw": raw}
            line = lines.get(name)
            if not line:
                commands.append(Command.create({"field_name": name, **vals}))
            elif (line.odoo_value, line.stripe_value, line.stripe_raw) != (odoo_value, stripe_value, raw):
                commands.append(Command.update(line.id, vals))
        if commands:
            self.with_context(vita_from_stripe=True).drift_ids = commands
        return self.stripe_drift

    def _vita_plan_by_stripe_id(self, plan_id, sync=True):
        Plan = self.env["vita.stripe.plan"].sudo().with_context(active_test=False)
        domain = [("company_id", "=", self.company_id.id), ("mode", "=", self.mode), ("stripe_id", "=", plan_id)]
        plan = Plan.search(domain, limit=1)
        if not plan and sync:
            Plan.with_company(self.company_id)._vita_sync_catalogue_from_stripe(self._vita_gateway())
            plan = Plan.search(domain, limit=1)
        return plan

    def _vita_known_rates(self, rate_ids):
        return (
            self.env["vita.stripe.tax.rate"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", self.company_id.id), ("mode", "=", self.mode), ("stripe_id", "in", rate_ids)])
        )

    def _vita_rates_label(self, rates, rate_ids=()):
        names = rates.mapped("display_name") + sorted(set(rate_ids) - set(rates.mapped("stripe_id")))
        return ", ".join(names) or self.env._("none")

    # ------------------------------------------------------------------
    # Resolving drift
    # ------------------------------------------------------------------

    def _vita_resolve_drift(self, field_name, use_stripe):
        """One drift line resolved by the user: Odoo follows Stripe, or
        Stripe follows Odoo; told in the chatter with the user's name.
        Stripe is read again first: the line may be out of date."""
        self.ensure_one()
        self._vita_check_stripe_rights()
        if not use_stripe and field_name in STRIPE_ONLY_FIELDS:
            raise UserError(self.env._("Stripe sets the status: only Stripe's can be used."))
        gateway = self._vita_gateway()
        stripe_subscription = gateway.retrieve_subscription(self.stripe_subscription_id)
        found = self._vita_drift(stripe_subscription)
        labels = self.env["vita.subscription.drift"]._fields["field_name"]._description_selection(self.env)
        label = dict(labels)[field_name]
        if field_name in found:
            odoo_value, stripe_value, raw = found[field_name]
            if use_stripe:
                self._vita_use_stripe_value(field_name, raw, stripe_subscription)
                note = self.env._(
                    "%(field)s: Stripe's value (%(value)s) kept in Odoo by %(user)s.",
                    field=label,
                    value=stripe_value,
                    user=self.env.user.name,
                )
            else:
                stripe_subscription = self._vita_push_odoo_value(field_name, gateway)
                note = self.env._(
                    "%(field)s: Odoo's value (%(value)s) pushed to Stripe by %(user)s.",
                    field=label,
                    value=odoo_value,
                    user=self.env.user.name,
                )
            self.message_post(body=note, subtype_xmlid="mail.mt_note")
        self._vita_record_drift(self._vita_drift(stripe_subscription))
        return True

    def _vita_use_stripe_value(self, field_name, raw, stripe_subscription):
        if field_name == "plan_id":
            plan = self._vita_plan_by_stripe_id(raw)
            if not plan:
                raise UserError(self.env._("Billing plan %s is not in Odoo (check its currency).", raw))
            vals = {"plan_id": plan.id}
        elif field_name == "quantity":
            vals = {"quantity": int(raw)}
        elif field_name == "tax_rate_ids":
            vals = {"tax_rate_ids": [Command.set(self._vita_tax_rates([r for r in raw.split(",") if r]).ids)]}
        elif field_name == "cancel_at_period_end":
            vals = {"cancel_at_period_end": raw == "True"}
        else:
            vals = {"state": state_from_stripe(raw, _first_billing_ahead(stripe_subscription))}
        self.with_context(vita_from_stripe=True).write(vals)

    def _vita_push_odoo_value(self, field_name, gateway):
        """Stripe follows Odoo; returns Stripe's answer."""
        if field_name == "cancel_at_period_end":
            stripe_subscription = gateway.update_subscription(
                self.stripe_subscription_id, {"cancel_at_period_end": self.cancel_at_period_end}
            )
            self._vita_apply_stripe_subscription(stripe_subscription)
            return stripe_subscription
        return self._vita_stripe_push_changes({field_name})


def _yes_no(record, value):
    return record.env._("Yes") if value else record.env._("No")
