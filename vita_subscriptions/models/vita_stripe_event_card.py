from odoo import models

from ..models.vita_subscription_risk import card_vals


class VitaStripeEvent(models.Model):
    """Card events (issue 11, part 3): the brand, last 4 and expiry kept on
    subscriptions, for the renewals at risk."""

    _inherit = "vita.stripe.event"  # pylint: disable=consider-merging-classes-inherited

    def _handle_payment_method_card(self, payment_method):
        """payment_method.updated / payment_method.automatically_updated:
        the bank sent a new expiry (or number) for a card subscriptions
        renew on. The event carries the card itself: no Stripe call."""
        card = payment_method.get("card") or {}
        subscriptions = (
            self.env["vita.subscription"]
            .sudo()
            .search(
                [
                    ("card_payment_method_id", "=", payment_method.get("id")),
                    ("mode", "=", self._vita_mode()),
                    ("state", "not in", ("canceled", "incomplete_expired")),
                    *self._vita_company_domain(),
                ]
            )
        )
        if not subscriptions or not payment_method.get("id"):
            return "ignored", self.env._("No running subscription renews on this card.")
        vals = card_vals(
            {
                "id": payment_method["id"],
                "brand": (card.get("brand") or "").title(),
                "last4": card.get("last4"),
                "exp_month": card.get("exp_month"),
                "exp_year": card.get("exp_year"),
            }
        )
        subscriptions.with_context(vita_from_stripe=True).write(vals)
        if len(subscriptions) == 1:
            self._vita_link(subscriptions)
        return "processed"
