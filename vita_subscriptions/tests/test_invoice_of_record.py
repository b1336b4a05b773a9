import json
import time
from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.modules.migration import load_script
from odoo.tests import HttpCase, tagged

from ..controllers.portal_invoice import VitaInvoicePortal
from ..utils import stripe_date
from . import stripe_payloads as payloads
from .webhook_common import WebhookCase, event, invoice, invoice_line, listed, refund, unique

DAY = 86400


def paid(stripe_invoice, amount_paid=None, paid_at=None):
    """The same Stripe invoice once paid (``invoice.paid``'s payload)."""
    amount_paid = stripe_invoice["amount_due"] if amount_paid is None else amount_paid
    transitions = dict(stripe_invoice["status_transitions"], paid_at=paid_at or int(time.time()))
    return dict(
        stripe_invoice, status="paid", amount_paid=amount_paid, amount_remaining=0, status_transitions=transitions
    )


def with_status(stripe_invoice, status, transition):
    """The same open Stripe invoice voided or marked uncollectible."""
    transitions = dict(stripe_invoice["status_transitions"], **{transition: int(time.time())})
    return dict(stripe_invoice, status=status, status_transitions=transitions)


def invoice_payment(stripe_invoice, amount, payment_id=None):
    """One payment of an invoice (API 2025-03-31.basil and later).
    https://docs.stripe.com/api/invoice-payment/object"""
    now = int(time.time())
    return {
        "id": payment_id or unique("inpay"),
        "object": "invoice_payment",
        "amount_paid": amount,
        "amount_requested": amount,
        "created": now,
        "currency": stripe_invoice["currency"],
        "invoice": stripe_invoice["id"],
        "is_default": False,
        "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": unique("pi")},
        "status": "paid",
        "status_transitions": {"canceled_at": None, "paid_at": now},
    }


class InvoiceOfRecordCase(WebhookCase):
    """A company that books Stripe invoices at finalization, and a Stripe
    invoice of 25.00 + 20 % VAT (30.00) finalized three days ago, charged
    automatically (due that day), not paid yet."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        company.vita_invoice_booking = "finalized"
        company.vita_journal_id = cls.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
        )
        cls.bad_debt = cls.env["account.account"].create(
            {"name": "Bad debts (Stripe)", "code": "654VITA", "account_type": "expense"}
        )

    def setUp(self):
        super().setUp()
        self.subscription = self.linked(tax_rate_ids=[self.vat.id], contact_id=self.contact.id)
        self.finalized_at = int(time.time()) - 3 * DAY
        line = invoice_line(2500, tax_rates=[(self.vat.stripe_id, 500)])
        self.stripe_invoice = invoice(
            self.subscription.stripe_subscription_id,
            [line],
            status="open",
            status_transitions={"finalized_at": self.finalized_at, "paid_at": None},
            collection_method="charge_automatically",
            due_date=None,
        )

    def receive(self, stripe_event):
        """As the endpoint records it: through the company's Stripe provider."""
        record = self.Event._vita_receive(stripe_event, json.dumps(stripe_event), provider=self.provider)
        self.run_queue()
        return record

    def stripe(self, *stripe_invoices, more=None):
        """Recorded Stripe: the update that gives each invoice Odoo's
        number, and ``more`` responses."""
        answers = {("POST", f"/v1/invoices/{si['id']}"): (200, si) for si in stripe_invoices or [self.stripe_invoice]}
        return self.recorded_stripe({**answers, **(more or {})})

    def deliver(self, event_type, data_object, state="processed", more=None):
        with self.stripe(more=more) as stripe_http:
            record = self.receive(event(event_type, data_object))
        self.assertEqual(record.state, state, record.error)
        self.stripe_requests = stripe_http.requests
        return record

    def move(self):
        return self.env["account.move"].search([("vita_stripe_invoice_id", "=", self.stripe_invoice["id"])])

    def payments(self, move):
        return move.matched_payment_ids.sorted("amount")

    def finalize(self):
        self.deliver("invoice.finalized", self.stripe_invoice)
        move = self.move()
        self.assertEqual(len(move), 1)
        return move

    def assert_open(self, move, residual):
        self.assertEqual((move.state, move.move_type), ("posted", "out_invoice"))
        self.assertIn(move.payment_state, ("not_paid", "partial"))
        self.assertEqual(move.amount_residual, residual)

    def assert_paid(self, move, payment_amounts):
        self.assertIn(move.payment_state, ("paid", "in_payment"))
        self.assertEqual(move.amount_residual, 0.0)
        self.assertEqual(self.payments(move).mapped("amount"), payment_amounts)
        self.assertEqual(self.payments(move).journal_id, self.env.company.vita_journal_id)


