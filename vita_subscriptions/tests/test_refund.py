from odoo.tests import tagged

from ..models.vita_stripe_event import MAX_ATTEMPTS
from .webhook_common import (
    WebhookCase,
    charge,
    credit_note,
    dispute,
    event,
    invoice,
    invoice_line,
    listed,
    refund,
    unique,
)

INVOICE_PAYMENTS = ("GET", "/v1/invoice_payments")
CREDIT_NOTES = ("GET", "/v1/credit_notes")
REFUNDS = ("GET", "/v1/refunds")


class InvoiceCase(WebhookCase):
    """A subscription with 20 % VAT and its Stripe invoice of 25.00 + 5.00
    (not delivered yet); payments go to the company's bank journal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.vita_journal_id = cls.env["account.journal"].search(
            [("company_id", "=", cls.env.company.id), ("type", "=", "bank")], limit=1
        )

    def setUp(self):
        super().setUp()
        self.subscription = self.linked(tax_rate_ids=[self.vat.id])
        line = invoice_line(2500, tax_rates=[(self.vat.stripe_id, 500)])
        self.stripe_invoice = invoice(self.subscription.stripe_subscription_id, [line])


@tagged("post_install", "-at_install")
class TestRefunds(InvoiceCase):
    """Credit notes, refunds and disputes of a booked invoice of 25.00 +
    20 % VAT (30.00), paid through PaymentIntent ``pi``."""

    def setUp(self):
        super().setUp()
        self.assertEqual(self.receive(event("invoice.paid", self.stripe_invoice)).state, "processed")
        self.move = self.subscription.invoice_ids
        self.pi = unique("pi")

    def stripe(self, credit_notes=(), refunds=None):
        """Recorded Stripe: the PaymentIntent paid the invoice; its credit
        notes and the charge's refunds."""
        payment = {"id": unique("inpay"), "object": "invoice_payment", "invoice": self.stripe_invoice["id"]}
        responses = {
            INVOICE_PAYMENTS: listed("/v1/invoice_payments", [payment]),
            CREDIT_NOTES: listed("/v1/credit_notes", list(credit_notes)),
        }
        if refunds is not None:
            responses[REFUNDS] = listed("/v1/refunds", refunds)
        return self.recorded_stripe(responses)

    def handled(self, stripe_event, state="processed"):
        record = self.receive(stripe_event)
        self.assertEqual(record.state, state, record.error)
        return record

    def credit_notes(self):
        return self.env["account.move"].search([("reversed_entry_id", "=", self.move.id)])

    def assert_refunded(self, odoo_credit_note, amount, refund_id):
        self.assertEqual(odoo_credit_note.move_type, "out_refund")
        self.assertEqual(odoo_credit_note.state, "posted")
        self.assertEqual(odoo_credit_note.reversed_entry_id, self.move)
        self.assertEqual(odoo_credit_note.vita_subscription_id, self.subscription)
        payment = self.env["account.payment"].search([("vita_stripe_refund_id", "=", refund_id)])
        self.assertEqual((payment.payment_type, payment.amount), ("outbound", amount))
        self.assertEqual(payment.journal_id, self.env.company.vita_journal_id)

    def test_full_refund_reverses_the_invoice(self):
        stripe_refund = refund(3000, payment_intent=self.pi)
        with self.stripe() as stripe_http:
            self.handled(event("refund.created", stripe_refund))
        self.assertIn(self.pi, str(stripe_http.requests[0]["params"]))
        odoo_credit_note = self.credit_notes()
        self.assertEqual((odoo_credit_note.amount_untaxed, odoo_credit_note.amount_tax), (25.0, 5.0))
        self.assert_refunded(odoo_credit_note, 30.0, stripe_refund["id"])
        self.assertEqual(odoo_credit_note.amount_residual, 0.0)

    def test_partial_refund_credits_the_vat_in_proportion(self):
        stripe_refund = refund(1000, payment_intent=self.pi)
        with self.stripe():
            self.handled(event("refund.created", stripe_refund))
        odoo_credit_note = self.credit_notes()
        self.assertEqual(
            (odoo_credit_note.amount_untaxed, odoo_credit_note.amount_tax, odoo_credit_note.amount_total),
            (8.33, 1.67, 10.0),
        )
        self.assert_refunded(odoo_credit_note, 10.0, stripe_refund["id"])

    def test_charge_refunded_then_refund_created_books_once(self):
        stripe_refund = refund(1200, payment_intent=self.pi)
        with self.stripe(refunds=[stripe_refund]):
            self.handled(event("charge.refunded", charge(3000, [stripe_refund], payment_intent=self.pi)))
        with self.recorded_stripe({}) as stripe_http:
            record = self.handled(event("refund.created", stripe_refund), "ignored")
        self.assertFalse(stripe_http.requests, "a booked refund asks Stripe nothing")
        self.assertIn("already booked", record.error)
        self.assertEqual(len(self.credit_notes()), 1)

    def test_credit_note_with_lines_and_its_refund(self):
        """The credit note is the source of truth: its lines and taxes make
        the Odoo credit note, its refund the outgoing payment; the refund
        events that follow book nothing more."""
        refund_id = unique("re")
        note = credit_note(
            self.stripe_invoice["id"],
            [
                invoice_line(1000, tax_rates=[(self.vat.stripe_id, 200)], description="Unused days"),
                invoice_line(500, tax_rates=[(self.vat.stripe_id, 100)], description="Goodwill"),
            ],
            refunds=[(refund_id, 1800)],
        )
        self.handled(event("credit_note.created", note))
        odoo_credit_note = self.credit_notes()
        self.assertEqual(odoo_credit_note.vita_stripe_credit_note_id, note["id"])
        self.assertEqual(odoo_credit_note.invoice_line_ids.mapped("name"), ["Unused days", "Goodwill"])
        self.assertEqual(
            (odoo_credit_note.amount_untaxed, odoo_credit_note.amount_tax, odoo_credit_note.amount_total),
            (15.0, 3.0, 18.0),
        )
        self.assert_refunded(odoo_credit_note, 18.0, refund_id)
        with self.stripe(credit_notes=[note], refunds=[refund(1800, refund_id=refund_id)]):
            self.handled(event("refund.created", refund(1800, refund_id=refund_id, payment_intent=self.pi)), "ignored")
            self.handled(event("credit_note.created", note), "ignored")
        self.assertEqual(len(self.credit_notes()), 1)

    def test_refund_first_books_the_credit_note_that_lists_it(self):
        refund_id = unique("re")
        note = credit_note(
            self.stripe_invoice["id"],
            [invoice_line(2500, tax_rates=[(self.vat.stripe_id, 500)])],
            refunds=[(refund_id, 3000)],
        )
        with self.stripe(credit_notes=[note]):
            self.handled(event("refund.created", refund(3000, refund_id=refund_id, payment_intent=self.pi)))
        self.handled(event("credit_note.created", note), "ignored")
        odoo_credit_note = self.credit_notes()
        self.assertEqual(odoo_credit_note.vita_stripe_credit_note_id, note["id"])
        self.assert_refunded(odoo_credit_note, 30.0, refund_id)

    def test_credit_to_the_customer_balance_stays_an_open_credit(self):
        note = credit_note(self.stripe_invoice["id"], [invoice_line(500, tax_rates=[(self.vat.stripe_id, 100)])])
        self.handled(event("credit_note.created", note))
        odoo_credit_note = self.credit_notes()
        self.assertEqual((odoo_credit_note.amount_total, odoo_credit_note.amount_residual), (6.0, 6.0))

    def test_refund_delivered_again_query_count(self):
        """A refund already booked is acknowledged without Stripe and in a
        constant number of queries."""
        stripe_refund = refund(1000, payment_intent=self.pi)
        with self.stripe():
            self.handled(event("refund.created", stripe_refund))
        # 8, + 3 for the queue (lane trigger, claim, the claim that finds the queue empty)
        with self.recorded_stripe({}), self.assertQueryCount(11):
            self.handled(event("refund.created", stripe_refund), "ignored")

    def test_unknown_invoice_is_ignored_with_the_reason(self):
        note = credit_note(unique("in"), [invoice_line(500)])
        record = self.handled(event("credit_note.created", note), "ignored")
        self.assertIn("unknown to Odoo", record.error)
        self.assertFalse(self.credit_notes())

    def test_failed_refund_books_nothing(self):
        self.handled(event("refund.created", refund(3000, status="failed")), "ignored")
        self.assertFalse(self.credit_notes())

    def test_dispute_lost(self):
        opened = dispute(3000, payment_intent=self.pi)
        with self.stripe():
            self.handled(event("charge.dispute.created", opened))
            self.handled(event("charge.dispute.created", opened | {"id": opened["id"]}))
        activities = self.subscription.activity_ids
        self.assertEqual(len(activities), 1)
        self.assertIn(opened["id"], activities.summary)
        self.assertEqual(activities.user_id, self.subscription.user_id)
        for record in (self.subscription, self.move):
            self.assertIn(opened["id"], "".join(record.message_ids.mapped("body")))
        with self.stripe():
            self.handled(event("charge.dispute.closed", dict(opened, status="lost")))
            self.handled(event("charge.dispute.closed", dict(opened, status="lost")))
        self.assertFalse(self.subscription.activity_ids)
        odoo_credit_note = self.credit_notes()
        self.assertEqual(len(odoo_credit_note), 1)
        self.assert_refunded(odoo_credit_note, 30.0, opened["id"])

    def test_dispute_won_is_a_note(self):
        opened = dispute(3000, payment_intent=self.pi)
        with self.stripe():
            self.handled(event("charge.dispute.created", opened))
            self.handled(event("charge.dispute.closed", dict(opened, status="won")))
        self.assertFalse(self.credit_notes())
        self.assertFalse(self.subscription.activity_ids)
        self.assertIn("won", self.move.message_ids[0].body)

    def test_voided_and_uncollectible_are_noted(self):
        """Booked at payment, these unpaid invoices never were: noted only
        (booked at finalization: test_invoice_of_record.py)."""
        self.env.company.vita_invoice_booking = "paid"
        for event_type in ("invoice.voided", "invoice.marked_uncollectible"):
            with self.subTest(event_type=event_type):
                unpaid = invoice(self.subscription.stripe_subscription_id, [invoice_line(2500)], status="void")
                self.handled(event(event_type, unpaid))
                self.assertIn(unpaid["number"], self.subscription.message_ids[0].body)
                self.assertEqual(self.subscription.invoice_ids, self.move)


