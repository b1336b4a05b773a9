from odoo import api, fields, models
from odoo.exceptions import UserError

from ..utils import reopen_wizard


class VitaSubscriptionPlanChange(models.TransientModel):
    """The back office's plan or quantity change of a subscribed record:
    Stripe's preview first, then the change (issue 11, part 4)."""

    _name = "vita.subscription.plan.change"
    _description = "Change the plan of a subscription"

    subscription_id = fields.Many2one("vita.subscription", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="subscription_id.company_id")
    currency_id = fields.Many2one(related="subscription_id.currency_id")
    mode = fields.Selection(related="subscription_id.mode")
    current_plan_id = fields.Many2one(related="subscription_id.plan_id", string="Current plan")
    current_quantity = fields.Integer(related="subscription_id.quantity", string="Current quantity")
    plan_id = fields.Many2one(
        "vita.stripe.plan",
        string="New plan",
        required=True,
        domain="[('mode', '=', mode), ('currency_id', '=', currency_id), ('company_id', '=', company_id)]",
    )
    # No field default: it would win over the subscription's quantity in
    # default_get (super() fills field defaults before our setdefault).
    quantity = fields.Integer("New quantity", required=True)
    # Stripe's preview of the change shown above, and for what.
    previewed = fields.Boolean(readonly=True)
    amount_now = fields.Monetary("Charged now", readonly=True)
    amount_proration = fields.Monetary("Of which prorations", readonly=True)
    amount_next = fields.Monetary("Next invoice", readonly=True)
    next_date = fields.Date("Next invoice on", readonly=True)
    proration_date = fields.Integer(readonly=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        subscription = self.env["vita.subscription"].browse(values.get("subscription_id"))
        if subscription:
            values.setdefault("plan_id", subscription.plan_id.id)
            values.setdefault("quantity", subscription.quantity)
        return values

    @api.onchange("plan_id", "quantity")
    def _onchange_forget_preview(self):
        """Another plan or quantity: the preview shown is not for it."""
        self.previewed = False

    def _vita_reopen(self):
        return reopen_wizard(self, self.env._("Change plan"))

    def action_preview(self):
        self.ensure_one()
        preview = self.subscription_id._vita_preview_plan_change(self.plan_id, self.quantity)
        self.write(
            {
                "previewed": True,
                "amount_now": preview["amount_now"],
                "amount_proration": preview["amount_proration"],
                "amount_next": preview["amount_next"],
                "next_date": preview["next_date"],
                "proration_date": preview["proration_date"],
            }
        )
        return self._vita_reopen()

    def action_apply(self):
        self.ensure_one()
        if not self.previewed:
            raise UserError(self.env._("Preview the change first: Stripe says what it will charge."))
        self.subscription_id._vita_change_plan(self.plan_id, self.quantity, proration_date=self.proration_date)
        return {"type": "ir.actions.act_window_close"}
