"""Money going back: Stripe credit notes, refunds and lost disputes become
Odoo credit notes of the subscription's invoices, with the refunded money
as outgoing payments in the Stripe journal; disputes and unpaid invoices
Stripe gave up on are told to the responsible."""

import logging

from odoo import api, fields, models

from ..stripe_shapes import credit_note_refunds
from ..utils import from_stripe_amount, stripe_date

_logger = logging.getLogger(__name__)

# Refunds in these states gave no money back.
FAILED_REFUND_STATES = ("failed", "canceled")


# One concern per file (README, Layout): money in is vita_subscription_billing.py.
class VitaSubscription(models.Model):
    _inherit = "vita.subscription"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Credit notes and refunds
    # ------------------------------------------------------------------

    def _vita_book_credit_note(self, move, credit_note):
        """The Odoo credit note of a Stripe credit note of ``move``, with
        Stripe's lines, taxes and totals, and an outgoing payment per
        refund it made; empty when already booked.

        The credit note is the source of truth: a refund it lists is
        booked with it, never alone. What it credits without refunding
        (customer balance, out of band) stays an open credit on the
        customer.
        """
        self.ensure_one()
        self._vita_lock_stripe_invoice(move.vita_stripe_invoice_id)
        Move = self.env["account.move"].sudo().with_company(self.company_id)
        domain = [("company_id", "=", self.company_id.id), ("vita_stripe_credit_note_id", "=", credit_note["id"])]
        if Move.search_count(domain, limit=1):
            return Move
        return self._vita_book_once(credit_note["id"], self._vita_create_credit_note, move, credit_note)

    def _vita_create_credit_note(self, move, credit_note):
        Move = self.env["account.move"].sudo().with_company(self.company_id)
        currency = move.currency_id
        lines = (credit_note.get("lines") or {}).get("data") or []
        if (credit_note.get("lines") or {}).get("has_more"):
            lines = self._vita_gateway().list_credit_note_lines(credit_note["id"])
        vals = move._vita_credit_note_vals(
            credit_note.get("number") or credit_note["id"], self._vita_invoice_lines_vals(credit_note, lines, currency)
        )
        odoo_credit_note = Move.create(dict(vals, vita_stripe_credit_note_id=credit_note["id"]))
        odoo_credit_note._vita_match_stripe_amounts(credit_note, self._vita_tax_amounts(credit_note, currency))
        odoo_credit_note.action_post()
        for refund_id, amount in credit_note_refunds(credit_note):
            if not self._vita_refund_booked(refund_id):
                odoo_credit_note._vita_register_refund(
                    from_stripe_amount(amount, currency), refund_id, credit_note.get("created")
                )
        self._vita_note_on(
            [move, odoo_credit_note],
            self.env._(
                "Stripe credit note %(credit_note)s: %(amount)s credited on %(invoice)s.",
                credit_note=credit_note.get("number") or credit_note["id"],
                amount=currency.format(odoo_credit_note.amount_total),
                invoice=move.name,
            ),
        )
        return odoo_credit_note

    def _vita_book_refund(self, move, refund_id, amount, refunded_at, credit_notes=None):
        """A refund of ``move`` (Stripe minor units): booked with the
        credit note that lists it if Stripe has one, else as an Odoo credit
        note of its own (whole invoice: the exact reversal; part of it:
        every line in proportion). Empty when already booked."""
        self.ensure_one()
        self._vita_lock_stripe_invoice(move.vita_stripe_invoice_id)
        if self._vita_refund_booked(refund_id):
            return self.env["account.move"]
        if credit_notes is None:
            credit_notes = self._vita_gateway().list_credit_notes(move.vita_stripe_invoice_id)
        for credit_note in credit_notes:
            if credit_note.get("status") != "void" and refund_id in dict(credit_note_refunds(credit_note)):
                return self._vita_book_credit_note(move, credit_note)
        return self._vita_book_once(refund_id, self._vita_create_refund, move, refund_id, amount, refunded_at)

    def _vita_create_refund(self, move, refund_id, amount, refunded_at):
        value = from_stripe_amount(amount, move.currency_id)
        odoo_credit_note = move.sudo()._vita_credit_note_for_amount(value, refund_id)
        odoo_credit_note._vita_register_refund(value, refund_id, refunded_at)
        self._vita_note_on(
            [move, odoo_credit_note],
            self.env._(
                "Stripe refunded %(amount)s of %(invoice)s (%(refund)s).",
                amount=move.currency_id.format(value),
                invoice=move.name,
                refund=refund_id,
            ),
        )
        return odoo_credit_note

    def _vita_book_pre_payment_credit_notes(self, move):
        """Credit notes Stripe issued before the payment lowered what it
        charged: booked with the invoice and reconciled with it, so the
        invoice ends paid by payment + credit notes."""
        self.ensure_one()
        for credit_note in self._vita_gateway().list_credit_notes(move.vita_stripe_invoice_id):
            if credit_note.get("status") == "void" or not credit_note.get("pre_payment_amount"):
                continue
            odoo_credit_note = self._vita_book_credit_note(move, credit_note)
            receivables = (move | odoo_credit_note).line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
            )
            if odoo_credit_note and len(receivables) > 1:
                receivables.reconcile()

    def _vita_refund_booked(self, refund_id):
        return bool(
            self.env["account.payment"]
            .sudo()
            .search_count([("company_id", "=", self.company_id.id), ("vita_stripe_refund_id", "=", refund_id)], limit=1)
        )

    # ------------------------------------------------------------------
    # Disputes
    # ------------------------------------------------------------------

    def _vita_dispute_opened(self, move, dispute):
        """Chatter on the subscription and the invoice, and one activity
        for the responsible, due when Stripe wants the evidence."""
        self.ensure_one()
        currency = move.currency_id
        self._vita_note_on(
            [self, move],
            self.env._(
                "The customer disputed %(amount)s of %(invoice)s (Stripe dispute %(dispute)s, reason: %(reason)s). "
                "Answer with evidence in the Stripe dashboard.",
                amount=currency.format(from_stripe_amount(dispute.get("amount") or 0, currency)),
                invoice=move.name,
                dispute=dispute["id"],
                reason=dispute.get("reason") or "-",
            ),
        )
        summary = self._vita_dispute_summary(dispute)
        if not self.activity_ids.filtered(lambda activity: activity.summary == summary):
            due_by = (dispute.get("evidence_details") or {}).get("due_by")
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=stripe_date(due_by) or fields.Date.context_today(self),
                summary=summary,
                note=self.env._("Submit the evidence for invoice %s in the Stripe dashboard.", move.name),
                user_id=(self.user_id or self.env.ref("base.user_root")).id,
            )

    def _vita_dispute_closed(self, move, dispute):
        """Lost: the disputed amount goes back like a refund (booked once
        per dispute). Won (or any other outcome): a note. The dispute's
        activity is done either way."""
        self.ensure_one()
        status = dispute.get("status")
        if status == "lost":
            self._vita_book_refund(move, dispute["id"], dispute.get("amount") or 0, dispute.get("created"), [])
        self._vita_note_on(
            [self, move],
            self.env._(
                "Stripe dispute %(dispute)s on %(invoice)s closed: %(status)s.",
                dispute=dispute["id"],
                invoice=move.name,
                status=status,
            ),
        )
        summary = self._vita_dispute_summary(dispute)
        activities = self.activity_ids.filtered(lambda activity: activity.summary == summary)
        if activities:
            activities.action_feedback(feedback=status)

    def _vita_dispute_summary(self, dispute):
        return self.env._("Dispute %s", dispute["id"])

    # ------------------------------------------------------------------
    # Invoices Stripe gave up on
    # ------------------------------------------------------------------

    def _vita_invoice_closed_unpaid(self, stripe_invoice, event_type):
        """Voided or uncollectible, and never booked in Odoo (its company
        books at payment): nothing to reverse, the chatter keeps the fact.
        Booked ones are reversed or written off (vita_subscription_invoice.py)."""
        self.ensure_one()
        currency = self._vita_currency(stripe_invoice.get("currency"))
        values = {
            "invoice": stripe_invoice.get("number") or stripe_invoice.get("id"),
            "amount": currency.format(from_stripe_amount(stripe_invoice.get("amount_remaining") or 0, currency)),
        }
        if event_type == "invoice.voided":
            body = self.env._("Stripe voided invoice %(invoice)s (%(amount)s): it will not be charged.", **values)
        else:
            body = self.env._(
                "Stripe marked invoice %(invoice)s (%(amount)s) uncollectible: it stopped trying to charge it.",
                **values,
            )
        self.message_post(body=body)

    @api.model
    def _vita_note_on(self, records, body):
        """The same note in the chatter of each of ``records`` (a list of
        records of any models)."""
        for record in records:
            record.message_post(body=body)