@tagged("post_install", "-at_install")
class TestPrePaymentCreditNote(WebhookCase):
    def test_credit_note_before_payment_is_booked_with_the_invoice(self):
        """Stripe took a 6.00 credit note off a 30.00 invoice and charged
        24.00: one payment of 24.00, the credit note reconciled, the
        invoice paid; the credit note's own event later books nothing."""
        subscription = self.linked(tax_rate_ids=[self.vat.id])
        stripe_invoice = invoice(
            subscription.stripe_subscription_id,
            [invoice_line(2500, tax_rates=[(self.vat.stripe_id, 500)])],
            pre_payment_credit=600,
        )
        note = credit_note(
            stripe_invoice["id"], [invoice_line(500, tax_rates=[(self.vat.stripe_id, 100)])], pre_payment=True
        )
        with self.recorded_stripe({CREDIT_NOTES: listed("/v1/credit_notes", [note])}):
            record = self.receive(event("invoice.paid", stripe_invoice))
        self.assertEqual(record.state, "processed", record.error)
        move = subscription.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        odoo_credit_note = self.env["account.move"].search([("reversed_entry_id", "=", move.id)])
        self.assertEqual((move.amount_total, move.amount_residual), (30.0, 0.0))
        self.assertEqual((odoo_credit_note.amount_total, odoo_credit_note.amount_residual), (6.0, 0.0))
        payments = move.matched_payment_ids or move._get_reconciled_payments()
        self.assertEqual(payments.mapped("amount"), [24.0])
        self.assertEqual(self.receive(event("credit_note.created", note)).state, "ignored")


