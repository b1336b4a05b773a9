from odoo import fields, models


class VitaSubscriptionCancel(models.TransientModel):
    _name = "vita.subscription.cancel"
    _description = "Cancel a subscription"

    subscription_id = fields.Many2one("vita.subscription", required=True, ondelete="cascade")
    when = fields.Selection(
        [
            ("period_end", "At the end of the billing period"),
            ("now", "Now"),
        ],
        required=True,
        default="period_end",
        help="At the end of the billing period: the customer keeps the service until then and you may still "
        "reactivate it. Now: Stripe stops billing at once; this cannot be undone.",
    )
    next_billing_date = fields.Date(related="subscription_id.next_billing_date", string="Ends on")
    reason_id = fields.Many2one("vita.cancellation.reason", help="Sent to Stripe with the cancellation.")
    comment = fields.Text(help="The customer's own words, if any; sent to Stripe with the reason.")

    def action_confirm(self):
        self.ensure_one()
        if self.reason_id:
            self.subscription_id._vita_set_cancellation_reason(self.reason_id, self.comment)
        if self.when == "now":
            self.subscription_id.action_cancel_now()
        else:
            self.subscription_id.action_cancel_at_period_end()
        return {"type": "ir.actions.act_window_close"}
