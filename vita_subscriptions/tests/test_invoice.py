import time
from unittest.mock import patch

from psycopg2 import errors as pg_errors

from odoo.tests import new_test_user, tagged
from odoo.tools import format_date

from ..utils import stripe_date
from . import stripe_payloads as payloads
from .webhook_common import WebhookCase, event, invoice, invoice_line, old_invoice


@tagged("post_install", "-at_install")
class TestPaidInvoice(WebhookCase):
    """A paid Stripe invoice becomes exactly one posted, paid Odoo invoice
    totalling what Stripe charged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        run = cls.plan_monthly.stripe_id
        included = cls.localstripe.create_tax_rate(f"DE VAT incl {run}", 19.0, inclusive=True)
        cls.env["vita.stripe.plan"]._vita_sync_catalogue_from_stripe()
        cls.vat_included = cls.env["vita.stripe.tax.rate"].search([("stripe_id", "=", included["id"])])
        cls.env.company.vita_journal_id = cls.env["account.journal"].search(
            [("company_id", "=", cls.env.company.id), ("type", "=", "bank")], limit=1
        )

    def assert_amounts(self, move, untaxed, taxes, total):
        """Untaxed, tax per Odoo tax and total, to the cent."""
        self.assertEqual(move.currency_id.round(move.amount_untaxed), untaxed)
        tax_lines = move.line_ids.filtered("tax_line_id")
        by_tax = {
            tax: -sum(tax_lines.filtered(lambda line, t=tax: line.tax_line_id == t).mapped("amount_currency"))
            for tax in tax_lines.tax_line_id
        }
        self.assertEqual({tax: move.currency_id.round(amount) for tax, amount in by_tax.items()}, taxes)
        self.assertEqual(move.currency_id.round(move.amount_total), total)

    def paid(self, subscription, stripe_invoice, event_type="invoice.paid"):
        record = self.receive(event(event_type, stripe_invoice))
        self.assertEqual(record.state, "processed", record.error)
        return subscription.invoice_ids.filtered(lambda m: m.vita_stripe_invoice_id == stripe_invoice["id"])

    def assert_paid(self, move, total, currency):
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.move_type, "out_invoice")
        self.assertEqual(move.currency_id, currency)
        self.assertAlmostEqual(move.amount_total, total, places=2)
        self.assertIn(move.payment_state, ("paid", "in_payment"))
        self.assertEqual(move.amount_residual, 0.0)

    def test_conflict_while_booking_is_retried_not_lost(self):
        """A serialization failure while booking (another worker updating a
        row the invoice touches) is not "booked by another event": the
        event is taken again and the invoice exists once."""
        subscription = self.linked()
        stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(2500)], total=2500)
        book = type(subscription)._vita_book_stripe_invoice
        calls = []

        def conflict_once(record, *args):
            calls.append(1)
            if len(calls) == 1:
                raise pg_errors.SerializationFailure("could not serialize access due to concurrent update")
            return book(record, *args)

        with patch.object(type(subscription), "_vita_book_stripe_invoice", conflict_once):
            move = self.paid(subscription, stripe_invoice)
        self.assertEqual(len(calls), 2)
        self.assert_paid(move, 25.0, self.eur)

    def test_exclusive_tax_quantity_three_eur(self):
        subscription = self.linked(quantity=3, tax_rate_ids=[self.vat.id])
        line = invoice_line(2500, 3, tax_rates=[(self.vat.stripe_id, 1500)])
        stripe_invoice = invoice(subscription.stripe_subscription_id, [line], total=9000)
        move = self.paid(subscription, stripe_invoice)
        self.assert_paid(move, 90.0, self.eur)
        plan_line = move.invoice_line_ids
        self.assertEqual(len(plan_line), 1)
        self.assertEqual((plan_line.quantity, plan_line.price_unit), (3, 25.0))
        self.assertEqual(plan_line.tax_ids, self.vat.tax_id)
        period = [format_date(self.env, stripe_date(line["period"][key])) for key in ("start", "end")]
        self.assertEqual(plan_line.name, f"1 × Care\n{period[0]} – {period[1]}", "the service period")
        self.assertEqual(move.amount_tax, 15.0)
        self.assertEqual(move.partner_id, subscription.partner_id)
        self.assertEqual(move.vita_stripe_invoice_url, stripe_invoice["hosted_invoice_url"])
        self.assertEqual(move.ref, stripe_invoice["number"])
        payment_journal = move.matched_payment_ids.journal_id or move._get_reconciled_payments().journal_id
        self.assertEqual(payment_journal, self.env.company.vita_journal_id)

    def test_lines_beyond_the_first_page_are_fetched(self):
        subscription = self.linked(quantity=1)
        first, second = invoice_line(2500, 1), invoice_line(1000, 1, description="Extra")
        stripe_invoice = invoice(subscription.stripe_subscription_id, [first, second])
        stripe_invoice["lines"]["data"] = stripe_invoice["lines"]["data"][:1]
        stripe_invoice["lines"]["has_more"] = True
        all_lines = {"object": "list", "data": [first, second], "has_more": False, "url": "/v1/invoices/x/lines"}
        with self.recorded_stripe({("GET", f"/v1/invoices/{stripe_invoice['id']}/lines"): (200, all_lines)}):
            move = self.paid(subscription, stripe_invoice)
        self.assert_paid(move, 35.0, self.eur)
        self.assertEqual(sorted(move.invoice_line_ids.mapped("price_unit")), [10.0, 25.0])

    def test_inclusive_tax(self):
        subscription = self.linked(quantity=3, tax_rate_ids=[self.vat_included.id])
        line = invoice_line(2500, 3, tax_rates=[(self.vat_included.stripe_id, 1197)], inclusive=True)
        move = self.paid(subscription, invoice(subscription.stripe_subscription_id, [line], total=7500))
        self.assert_paid(move, 75.0, self.eur)
        self.assertAlmostEqual(move.amount_tax, 11.97, places=2)
        self.assertEqual(len(move.invoice_line_ids), 1, "no rounding line needed")

    def test_tax_follows_stripe_rounding_after_discount(self):
        """Stripe taxes 10.03 - 3.31 = 6.72 (1.344 → 1.34); Odoo, line by
        line, 2.006 → 2.01 and -0.662 → -0.66 (1.35): the tax line takes
        Stripe's amount, no rounding line."""
        subscription = self.linked(tax_rate_ids=[self.vat.id])
        line = invoice_line(1003, tax_rates=[(self.vat.stripe_id, 134)], discounts=[("di_third", 331)])
        move = self.paid(subscription, invoice(subscription.stripe_subscription_id, [line]))
        self.assert_amounts(move, untaxed=6.72, taxes={self.vat.tax_id: 1.34}, total=8.06)
        self.assertFalse(move.invoice_line_ids.filtered(lambda line: "Difference" in line.name))

    def test_rounding_line_for_an_inclusive_rounding_difference(self):
        """Inclusive 19 %: Stripe's 70.00 holds 11.18 of tax (58.82 net);
        Odoo splits 75.00 and -5.00 separately (63.03 + -4.20): a one-cent
        untaxed rounding line, logged."""
        subscription = self.linked(quantity=3, tax_rate_ids=[self.vat_included.id])
        line = invoice_line(
            2500, 3, tax_rates=[(self.vat_included.stripe_id, 1118)], inclusive=True, discounts=[("di_five", 500)]
        )
        with self.assertLogs("odoo.addons.vita_subscriptions", level="WARNING") as logs:
            move = self.paid(subscription, invoice(subscription.stripe_subscription_id, [line]))
        self.assert_amounts(move, untaxed=58.82, taxes={self.vat_included.tax_id: 11.18}, total=70.0)
        rounding = move.invoice_line_ids.filtered(lambda line: "Difference" in line.name)
        self.assertEqual((rounding.price_unit, rounding.tax_ids.ids), (-0.01, []))
        self.assertIn("rounding line", "".join(logs.output))

    def test_a_wrong_total_fails_the_event(self):
        subscription = self.linked(tax_rate_ids=[self.vat.id])
        line = invoice_line(2500, tax_rates=[(self.vat.stripe_id, 500)])
        stripe_invoice = invoice(subscription.stripe_subscription_id, [line], total=3100)
        record = self.receive(event("invoice.paid", stripe_invoice))
        self.assertEqual(record.state, "failed")
        self.assertIn("instead of", record.error)
        self.assertFalse(subscription.invoice_ids)

    def test_usd_company_currency(self):
        usd_customer = self.env["res.partner"].create({"name": "US customer", "is_company": True})
        usd = self.plan_usd.currency_id
        usd_customer.property_product_pricelist = self.env["product.pricelist"].create(
            {"name": "USD", "currency_id": usd.id}
        )
        subscription = self.linked(partner_id=usd_customer.id, plan_id=self.plan_usd.id, quantity=2)
        line = invoice_line(3000, 2)
        move = self.paid(subscription, invoice(subscription.stripe_subscription_id, [line], total=6000, currency="usd"))
        self.assert_paid(move, 60.0, usd)

    def test_currencies_by_stripes_table(self):
        """5,000 ISK is 500000 in Stripe's API (two decimals), 5,000 JPY is
        5000 (zero-decimal), 12.340 BHD is 12340 (three decimals)."""
        for code, unit_amount, total in [
            ("JPY", 5000, 5000.0),
            ("KRW", 5000, 5000.0),
            ("ISK", 500000, 5000.0),
            ("HUF", 123456, 1234.56),
            ("BHD", 12340, 12.34),
            ("EUR", 2499, 24.99),
        ]:
            with self.subTest(currency=code):
                subscription = self.linked()
                stripe_invoice = invoice(
                    subscription.stripe_subscription_id, [invoice_line(unit_amount)], currency=code.lower()
                )
                move = self.paid(subscription, stripe_invoice)
                self.assertEqual(move.currency_id.name, code)
                self.assertEqual(move.amount_total, total)
                self.assertEqual(move.invoice_line_ids.price_unit, total)
                self.assertEqual(move.amount_residual, 0.0)

    def test_currency_odoo_cannot_hold_fails_the_event(self):
        subscription = self.linked()
        stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(10050)], currency="twd")
        record = self.receive(event("invoice.paid", stripe_invoice))
        self.assertEqual(record.state, "failed")
        self.assertIn("TWD", record.error)
        self.assertFalse(subscription.invoice_ids)

    def test_coupon_carries_the_tax_of_what_it_discounts(self):
        """25.00 + 20 % VAT with a 5.00 coupon: Stripe charges 20.00 + 4.00."""
        subscription = self.linked(tax_rate_ids=[self.vat.id])
        line = invoice_line(2500, tax_rates=[(self.vat.stripe_id, 400)], discounts=[("di_coupon", 500)])
        move = self.paid(subscription, invoice(subscription.stripe_subscription_id, [line]))
        self.assert_amounts(move, untaxed=20.0, taxes={self.vat.tax_id: 4.0}, total=24.0)
        discount = move.invoice_line_ids.filtered(lambda line: line.price_unit < 0)
        self.assertEqual((discount.price_unit, discount.tax_ids), (-5.0, self.vat.tax_id))
        self.assertIn("di_coupon", discount.name)

    def test_invoice_discount_spread_over_lines_with_their_taxes(self):
        """An invoice-level discount no line carries is spread over the
        lines in proportion, each share with its line's taxes; inclusive
        and exclusive rates on one invoice."""
        subscription = self.linked(tax_rate_ids=[self.vat.id])
        exclusive = invoice_line(3000, tax_rates=[(self.vat.stripe_id, 480)])
        inclusive = invoice_line(
            1000, tax_rates=[(self.vat_included.stripe_id, 128)], inclusive=True, description="Extra"
        )
        stripe_invoice = invoice(
            subscription.stripe_subscription_id,
            [exclusive, inclusive],
            invoice_discounts=[("di_ten", 800)],
            total=3000 - 600 + 480 + 1000 - 200,
        )
        stripe_invoice["total_excluding_tax"] = 3000 - 600 + 1000 - 200 - 128
        move = self.paid(subscription, stripe_invoice)
        self.assert_amounts(
            move, untaxed=30.72, taxes={self.vat.tax_id: 4.8, self.vat_included.tax_id: 1.28}, total=36.8
        )
        shares = move.invoice_line_ids.filtered(lambda line: line.price_unit < 0).sorted("price_unit")
        self.assertEqual(shares.mapped("price_unit"), [-6.0, -2.0])
        self.assertEqual(shares.mapped("tax_ids"), self.vat.tax_id | self.vat_included.tax_id)

    def test_several_rates_on_a_line(self):
        subscription = self.linked(tax_rate_ids=[self.vat.id])
        run = self.plan_monthly.stripe_id
        local = self.localstripe.create_tax_rate(f"Local tax {run}", 5.0)
        line = invoice_line(2500, tax_rates=[(self.vat.stripe_id, 500), (local["id"], 125)])
        move = self.paid(subscription, invoice(subscription.stripe_subscription_id, [line]))
        local_tax = self.env["vita.stripe.tax.rate"].search([("stripe_id", "=", local["id"])]).tax_id
        self.assert_amounts(move, untaxed=25.0, taxes={self.vat.tax_id: 5.0, local_tax: 1.25}, total=31.25)

    def test_proration_credit_is_a_line_of_its_own(self):
        subscription = self.linked(tax_rate_ids=[self.vat.id])
        credit = invoice_line(
            2500, amount=-1250, tax_rates=[(self.vat.stripe_id, -250)], description="Unused time", proration=True
        )
        new = invoice_line(5000, amount=2500, tax_rates=[(self.vat.stripe_id, 500)], description="Remaining time")
        move = self.paid(subscription, invoice(subscription.stripe_subscription_id, [credit, new]))
        self.assert_amounts(move, untaxed=12.5, taxes={self.vat.tax_id: 2.5}, total=15.0)
        self.assertEqual(sorted(move.invoice_line_ids.mapped("price_subtotal")), [-12.5, 25.0])

    def test_customer_credit_balance_pays_part(self):
        """Stripe applied 10.00 of the customer's balance and charged 20.00:
        two payments, explained in the chatter, invoice paid."""
        subscription = self.linked(tax_rate_ids=[self.vat.id])
        line = invoice_line(2500, tax_rates=[(self.vat.stripe_id, 500)])
        stripe_invoice = invoice(subscription.stripe_subscription_id, [line], starting_balance=-1000)
        self.assertEqual(stripe_invoice["amount_paid"], 2000)
        move = self.paid(subscription, stripe_invoice)
        self.assert_paid(move, 30.0, self.eur)
        payments = move.matched_payment_ids or move._get_reconciled_payments()
        self.assertEqual(sorted(payments.mapped("amount")), [10.0, 20.0])
        self.assertIn("credit balance", " ".join(payments.mapped("memo")))
        self.assertIn("credit balance", "".join(move.message_ids.mapped("body")))

    def test_zero_amount_creates_nothing(self):
        subscription = self.linked(state="future")
        stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(0)], total=0)
        self.receive(event("invoice.paid", stripe_invoice))
        self.assertFalse(subscription.invoice_ids)
        self.assertEqual(subscription.state, "future")

    def test_paid_and_payment_succeeded_make_one_invoice(self):
        subscription = self.linked()
        stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(2500)], total=2500)
        self.paid(subscription, stripe_invoice, "invoice.paid")
        self.paid(subscription, stripe_invoice, "invoice.payment_succeeded")
        self.assertEqual(len(subscription.invoice_ids), 1)

    def test_old_api_shape(self):
        subscription = self.linked(quantity=2, tax_rate_ids=[self.vat.id])
        stripe_invoice = old_invoice(
            subscription.stripe_subscription_id, 2500, 2, total=6000, tax_rates=[(self.vat.stripe_id, 1000)]
        )
        move = self.paid(subscription, stripe_invoice, "invoice.payment_succeeded")
        self.assert_paid(move, 60.0, self.eur)
        self.assertEqual(move.invoice_line_ids.quantity, 2)
        self.assertEqual(move.invoice_line_ids.tax_ids, self.vat.tax_id)

    def test_proration_line_kept_as_its_amount(self):
        subscription = self.linked(quantity=2)
        proration = invoice_line(2500, 2, amount=1234, description="Remaining time on 2 × Care")
        move = self.paid(subscription, invoice(subscription.stripe_subscription_id, [proration], total=1234))
        self.assertEqual((move.invoice_line_ids.quantity, move.invoice_line_ids.price_unit), (1, 12.34))
        self.assert_paid(move, 12.34, self.eur)

    def test_first_paid_invoice_makes_future_active(self):
        subscription = self.linked(state="future")
        stripe_subscription = payloads.subscription(subscription_id=subscription.stripe_subscription_id)
        path = ("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
        with self.recorded_stripe({path: (200, stripe_subscription)}):
            self.paid(subscription, invoice(subscription.stripe_subscription_id, [invoice_line(2500)], total=2500))
        self.assertEqual(subscription.state, "active")

    def test_invoice_visible_to_the_customer_portal(self):
        subscription = self.linked()
        move = self.paid(subscription, invoice(subscription.stripe_subscription_id, [invoice_line(2500)], total=2500))
        self.assertIn(self.customer, move.message_partner_ids)
        # Its portal token is made with it: the portal page that lists it
        # (a GET) writes nothing on an invoice a queue lane may be paying.
        self.assertTrue(move.access_token)

    def test_invoice_says_stripe_collects_it_in_the_customers_language(self):
        """A customer with 30-day terms and a bank account on file: the
        invoice Stripe collects has neither (due the day it is issued),
        says it is paid through Stripe with Stripe's page, and its line
        periods are written as the customer reads dates."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer.write(
            {
                "lang": "fr_FR",
                "property_payment_term_id": self.env.ref("account.account_payment_term_30days").id,
            }
        )
        self.env["res.partner.bank"].create({"partner_id": self.env.company.partner_id.id, "acc_number": "FR76 VITA"})
        subscription = self.linked()
        line = invoice_line(2500)
        line["period"] = {"start": 1767268800, "end": 1769947200}  # 2026-01-01 → 2026-02-01, 12:00 UTC
        url = "https://invoice.stripe.com/i/acct_x/test_vita"
        move = self.paid(
            subscription, invoice(subscription.stripe_subscription_id, [line], total=2500, hosted_invoice_url=url)
        )
        self.assertFalse(move.invoice_payment_term_id)
        self.assertEqual(move.invoice_date_due, move.invoice_date)
        self.assertFalse(move.partner_bank_id)
        self.assertIn("01/01/2026 – 01/02/2026", move.invoice_line_ids.name)
        html = self.env["ir.actions.report"]._render_qweb_html("account.report_invoice", move.ids)[0].decode()
        self.assertIn("Paid through Stripe", html)
        self.assertIn(url, html)
        self.assertNotIn("Payment Communication", html)
        self.assertNotIn("FR76 VITA", html)


@tagged("post_install", "-at_install")
class TestFailedPayment(WebhookCase):
    def deliver_failure(self, subscription, event_type, status):
        stripe_subscription = payloads.subscription(subscription_id=subscription.stripe_subscription_id, status=status)
        path = ("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
        stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(2500)], total=2500, status="open")
        with self.recorded_stripe({path: (200, stripe_subscription)}):
            record = self.receive(event(event_type, stripe_invoice))
        self.assertEqual(record.state, "processed", record.error)
        return stripe_invoice

    def last_email(self, subscription):
        return subscription.message_ids.filtered(lambda m: m.message_type == "comment")[:1]

    def test_payment_failed(self):
        subscription = self.linked(contact_id=self.contact.id)
        self.deliver_failure(subscription, "invoice.payment_failed", "past_due")
        self.assertEqual(subscription.state, "past_due")
        message = self.last_email(subscription)
        self.assertIn(self.contact, message.partner_ids)
        self.assertIn("/my/credit_card", message.body)
        activity = subscription.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, subscription.user_id)
        # Stripe retries and fails again: another e-mail, still one activity.
        self.deliver_failure(subscription, "invoice.payment_failed", "unpaid")
        self.assertEqual(subscription.state, "unpaid")
        self.assertEqual(len(subscription.activity_ids), 1)

    def test_notes_of_a_webhook_are_in_the_responsibles_language(self):
        """The queue runs without a language; what it writes for the back
        office is in the language of the one who reads it."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["vita_subscriptions"], ["fr_FR"])
        responsible = new_test_user(self.env, "vita_fr_clerk", groups="vita_subscriptions.group_subscription_user")
        responsible.lang = "fr_FR"
        subscription = self.linked(contact_id=self.contact.id, user_id=responsible.id)
        self.deliver_failure(subscription, "invoice.payment_failed", "past_due")
        self.assertEqual(subscription.activity_ids.summary, "Échec du paiement")

    def test_action_required_links_to_the_hosted_invoice(self):
        subscription = self.linked(contact_id=self.contact.id)
        stripe_invoice = self.deliver_failure(subscription, "invoice.payment_action_required", "past_due")
        message = self.last_email(subscription)
        self.assertIn(self.contact, message.partner_ids)
        self.assertIn(stripe_invoice["hosted_invoice_url"], message.body)
        self.assertNotIn("/my/credit_card", message.body)

    def test_late_failure_after_payment_changes_nothing(self):
        """invoice.payment_failed delivered after invoice.paid: no e-mail,
        no activity, no state change."""
        subscription = self.linked(contact_id=self.contact.id)
        stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(2500)], total=2500)
        self.receive(event("invoice.paid", stripe_invoice))
        messages = subscription.message_ids
        for event_type in ("invoice.payment_failed", "invoice.payment_action_required"):
            with self.subTest(event_type=event_type):
                late = dict(stripe_invoice, status="open", amount_paid=0)
                # No Stripe call either: nothing recorded, nothing answered.
                with self.recorded_stripe({}) as stripe_http:
                    record = self.receive(event(event_type, late, created=int(time.time()) - 60))
                self.assertEqual(record.state, "ignored")
                self.assertIn("already paid", record.error)
                self.assertFalse(stripe_http.requests)
                self.assertEqual(subscription.state, "active")
                self.assertEqual(subscription.message_ids, messages)
                self.assertFalse(subscription.activity_ids)

    def test_payment_closes_the_payment_failed_activity(self):
        subscription = self.linked(contact_id=self.contact.id)
        stripe_invoice = self.deliver_failure(subscription, "invoice.payment_failed", "past_due")
        self.assertEqual(len(subscription.activity_ids), 1)
        stripe_subscription = payloads.subscription(subscription_id=subscription.stripe_subscription_id)
        path = ("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
        with self.recorded_stripe({path: (200, stripe_subscription)}):
            record = self.receive(event("invoice.paid", dict(stripe_invoice, status="paid", amount_paid=2500)))
        self.assertEqual(record.state, "processed", record.error)
        self.assertFalse(subscription.activity_ids)
        self.assertEqual(subscription.state, "active")
        done = subscription.message_ids.filtered(lambda message: message.mail_activity_type_id)
        self.assertIn("Paid", done[:1].body)
