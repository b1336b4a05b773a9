"""The invoice of record: Odoo's invoice of a Stripe invoice is booked
when Stripe finalizes it (or when it is paid, a company setting), reversed
when Stripe voids it and written off as a bad debt when Stripe marks it
uncollectible. The money rules that make its lines, taxes and totals, and
the payments, are vita_subscription_billing.py's."""

import logging

from odoo import fields, models
from odoo.exceptions import UserError

from ..utils import stripe_date

_logger = logging.getLogger(__name__)

# Stripe invoices that were finalized, by status: what the reconciliation
# compares with Odoo when the company books at finalization.
# https://docs.stripe.com/invoicing/overview#invoice-statuses
FINALIZED_STATUSES = ("open", "paid", "uncollectible", "void")
# Odoo invoices whose receivable is settled.
SETTLED_PAYMENT_STATES = ("paid", "in_payment", "reversed")


class VitaSubscription(models.Model):
    _inherit = "vita.subscription"  # pylint: disable=consider-merging-classes-inherited

    def _vita_books_at_finalization(self):
        return self.company_id.vita_invoice_booking == "finalized"

    # ------------------------------------------------------------------
    # Booking
    # ------------------------------------------------------------------

    def _vita_invoice_finalized(self, stripe_invoice):
        """Stripe issued ``stripe_invoice``: its Odoo invoice is posted,
        open until Stripe collects it (booked once, whichever of this event,
        the payment or the reconciliation comes first). Empty when the
        company books at payment, or for a zero total."""
        self.ensure_one()
        if not self._vita_books_at_finalization():
            return self.env["account.move"]
        return self._vita_invoice_from_stripe(stripe_invoice)

    def _vita_book_stripe_invoice(self, stripe_invoice):
        """The posted Odoo invoice of ``stripe_invoice``, with the lines,
        taxes and totals of the money rules (Stripe's to the cent); paid or
        not is the payments' business (vita_subscription_billing.py)."""
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(self.company_id)
            # A customer document: its texts (line periods, discounts) in
            # the customer's language, whoever books it.
            .create(self.with_context(lang=self.partner_id.lang or self.env.lang)._vita_invoice_vals(stripe_invoice))
        )
        move._vita_match_stripe_amounts(stripe_invoice, self._vita_tax_amounts(stripe_invoice, move.currency_id))
        move.action_post()
        # Its portal link's token now, not when a portal page first lists
        # it: that GET would write the invoice a queue lane may be paying.
        move._portal_ensure_token()
        self._vita_name_in_stripe(move)
        if self.company_id.vita_invoice_email:
            self._vita_send_invoice(move)
        return move

    def _vita_name_in_stripe(self, move):
        """Stripe's invoice carries Odoo's number (metadata ``odoo_invoice``,
        editable on a finalized invoice), so each side names the other. A
        failure is told, not fatal: the invoice is booked all the same."""
        try:
            self._vita_gateway().set_invoice_metadata(move.vita_stripe_invoice_id, {"odoo_invoice": move.name})
        except UserError as error:
            _logger.warning("Stripe invoice %s does not carry %s: %s", move.vita_stripe_invoice_id, move.name, error)
            move.message_post(
                body=self.env._(
                    "Stripe's invoice %(stripe)s could not be given this invoice's number: %(error)s",
                    stripe=move.vita_stripe_invoice_id,
                    error=error.args[0] if error.args else error,
                )
            )

    def _vita_send_invoice(self, move):
        """Odoo's own invoice e-mailed to the customer by Odoo's sending
        machinery (account.move.send): its PDF and, where the customer's
        e-invoicing format calls for it, the electronic invoice (Factur-X
        for French customers, account_edi_ubl_cii). In the background, as
        the Send button does for several invoices: a PDF is no work for the
        webhook queue."""
        author = self._vita_salesperson() or self.env.ref("base.user_root")
        move.sending_data = {"author_user_id": author.id, "author_partner_id": author.partner_id.id}
        self.env.ref("account.ir_cron_account_move_send")._trigger()

    # ------------------------------------------------------------------
    # Void and uncollectible
    # ------------------------------------------------------------------

    def _vita_invoice_voided(self, stripe_invoice):
        """Stripe voided the invoice: its Odoo invoice is reversed in full
        by a credit note (reconciled with it). One never booked is noted."""
        self.ensure_one()
        move = self._vita_stripe_move(stripe_invoice["id"])
        if not move:
            self._vita_invoice_closed_unpaid(stripe_invoice, "invoice.voided")
            return move
        move._vita_lock_for_payment()
        if move.vita_bad_debt_move_id:
            move._vita_reopen_bad_debt()
        if move.payment_state in SETTLED_PAYMENT_STATES:
            return self.env["account.move"]  # reversed already (Stripe voids only unpaid invoices)
        voided_at = stripe_date((stripe_invoice.get("status_transitions") or {}).get("voided_at"))
        day = voided_at or fields.Date.context_today(self)
        number = stripe_invoice.get("number") or stripe_invoice["id"]
        credit_note = move._reverse_moves(
            [
                {
                    "date": day,
                    "invoice_date": day,
                    "ref": self.env._("Voided in Stripe: %s", number),
                    "vita_subscription_id": self.id,
                }
            ],
            cancel=True,
        )
        self._vita_note_on(
            [self, move],
            self.env._(
                "Stripe voided invoice %(stripe)s: %(invoice)s is reversed by %(credit_note)s.",
                stripe=number,
                invoice=move.name,
                credit_note=credit_note.name,
            ),
        )
        return credit_note

    def _vita_invoice_uncollectible(self, stripe_invoice):
        """Stripe stopped collecting the invoice: what remains unpaid of its
        Odoo invoice (booked now if its finalization was missed) is written
        off to the company's bad debt account. Revenue and VAT stay as
        invoiced; Stripe still lets the customer pay, and a payment reopens
        it (_vita_pay_written_off)."""
        self.ensure_one()
        if self._vita_books_at_finalization():
            move = self._vita_invoice_from_stripe(stripe_invoice)
        else:
            move = self._vita_stripe_move(stripe_invoice["id"])
        if not move:
            self._vita_invoice_closed_unpaid(stripe_invoice, "invoice.marked_uncollectible")
            return move
        move._vita_lock_for_payment()
        if move.vita_bad_debt_move_id or move.payment_state in SETTLED_PAYMENT_STATES:
            return self.env["account.move"]  # written off already, or paid
        marked_at = (stripe_invoice.get("status_transitions") or {}).get("marked_uncollectible_at")
        write_off = self._vita_write_off(move, stripe_date(marked_at) or fields.Date.context_today(self))
        self._vita_note_on(
            [self, move],
            self.env._(
                "Stripe marked invoice %(stripe)s uncollectible: %(amount)s of %(invoice)s written off as a bad "
                "debt (%(entry)s).",
                stripe=stripe_invoice.get("number") or stripe_invoice["id"],
                amount=move.currency_id.format(sum(write_off.line_ids.filtered("debit").mapped("amount_currency"))),
                invoice=move.name,
                entry=write_off.name,
            ),
        )
        return write_off

    def _vita_write_off(self, move, day):
        account = self.company_id.vita_bad_debt_account_id
        if not account:
            raise UserError(
                self.env._(
                    "Set the bad debt account of %s (Subscriptions settings) to write off uncollectible invoices.",
                    self.company_id.name,
                )
            )
        return move._vita_write_off_bad_debt(account, day, self.env._("Bad debt: %s", move.name))

    def _vita_pay_written_off(self, move, pay):
        """``pay()`` on ``move``; if it was written off, the write-off is
        undone first (Stripe lets a customer pay an uncollectible invoice)
        and whatever stays unpaid after a partial payment is written off
        again (Stripe still holds it uncollectible)."""
        written_off = move.vita_bad_debt_move_id
        if not written_off:
            return pay()
        move._vita_reopen_bad_debt()
        payments = pay()
        if not move.currency_id.is_zero(move.amount_residual):
            self._vita_write_off(move, fields.Date.context_today(self))
        self._vita_note_on(
            [self, move],
            self.env._(
                "A payment came for %(invoice)s after its write-off %(entry)s: reversed.",
                invoice=move.name,
                entry=written_off.name,
            ),
        )
        return payments

    # ------------------------------------------------------------------
    # Reconciliation
    # ------------------------------------------------------------------

    def _vita_reconcile_invoices(self, gateway):
        """Stripe's invoices of this subscription that a missed webhook left
        unbooked, or in another state in Odoo, healed the way their events
        would have: booked (at finalization: every finalized invoice; at
        payment: paid ones), paid, reversed or written off. Returns the Odoo
        invoices booked now."""
        self.ensure_one()
        statuses = FINALIZED_STATUSES if self._vita_books_at_finalization() else ("paid",)
        stripe_invoices = [
            stripe_invoice
            for stripe_invoice in gateway.list_invoices(self.stripe_subscription_id, statuses)
            if (stripe_invoice.get("total") or 0) > 0
        ]
        moves = (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("vita_stripe_invoice_id", "in", [stripe_invoice["id"] for stripe_invoice in stripe_invoices]),
                ]
            )
        )
        by_stripe_id = {move.vita_stripe_invoice_id: move for move in moves}
        booked = self.env["account.move"]
        for stripe_invoice in reversed(stripe_invoices):  # Stripe lists the newest first
            move = by_stripe_id.get(stripe_invoice["id"])
            if not _needs_healing(move, stripe_invoice):
                continue
            getattr(self, HEALERS.get(stripe_invoice["status"], "_vita_invoice_from_stripe"))(stripe_invoice)
            if not move:
                booked |= self._vita_stripe_move(stripe_invoice["id"])
        return booked


# What the reconciliation does with a Stripe invoice Odoo is behind on, by
# its status (any other finalized one, "open": booked).
HEALERS = {
    "paid": "_vita_paid_invoice",
    "uncollectible": "_vita_invoice_uncollectible",
    "void": "_vita_invoice_voided",
}


def _needs_healing(move, stripe_invoice):
    """Whether Odoo's invoice (``move``, maybe empty) is behind Stripe's:
    missing (a voided one stays unbooked), unpaid though paid, not reversed
    though voided, open though uncollectible."""
    status = stripe_invoice["status"]
    if not move:
        return status != "void"
    if status == "paid":
        return move.payment_state not in ("paid", "in_payment") or bool(move.vita_bad_debt_move_id)
    if status == "void":
        return move.payment_state != "reversed"
    if status == "uncollectible":
        return move.payment_state not in SETTLED_PAYMENT_STATES and not move.vita_bad_debt_move_id
    return False