@tagged("post_install", "-at_install")
class TestInvoiceOfRecord(InvoiceOfRecordCase):
    def test_finalized_then_paid_is_one_invoice_open_then_paid(self):
        move = self.finalize()
        self.assert_open(move, 30.0)
        self.assertEqual((move.amount_untaxed, move.amount_tax, move.amount_total), (25.0, 5.0, 30.0))
        self.assertEqual(move.invoice_date, stripe_date(self.finalized_at))
        self.assertEqual(move.invoice_date_due, move.invoice_date, "charged automatically: due when issued")
        self.assertLess(move.invoice_date_due, fields.Date.context_today(move), "overdue until Stripe collects it")
        self.assertEqual(move.payment_reference, self.stripe_invoice["number"])
        self.assertEqual(move.vita_stripe_invoice_url, self.stripe_invoice["hosted_invoice_url"])
        self.assertEqual(move.vita_subscription_id, self.subscription)
        # Stripe's invoice names Odoo's.
        (request,) = self.stripe_requests
        self.assertEqual((request["method"], request["path"]), ("POST", f"/v1/invoices/{self.stripe_invoice['id']}"))
        self.assertEqual(request["params"], {"metadata[odoo_invoice]": move.name})

        paid_at = int(time.time()) - DAY
        self.deliver("invoice.paid", paid(self.stripe_invoice, paid_at=paid_at))
        self.assertEqual(self.subscription.invoice_ids, move, "no second invoice")
        self.assert_paid(move, [30.0])
        self.assertEqual(self.payments(move).date, stripe_date(paid_at))
        self.assertFalse(self.stripe_requests, "paying asks Stripe nothing")

        # invoice.payment_succeeded, and Stripe redelivering as a new event.
        self.deliver("invoice.payment_succeeded", paid(self.stripe_invoice))
        self.deliver("invoice.paid", paid(self.stripe_invoice))
        self.assert_paid(move, [30.0])

    def test_due_date_of_an_invoice_sent_for_payment(self):
        due = self.finalized_at + 30 * DAY
        self.stripe_invoice.update(collection_method="send_invoice", due_date=due)
        move = self.finalize()
        self.assertEqual(move.invoice_date_due, stripe_date(due))

    def test_paid_without_finalization_books_and_pays(self):
        self.deliver("invoice.paid", paid(self.stripe_invoice))
        move = self.move()
        self.assertEqual(move.amount_total, 30.0)
        self.assert_paid(move, [30.0])
        self.assertEqual(self.stripe_requests[0]["params"], {"metadata[odoo_invoice]": move.name})

    def test_booked_at_payment_books_nothing_at_finalization(self):
        self.env.company.vita_invoice_booking = "paid"
        with self.recorded_stripe({}) as stripe_http:
            record = self.receive(event("invoice.finalized", self.stripe_invoice))
        self.assertEqual(record.state, "ignored")
        self.assertIn("when they are paid", record.error)
        self.assertFalse(self.move())
        self.assertFalse(stripe_http.requests)
        self.deliver("invoice.paid", paid(self.stripe_invoice))
        self.assert_paid(self.move(), [30.0])

    def test_switching_the_setting_never_books_twice(self):
        move = self.finalize()
        self.env.company.vita_invoice_booking = "paid"
        self.deliver("invoice.paid", paid(self.stripe_invoice))
        self.assertEqual(self.move(), move)
        self.assert_paid(move, [30.0])
        self.env.company.vita_invoice_booking = "finalized"
        self.deliver("invoice.finalized", self.stripe_invoice)  # a late redelivery
        self.assertEqual(self.subscription.invoice_ids, move)
        self.assert_paid(move, [30.0])

    def test_zero_total_books_nothing(self):
        self.stripe_invoice = invoice(self.subscription.stripe_subscription_id, [invoice_line(0)], status="open")
        record = self.deliver("invoice.finalized", self.stripe_invoice, state="ignored")
        self.assertIn("zero", record.error)
        self.assertFalse(self.subscription.invoice_ids)

    def test_duplicate_and_late_finalization_change_nothing(self):
        move = self.finalize()
        self.deliver("invoice.finalized", self.stripe_invoice)
        self.assertEqual(self.move(), move)
        self.assertFalse(self.stripe_requests, "Stripe is told Odoo's number once")
        self.deliver("invoice.paid", paid(self.stripe_invoice))
        self.deliver("invoice.finalized", self.stripe_invoice)
        self.assertEqual(self.subscription.invoice_ids, move)
        self.assert_paid(move, [30.0])

    def test_paid_before_finalized_is_handled_once(self):
        """Out of order: the finalization is handled after the payment."""
        self.deliver("invoice.paid", paid(self.stripe_invoice))
        move = self.move()
        self.deliver("invoice.finalized", self.stripe_invoice)
        self.assertEqual(self.subscription.invoice_ids, move)
        self.assert_paid(move, [30.0])

    def test_failed_payment_leaves_the_invoice_open_and_overdue(self):
        move = self.finalize()
        stripe_subscription = payloads.subscription(
            subscription_id=self.subscription.stripe_subscription_id, status="past_due"
        )
        subscription_path = ("GET", f"/v1/subscriptions/{self.subscription.stripe_subscription_id}")
        with self.recorded_stripe({subscription_path: (200, stripe_subscription)}):
            record = self.receive(event("invoice.payment_failed", self.stripe_invoice))
        self.assertEqual(record.state, "processed", record.error)
        self.assert_open(move, 30.0)
        self.assertEqual(self.subscription.state, "past_due")
        overdue = self.env["account.move"].search(
            [("id", "=", move.id), ("invoice_date_due", "<", fields.Date.context_today(move))]
        )
        self.assertEqual(overdue, move)
        self.assertEqual(len(self.subscription.activity_ids), 1)
        email = self.subscription.message_ids.filtered(lambda message: message.message_type == "comment")[:1]
        self.assertIn(self.contact, email.partner_ids)
        # Stripe's retry succeeds: the same invoice is paid.
        active = dict(stripe_subscription, status="active")
        self.deliver("invoice.paid", paid(self.stripe_invoice), more={subscription_path: (200, active)})
        self.assert_paid(move, [30.0])
        self.assertFalse(self.subscription.activity_ids)

    def test_voided_invoice_is_reversed_by_a_credit_note(self):
        move = self.finalize()
        voided = with_status(self.stripe_invoice, "void", "voided_at")
        self.deliver("invoice.voided", voided)
        credit_note = self.env["account.move"].search([("reversed_entry_id", "=", move.id)])
        self.assertEqual((credit_note.move_type, credit_note.state), ("out_refund", "posted"))
        self.assertEqual(
            (credit_note.amount_untaxed, credit_note.amount_tax, credit_note.amount_total), (25.0, 5.0, 30.0)
        )
        self.assertEqual(credit_note.vita_subscription_id, self.subscription)
        self.assertIn(self.stripe_invoice["number"], credit_note.ref)
        self.assertEqual((move.payment_state, move.amount_residual), ("reversed", 0.0))
        self.assertEqual(credit_note.amount_residual, 0.0)
        self.deliver("invoice.voided", voided)
        self.assertEqual(len(self.env["account.move"].search([("reversed_entry_id", "=", move.id)])), 1)

    def test_voided_invoice_never_booked_is_noted(self):
        self.deliver("invoice.voided", with_status(self.stripe_invoice, "void", "voided_at"))
        self.assertFalse(self.move())
        self.assertIn("voided", self.subscription.message_ids[:1].body)

    def bad_debt_balance(self):
        lines = self.env["account.move.line"].search(
            [("account_id", "=", self.bad_debt.id), ("parent_state", "=", "posted")]
        )
        return sum(lines.mapped("amount_currency"))  # in the invoice's currency

    def test_uncollectible_is_written_off_then_a_payment_reopens_it(self):
        self.env.company.vita_bad_debt_account_id = self.bad_debt
        move = self.finalize()
        uncollectible = with_status(self.stripe_invoice, "uncollectible", "marked_uncollectible_at")
        self.deliver("invoice.marked_uncollectible", uncollectible)
        write_off = move.vita_bad_debt_move_id
        self.assertEqual((write_off.state, write_off.move_type), ("posted", "entry"))
        self.assertEqual(move.amount_residual, 0.0)
        self.assertEqual(self.bad_debt_balance(), 30.0, "the whole receivable, VAT included, as a bad debt")
        self.assertEqual((move.amount_untaxed, move.amount_tax), (25.0, 5.0), "revenue and VAT as invoiced")
        self.deliver("invoice.marked_uncollectible", uncollectible)
        self.assertEqual(self.bad_debt_balance(), 30.0, "written off once")

        # Stripe lets the customer pay it after all.
        self.deliver("invoice.paid", paid(uncollectible))
        self.assertEqual(self.subscription.invoice_ids, move)
        self.assertFalse(move.vita_bad_debt_move_id)
        self.assertEqual(self.bad_debt_balance(), 0.0, "the write-off is reversed")
        self.assertEqual(self.payments(move).mapped("amount"), [30.0])
        self.assertEqual(move.amount_residual, 0.0)

    def test_uncollectible_partly_paid_writes_off_the_rest_again(self):
        self.env.company.vita_bad_debt_account_id = self.bad_debt
        move = self.finalize()
        self.deliver(
            "invoice.marked_uncollectible", with_status(self.stripe_invoice, "uncollectible", "marked_uncollectible_at")
        )
        self.deliver("invoice_payment.paid", invoice_payment(self.stripe_invoice, 1000))
        self.assertEqual(self.payments(move).mapped("amount"), [10.0])
        self.assertTrue(move.vita_bad_debt_move_id)
        self.assertEqual(move.amount_residual, 0.0)
        self.assertEqual(self.bad_debt_balance(), 20.0)

    def test_uncollectible_without_a_bad_debt_account_fails_and_says_why(self):
        self.finalize()
        uncollectible = with_status(self.stripe_invoice, "uncollectible", "marked_uncollectible_at")
        record = self.deliver("invoice.marked_uncollectible", uncollectible, state="failed")
        self.assertIn("bad debt account", record.error)
        self.assertEqual(self.move().amount_residual, 30.0)

    def test_partial_payments_then_paid(self):
        move = self.finalize()
        first = invoice_payment(self.stripe_invoice, 1000)
        self.deliver("invoice_payment.paid", first)
        self.assert_open(move, 20.0)
        self.deliver("invoice_payment.paid", first, state="ignored")  # redelivered as a new event
        self.assert_open(move, 20.0)
        self.deliver("invoice_payment.paid", invoice_payment(self.stripe_invoice, 2000))
        self.assert_paid(move, [10.0, 20.0])
        self.deliver("invoice.paid", paid(self.stripe_invoice))
        self.assert_paid(move, [10.0, 20.0])
        self.assertEqual(self.payments(move).mapped("vita_stripe_payment_id")[0], first["id"])

    def test_paid_after_a_partial_payment_registers_the_rest(self):
        move = self.finalize()
        self.deliver("invoice_payment.paid", invoice_payment(self.stripe_invoice, 1000))
        self.deliver("invoice.paid", paid(self.stripe_invoice))
        self.assert_paid(move, [10.0, 20.0])
        # The last payment's own event, handled after invoice.paid.
        self.deliver("invoice_payment.paid", invoice_payment(self.stripe_invoice, 2000), state="ignored")
        self.assert_paid(move, [10.0, 20.0])

    def test_payment_before_its_invoice_is_booked_books_it_from_stripe(self):
        invoice_path = ("GET", f"/v1/invoices/{self.stripe_invoice['id']}")
        with self.stripe(more={invoice_path: (200, self.stripe_invoice)}) as stripe_http:
            record = self.receive(event("invoice_payment.paid", invoice_payment(self.stripe_invoice, 1000)))
        self.assertEqual(record.state, "processed", record.error)
        self.assertEqual([r["method"] for r in stripe_http.requests], ["GET", "POST"])
        move = self.move()
        self.assert_open(move, 20.0)
        self.deliver("invoice.finalized", self.stripe_invoice)
        self.assertEqual(self.subscription.invoice_ids, move)
        self.assert_open(move, 20.0)

    def test_payment_of_an_invoice_odoo_does_not_book_is_ignored(self):
        foreign = invoice("sub_unknown", [invoice_line(1000)], status="open")
        invoice_path = ("GET", f"/v1/invoices/{foreign['id']}")
        with self.recorded_stripe({invoice_path: (200, foreign)}):
            record = self.receive(event("invoice_payment.paid", invoice_payment(foreign, 1000)))
        self.assertEqual(record.state, "ignored")
        self.env.company.vita_invoice_booking = "paid"
        with self.recorded_stripe({}) as stripe_http:
            record = self.receive(event("invoice_payment.paid", invoice_payment(self.stripe_invoice, 1000)))
        self.assertEqual(record.state, "ignored")
        self.assertFalse(stripe_http.requests, "booked at payment: invoice.paid registers every payment")

    def test_reconciliation_books_open_invoices_and_pays_paid_ones(self):
        known = self.finalize()
        missed = invoice(
            self.subscription.stripe_subscription_id,
            [invoice_line(2500, tax_rates=[(self.vat.stripe_id, 500)])],
            status="open",
        )
        listing = listed("/v1/invoices", [missed, paid(self.stripe_invoice)])  # newest first
        with self.stripe(missed, more={("GET", "/v1/invoices"): listing}):
            booked = self.subscription._vita_reconcile_invoices(self.gateway())
        self.assertEqual(booked.vita_stripe_invoice_id, missed["id"])
        self.assert_open(booked, 30.0)
        self.assert_paid(known, [30.0])
        with self.stripe(missed, more={("GET", "/v1/invoices"): listing}):
            self.assertFalse(self.subscription._vita_reconcile_invoices(self.gateway()))
        self.assert_paid(known, [30.0])

    def test_stripe_invoice_carries_odoo_number(self):
        """Against localstripe: Stripe's own invoice of a subscription."""
        subscription = self.subscribed()
        (stripe_invoice,) = self.localstripe.get("invoices", subscription=subscription.stripe_subscription_id)["data"]
        self.assertEqual(self.receive(event("invoice.finalized", stripe_invoice)).state, "processed")
        move = subscription.invoice_ids
        self.assertEqual(move.amount_total, 25.0)
        stripe_metadata = self.localstripe.get(f"invoices/{stripe_invoice['id']}")["metadata"]
        self.assertEqual(stripe_metadata.get("odoo_invoice"), move.name)

    def test_refund_of_an_invoice_booked_at_finalization(self):
        move = self.finalize()
        self.deliver("invoice.paid", paid(self.stripe_invoice))
        stripe_refund = refund(1000)
        payment = {"id": unique("inpay"), "object": "invoice_payment", "invoice": self.stripe_invoice["id"]}
        responses = {
            ("GET", "/v1/invoice_payments"): listed("/v1/invoice_payments", [payment]),
            ("GET", "/v1/credit_notes"): listed("/v1/credit_notes", []),
        }
        with self.recorded_stripe(responses):
            record = self.receive(event("refund.created", stripe_refund))
        self.assertEqual(record.state, "processed", record.error)
        credit_note = self.env["account.move"].search([("reversed_entry_id", "=", move.id)])
        self.assertEqual((credit_note.state, credit_note.amount_total), ("posted", 10.0))
        self.assertEqual(self.subscription.invoice_ids, move | credit_note)

    def test_stripe_failing_to_take_the_number_does_not_stop_the_booking(self):
        with self.recorded_stripe({}):
            record = self.receive(event("invoice.finalized", self.stripe_invoice))
        self.assertEqual(record.state, "processed", record.error)
        move = self.move()
        self.assert_open(move, 30.0)
        self.assertIn("could not be given", move.message_ids[:1].body)

    def test_migration_keeps_existing_companies_booking_at_payment(self):
        new_company = self.env["res.company"].create({"name": "Booked at finalization"})
        self.assertEqual(new_company.vita_invoice_booking, "finalized")
        script = load_script("vita_subscriptions/migrations/18.0.1.3.0/post-migrate.py", "vita_booking")
        script.migrate(self.env.cr, "18.0.1.2.0")
        self.env.invalidate_all()
        self.assertEqual(set(self.env["res.company"].search([]).mapped("vita_invoice_booking")), {"paid"})

    def test_settings_are_the_companys(self):
        settings = self.env["res.config.settings"].create(
            {
                "vita_invoice_booking": "paid",
                "vita_invoice_email": True,
                "vita_bad_debt_account_id": self.bad_debt.id,
            }
        )
        settings.execute()
        company = self.env.company
        self.assertEqual(
            (company.vita_invoice_booking, company.vita_invoice_email, company.vita_bad_debt_account_id),
            ("paid", True, self.bad_debt),
        )