@tagged("post_install", "-at_install")
class TestMoneyBeforeItsInvoice(InvoiceCase):
    """A refund, credit note or dispute delivered before Odoo booked its
    invoice (its invoice.paid pending, failing or on its way) waits for it
    through every cron run, and is booked exactly once when it is."""

    def setUp(self):
        super().setUp()
        self.pi = unique("pi")

    def stripe(self, credit_notes=(), refunds=(), stripe_invoice=None):
        """Recorded Stripe: the PaymentIntent paid the invoice, which Stripe
        returns as it is; its credit notes and refunds."""
        stripe_invoice = stripe_invoice or self.stripe_invoice
        payment = {"id": unique("inpay"), "object": "invoice_payment", "invoice": stripe_invoice["id"]}
        return self.recorded_stripe(
            {
                INVOICE_PAYMENTS: listed("/v1/invoice_payments", [payment]),
                ("GET", f"/v1/invoices/{stripe_invoice['id']}"): (200, stripe_invoice),
                CREDIT_NOTES: listed("/v1/credit_notes", list(credit_notes)),
                REFUNDS: listed("/v1/refunds", list(refunds)),
            }
        )

    def early(self, *stripe_events):
        """Delivered before invoice.paid, then every cron of the queue run:
        each event still waits for the invoice, none dropped."""
        records = [self.receive(stripe_event) for stripe_event in stripe_events]
        self.Event._cron_retry_failed()
        self.run_queue()
        for record in records:
            self.assertEqual(record.state, "received", record.error)
            self.assertEqual(record.waiting_for_invoice, self.stripe_invoice["id"])
            self.assertTrue(record.next_attempt)
            self.assertEqual(record.subscription_id, self.subscription)
        self.assertFalse(self.subscription.invoice_ids)
        return records

    def paid(self):
        record = self.receive(event("invoice.paid", self.stripe_invoice))
        self.assertEqual(record.state, "processed", record.error)
        return self.subscription.invoice_ids.filtered(lambda move: move.move_type == "out_invoice")

    def credit_notes(self, move):
        return self.env["account.move"].search([("reversed_entry_id", "=", move.id)])

    def refund_payments(self, refund_id):
        return self.env["account.payment"].search([("vita_stripe_refund_id", "=", refund_id)])

    def test_refund_and_charge_refunded_before_the_invoice(self):
        stripe_refund = refund(1000, payment_intent=self.pi)
        with self.stripe(refunds=[stripe_refund]):
            early = self.early(
                event("refund.created", stripe_refund),
                event("charge.refunded", charge(3000, [stripe_refund], payment_intent=self.pi)),
            )
            move = self.paid()
        self.assertEqual(sorted(record.state for record in early), ["ignored", "processed"], "either books it")
        self.assertEqual(self.credit_notes(move).amount_total, 10.0)
        self.assertEqual(len(self.refund_payments(stripe_refund["id"])), 1, "booked once")

    def test_credit_note_before_the_invoice(self):
        refund_id = unique("re")
        note = credit_note(
            self.stripe_invoice["id"],
            [invoice_line(2500, tax_rates=[(self.vat.stripe_id, 500)])],
            refunds=[(refund_id, 3000)],
        )
        with self.stripe(credit_notes=[note]):
            [early] = self.early(event("credit_note.created", note))
            move = self.paid()
        self.assertEqual(early.state, "processed", early.error)
        odoo_credit_note = self.credit_notes(move)
        self.assertEqual(odoo_credit_note.vita_stripe_credit_note_id, note["id"])
        self.assertEqual(odoo_credit_note.amount_total, 30.0)
        self.assertEqual(len(self.refund_payments(refund_id)), 1)

    def test_dispute_before_the_invoice(self):
        opened = dispute(3000, payment_intent=self.pi)
        with self.stripe():
            [early] = self.early(event("charge.dispute.created", opened))
            move = self.paid()
        self.assertEqual(early.state, "processed", early.error)
        self.assertIn(opened["id"], self.subscription.activity_ids.summary)
        self.assertIn(opened["id"], "".join(move.message_ids.mapped("body")))

    def test_refund_of_an_invoice_odoo_never_books_is_ignored_at_once(self):
        """A one-off Stripe invoice (no subscription): nothing to wait for."""
        one_off = {**self.stripe_invoice, "parent": None}
        with self.stripe(stripe_invoice=one_off):
            record = self.receive(event("refund.created", refund(1000, payment_intent=self.pi)))
        self.assertEqual(record.state, "ignored")
        self.assertIn("unknown to Odoo", record.error)
        self.assertFalse(record.waiting_for_invoice)

    def test_a_wait_is_bounded_and_the_booking_still_wakes_it(self):
        """An invoice that is not booked within the retries: the refund
        fails where it is seen ("Needs attention"), and is still booked
        when the invoice finally is (fixed, or by the reconciliation)."""
        stripe_refund = refund(1000, payment_intent=self.pi)
        with self.stripe(refunds=[stripe_refund]):
            [record] = self.early(event("refund.created", stripe_refund))
            record.write({"attempts": MAX_ATTEMPTS - 1, "next_attempt": "2000-01-01 00:00:00"})
            self.run_queue()
            self.assertEqual((record.state, record.next_attempt), ("failed", False))
            self.assertIn(self.stripe_invoice["id"], record.error)
            move = self.paid()
        self.assertEqual(record.state, "processed", record.error)
        self.assertEqual(self.credit_notes(move).amount_total, 10.0)
