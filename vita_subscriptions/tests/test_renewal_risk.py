import time
from datetime import UTC, date, datetime, timedelta

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from . import stripe_payloads as payloads
from .webhook_common import WebhookCase, event, invoice, invoice_line


@tagged("post_install", "-at_install")
class TestRenewalsAtRisk(WebhookCase):
    """Card expiring before the next billing, failed payment with Stripe's
    next retry, renewal that needed authentication: each one a reason, a
    filter, and the card-update e-mail one click away."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.vita_journal_id = cls.env["account.journal"].search(
            [("company_id", "=", cls.env.company.id), ("type", "=", "bank")], limit=1
        )
        arch = cls.env["vita.subscription"].get_views([(False, "search")])["views"]["search"]["arch"]
        cls.filters = {}
        for node in etree.fromstring(arch).iter("filter"):
            if node.get("domain"):
                cls.filters[node.get("name")] = node.get("domain")

    def in_filter(self, name, subscription):
        domain = safe_eval(self.filters[name], {"uid": self.env.uid})
        return subscription in self.env["vita.subscription"].search(domain)

    def running(self, next_billing, card_expiry=(12, 2034), **values):
        subscription = self.linked(contact_id=self.contact.id, **values)
        month, year = card_expiry
        subscription.with_context(vita_from_stripe=True).write(
            {
                "next_billing_date": next_billing,
                "card_payment_method_id": "pm_risk",
                "card_brand": "Visa",
                "card_last4": "4242",
                "card_exp_month": month,
                "card_exp_year": year,
            }
        )
        return subscription

    def deliver(self, subscription, event_type, stripe_invoice, status):
        stripe_subscription = payloads.subscription(subscription_id=subscription.stripe_subscription_id, status=status)
        path = ("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
        with self.recorded_stripe({path: (200, stripe_subscription)}):
            record = self.receive(event(event_type, stripe_invoice))
        self.assertEqual(record.state, "processed", record.error)
        return record

    def test_card_expiring_before_the_next_billing(self):
        expiring = self.running(date(2031, 7, 1), card_expiry=(6, 2031))
        self.assertEqual(expiring.card_expiry_date, date(2031, 6, 30))
        self.assertTrue(expiring.at_risk)
        self.assertEqual(expiring.at_risk_reason, "card_expires")
        self.assertTrue(self.in_filter("renewals_at_risk", expiring))
        self.assertTrue(self.in_filter("at_risk_card_expires", expiring))
        self.assertFalse(self.in_filter("at_risk_payment_failed", expiring))
        # Valid until the end of its month: a billing on the 30th is safe.
        safe = self.running(date(2031, 6, 30), card_expiry=(6, 2031))
        self.assertFalse(safe.at_risk)
        self.assertFalse(self.in_filter("renewals_at_risk", safe))
        # A subscription that ends at the period end does not renew.
        expiring.with_context(vita_from_stripe=True).cancel_at_period_end = True
        self.assertFalse(self.in_filter("renewals_at_risk", expiring))

    def test_payment_failed_with_stripe_next_retry(self):
        subscription = self.running(date.today() + timedelta(days=30))
        self.assertFalse(subscription.at_risk)
        retry = int(time.time()) + 3 * 86400
        stripe_invoice = invoice(
            subscription.stripe_subscription_id,
            [invoice_line(2500)],
            total=2500,
            status="open",
            next_payment_attempt=retry,
        )
        self.deliver(subscription, "invoice.payment_failed", stripe_invoice, "past_due")
        self.assertEqual(subscription.state, "past_due")
        self.assertEqual(subscription.stripe_next_retry, datetime.fromtimestamp(retry, UTC).replace(tzinfo=None))
        self.assertEqual(subscription.at_risk_reason, "payment_failed")
        self.assertTrue(self.in_filter("renewals_at_risk", subscription))
        self.assertTrue(self.in_filter("at_risk_payment_failed", subscription))
        # The last retry failed: Stripe has no next attempt.
        self.deliver(subscription, "invoice.payment_failed", dict(stripe_invoice, next_payment_attempt=None), "unpaid")
        self.assertFalse(subscription.stripe_next_retry)
        self.assertTrue(self.in_filter("at_risk_payment_failed", subscription))
        # Paid at last: no longer at risk.
        paid = dict(stripe_invoice, status="paid", amount_paid=2500, amount_remaining=0, next_payment_attempt=None)
        self.deliver(subscription, "invoice.paid", paid, "active")
        self.assertEqual(subscription.state, "active")
        self.assertFalse(subscription.at_risk)
        self.assertFalse(self.in_filter("renewals_at_risk", subscription))

    def test_renewal_that_needed_authentication(self):
        subscription = self.running(date.today() + timedelta(days=30))
        stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(2500)], total=2500, status="open")
        self.deliver(subscription, "invoice.payment_action_required", stripe_invoice, "active")
        self.assertTrue(subscription.renewal_needs_authentication)
        self.assertEqual(subscription.at_risk_reason, "authentication")
        self.assertTrue(self.in_filter("renewals_at_risk", subscription))
        self.assertTrue(self.in_filter("at_risk_authentication", subscription))
        self.assertFalse(self.in_filter("at_risk_card_expires", subscription))
        paid = dict(stripe_invoice, status="paid", amount_paid=2500, amount_remaining=0)
        self.deliver(subscription, "invoice.paid", paid, "active")
        self.assertFalse(subscription.renewal_needs_authentication)
        self.assertFalse(self.in_filter("renewals_at_risk", subscription))

    def test_first_payment_authentication_is_not_a_renewal(self):
        subscription = self.running(date.today() + timedelta(days=30), state="incomplete")
        stripe_invoice = invoice(
            subscription.stripe_subscription_id,
            [invoice_line(2500)],
            total=2500,
            status="open",
            billing_reason="subscription_create",
        )
        self.deliver(subscription, "invoice.payment_action_required", stripe_invoice, "incomplete")
        self.assertFalse(subscription.renewal_needs_authentication)
        self.assertFalse(subscription.at_risk)

    def test_ended_subscriptions_are_not_at_risk(self):
        subscription = self.running(date(2031, 7, 1), card_expiry=(6, 2031), state="canceled")
        self.assertFalse(subscription.at_risk)

    def test_card_update_email(self):
        subscription = self.running(date(2031, 7, 1), card_expiry=(6, 2031))
        subscription.action_send_card_update_email()
        message = subscription.message_ids.filtered(lambda m: m.message_type == "comment")[:1]
        self.assertIn(self.contact, message.partner_ids)
        self.assertIn("/my/credit_card", message.body)
        self.assertIn("4242", message.body)
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        self.assertTrue(mail, "an e-mail is queued, not only a note")

    def test_card_update_email_from_the_list(self):
        first = self.running(date(2031, 7, 1), card_expiry=(6, 2031))
        second = self.running(date(2031, 7, 1), card_expiry=(5, 2031))
        action = self.env.ref("vita_subscriptions.vita_subscription_send_card_update_server_action")
        action.with_context(active_model="vita.subscription", active_ids=(first | second).ids).run()
        for subscription in first | second:
            message = subscription.message_ids.filtered(lambda m: m.message_type == "comment")[:1]
            self.assertIn("/my/credit_card", message.body)

    def test_card_kept_current_by_stripe_events(self):
        subscription = self.running(date(2031, 7, 1), card_expiry=(6, 2031))
        self.assertTrue(subscription.at_risk)
        payment_method = {
            "id": "pm_risk",
            "object": "payment_method",
            "type": "card",
            "customer": "cus_x",
            "card": {"brand": "visa", "last4": "4242", "exp_month": 9, "exp_year": 2033},
        }
        record = self.receive(event("payment_method.automatically_updated", payment_method))
        self.assertEqual(record.state, "processed", record.error)
        self.assertEqual(record.subscription_id, subscription)
        self.assertEqual((subscription.card_exp_month, subscription.card_exp_year), (9, 2033))
        self.assertFalse(subscription.at_risk)
        other = dict(payment_method, id="pm_unknown")
        self.assertEqual(self.receive(event("payment_method.updated", other)).state, "ignored")

    def test_card_stored_on_subscribe_and_card_change(self):
        subscription = self.prepare(contact_id=self.contact.id)
        subscription._vita_portal_subscribe()
        self.assertEqual(subscription.state, "active")
        self.assertEqual(subscription.card_last4, "4242")
        self.assertEqual((subscription.card_exp_month, subscription.card_exp_year), (12, 2034))
        self.assertTrue(subscription.card_payment_method_id.startswith("pm_"))
        gateway = self.gateway()
        new_card = self.localstripe.attach_card(self.stripe_customer_id, "5555555555554444")
        gateway.make_default_card(self.stripe_customer_id, new_card["id"])
        self.customer._vita_card_changed(gateway, new_card["id"])
        self.assertEqual(subscription.card_last4, "4444")
        self.assertEqual(subscription.card_payment_method_id, new_card["id"])