@tagged("post_install", "-at_install")
class TestInvoiceOfRecordSending(InvoiceOfRecordCase):
    """Odoo e-mails its own invoice when it is booked, with the Factur-X of
    Odoo's EDI for a French customer."""

    def setUp(self):
        super().setUp()
        france = self.env.ref("base.fr")
        self.env.company.write({"vita_invoice_email": True, "email": "billing@vita.example", "vat": "FR23334175221"})
        self.env.company.partner_id.write(
            {
                "country_id": france.id,
                "street": "1 rue de la Paix",
                "zip": "75002",
                "city": "Paris",
                "phone": "+33 1 23 45 67 89",
            }
        )
        self.customer.write(
            {
                "country_id": france.id,
                "vat": "FR74552081317",
                "street": "2 avenue Foch",
                "zip": "75116",
                "city": "Paris",
            }
        )

    def test_booked_invoice_is_emailed_with_its_facturx(self):
        self.assertEqual(self.customer.invoice_edi_format, "facturx")
        move = self.finalize()
        self.assertTrue(move.sending_data, "queued for Odoo's sending cron")
        self.env["account.move"]._cron_account_move_send()
        self.assertFalse(move.sending_data)
        self.assertTrue(move.is_move_sent)
        sent = move.message_ids.filtered(lambda message: message.message_type == "comment" and message.attachment_ids)
        self.assertEqual(len(sent), 1)
        self.assertIn(self.customer, sent.partner_ids)
        self.assertIn(move.ubl_cii_xml_id.name, sent.attachment_ids.mapped("name"), "the Factur-X XML is attached")
        self.assertTrue(move.ubl_cii_xml_id, "the customer's format: Factur-X")
        tree = etree.fromstring(move.ubl_cii_xml_id.raw)
        ns = {
            "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
            "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
        }
        self.assertEqual(tree.findtext("rsm:ExchangedDocument/ram:ID", namespaces=ns), move.name)
        self.assertEqual(tree.findtext(".//ram:GrandTotalAmount", namespaces=ns), "30.00")
        self.assertEqual(tree.findtext(".//ram:TaxBasisTotalAmount", namespaces=ns), "25.00")
        self.assertFalse(
            tree.findall(".//ram:SpecifiedTradeSettlementPaymentMeans", namespaces=ns), "Stripe collects it"
        )
        self.assertFalse(self.env["account.edi.xml.cii"]._export_invoice(move)[1], "valid by Odoo's own EDI")

    def test_nothing_is_emailed_when_the_setting_is_off(self):
        self.env.company.vita_invoice_email = False
        move = self.finalize()
        self.assertFalse(move.sending_data)


