from odoo import models

from ..stripe_shapes import stripe_id
from .vita_stripe_event import RetryLater


class VitaStripeEvent(models.Model):
    """Events of the invoice of record (issue 22): Stripe finalizes, is
    paid in parts, voids or gives up on an invoice; Odoo's invoice follows
    (models/vita_subscription_invoice.py)."""

    _inherit = "vita.stripe.event"  # pylint: disable=consider-merging-classes-inherited

    def _handle_invoice_finalized(self, stripe_invoice):
        subscription = self._vita_invoice_subscription(stripe_invoice)
        if not subscription:
            return "ignored"
        if not subscription._vita_books_at_finalization():
            return "ignored", self.env._("This company books Stripe invoices when they are paid.")
        if not subscription._vita_invoice_finalized(stripe_invoice):
            return "ignored", self.env._("Nothing to book: the invoice totals zero.")
        return "processed"

    def _handle_invoice_payment_paid(self, invoice_payment):
        """invoice_payment.paid: one payment of an invoice, partial or whole
        (https://docs.stripe.com/api/invoice-payment/object)."""
        invoice_id = stripe_id(invoice_payment.get("invoice"))
        subscription, move = self._vita_booked_invoice(invoice_id)
        if not move:
            if self._vita_gateway_of_mode().provider.company_id.vita_invoice_booking == "paid":
                return "ignored", self.env._(
                    "This company books Stripe invoices when they are paid: invoice.paid registers every payment."
                )
            subscription, move = self._vita_book_invoice_of_payment(invoice_id)
        if not move:
            return "ignored", self.env._(
                "The Stripe invoice %s is not one of a subscription Odoo knows.", invoice_id or "-"
            )
        if not subscription._vita_invoice_payment_paid(move, invoice_payment):
            return "ignored", self.env._("This payment is registered already (or the invoice is paid).")
        return "processed"

    def _vita_book_invoice_of_payment(self, invoice_id):
        """(subscription, Odoo invoice) of Stripe invoice ``invoice_id``, that
        a payment names by id only, when Odoo has not booked it yet (its
        finalization not handled yet, or missed): booked now from Stripe's
        invoice. Empty ones for an invoice of no subscription Odoo knows."""
        stripe_invoice = invoice_id and self._vita_gateway_of_mode().retrieve_invoice(invoice_id)
        subscription = self._vita_invoice_subscription(stripe_invoice or {})
        if not subscription:
            return subscription, self.env["account.move"]
        move = subscription._vita_invoice_from_stripe(stripe_invoice)
        if not move and (stripe_invoice.get("total") or 0) > 0:
            # Booked by a concurrent event after our snapshot.
            raise RetryLater(self.env._("Stripe invoice %s is being booked; the event is retried.", invoice_id))
        return subscription, move

    def _handle_invoice_voided(self, stripe_invoice):
        return self._vita_close_invoice(stripe_invoice, "_vita_invoice_voided")

    def _handle_invoice_marked_uncollectible(self, stripe_invoice):
        return self._vita_close_invoice(stripe_invoice, "_vita_invoice_uncollectible")

    def _vita_close_invoice(self, stripe_invoice, close):
        """Stripe gave up on the invoice: ``close`` (a method of the
        subscription) reverses or writes off its Odoo invoice."""
        subscription = self._vita_invoice_subscription(stripe_invoice)
        if not subscription:
            return "ignored"
        getattr(subscription, close)(stripe_invoice)
        return "processed"
