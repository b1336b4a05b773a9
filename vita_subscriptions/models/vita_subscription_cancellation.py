from odoo import fields, models


class VitaSubscription(models.Model):
    """Cancellation reasons on the subscription (issue 11, part 5)."""

    _inherit = "vita.subscription"  # pylint: disable=consider-merging-classes-inherited

    cancellation_reason_id = fields.Many2one(
        "vita.cancellation.reason", string="Cancellation reason", readonly=True, copy=False, tracking=True
    )
    cancellation_comment = fields.Text("Cancellation comment", readonly=True, copy=False)

    def _vita_stripe_cancellation_details(self):
        """What Stripe keeps about the cancellation (shown in its dashboard
        and exports), or an empty dict when no reason was given.
        https://docs.stripe.com/api/subscriptions/cancel#cancel_subscription-cancellation_details"""
        self.ensure_one()
        if not self.cancellation_reason_id:
            return {}
        details = {"feedback": self.cancellation_reason_id.stripe_feedback}
        if self.cancellation_comment:
            details["comment"] = self.cancellation_comment
        return details

    def _vita_set_cancellation_reason(self, reason, comment=False):
        self.write({"cancellation_reason_id": reason.id, "cancellation_comment": comment or False})

    def action_reactivate(self):
        """A reactivated subscription is no longer leaving: forget the reason."""
        result = super().action_reactivate()
        self._vita_set_cancellation_reason(self.env["vita.cancellation.reason"])
        return result