@tagged("post_install", "-at_install")
class TestInvoiceOfRecordPortal(InvoiceOfRecordCase, HttpCase):
    """The customer pays on Stripe's page, never through Odoo's portal."""

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("account_payment.enable_portal_payment", True)
        self.ordinary = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": fields.Date.context_today(self.customer) - timedelta(days=5),
                "invoice_date_due": fields.Date.context_today(self.customer) - timedelta(days=5),
                "invoice_line_ids": [(0, 0, {"name": "Consulting", "quantity": 1, "price_unit": 100.0})],
            }
        )
        self.ordinary.action_post()

    def test_invoice_page_has_no_pay_now_but_stripes_page(self):
        move = self.finalize()
        self.assertTrue(self.ordinary._has_to_be_paid(), "Odoo's portal payment is on")
        self.assertFalse(move._has_to_be_paid())
        ordinary_page = self.url_open(self.ordinary.get_portal_url()).text
        self.assertIn('data-bs-target="#pay_with"', ordinary_page)
        page = self.url_open(move.get_portal_url())
        self.assertEqual(page.status_code, 200)
        self.assertNotIn('data-bs-target="#pay_with"', page.text)
        self.assertNotIn("Pay Now", page.text)
        self.assertIn(f'href="{self.stripe_invoice["hosted_invoice_url"]}"', page.text)
        self.assertIn("o_vita_pay_on_stripe", page.text)

    def test_pay_overdue_leaves_stripes_invoices_to_stripe(self):
        move = self.finalize()
        domain = VitaInvoicePortal()._get_overdue_invoices_domain(partner_id=self.customer.id)
        overdue = self.env["account.move"].search(domain)
        self.assertIn(self.ordinary, overdue)
        self.assertNotIn(move, overdue)
