from odoo.tests import new_test_user, tagged

from .webhook_common import WebhookCase


@tagged("post_install", "-at_install")
class TestReconcile(WebhookCase):
    """Against localstripe, with no webhook wired: the reconciliation heals
    what a dropped webhook left behind and reports drift."""

    def reconcile(self):
        return self.env["vita.subscription"]._vita_reconcile_company(self.gateway())

    def assert_told(self, subscription, text):
        bodies = subscription.message_ids.mapped(lambda message: str(message.body or ""))
        self.assertTrue(any(text in body for body in bodies), bodies)

    def test_dropped_webhook_heals(self):
        subscription = self.subscribed(quantity=2, tax_rate_ids=[self.vat.id])
        self.assertFalse(subscription.invoice_ids, "no webhook reached Odoo")
        counts = self.reconcile()
        self.assertGreaterEqual(counts["known"], 1)
        move = subscription.invoice_ids
        self.assertEqual(len(move), 1)
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.amount_total, 60.0)
        self.assertIn(move.payment_state, ("paid", "in_payment"))
        self.assert_told(subscription, "Paid invoices imported")
        # Running again imports nothing more.
        self.reconcile()
        self.assertEqual(len(subscription.invoice_ids), 1)

    def test_missed_cancellation_is_corrected_and_told(self):
        subscription = self.subscribed()
        self.localstripe.session.delete(
            f"{self.stripe_url}/v1/subscriptions/{subscription.stripe_subscription_id}", timeout=10
        ).raise_for_status()
        self.reconcile()
        self.assertEqual(subscription.state, "canceled")
        self.assert_told(subscription, "a Stripe event was missed")

    def test_drift_is_reported_not_applied(self):
        subscription = self.subscribed()
        self.localstripe._post(f"subscription_items/{subscription.stripe_item_id}", json={"quantity": 5})
        self.reconcile()
        self.assertEqual(subscription.quantity, 1, "drift is reported, never applied")
        self.assertIn("Quantity 5 instead of 1", subscription.stripe_drift)
        self.assertTrue(subscription.activity_ids)
        activities = len(subscription.activity_ids)
        self.reconcile()
        self.assertEqual(len(subscription.activity_ids), activities, "the same drift is reported once")

    def test_sync_button_imports_invoices(self):
        subscription = self.subscribed()
        subscription.action_sync_from_stripe()
        self.assertEqual(len(subscription.invoice_ids), 1)

    def test_cron_runs(self):
        subscription = self.subscribed()
        self.env["vita.subscription"]._cron_reconcile_with_stripe()
        self.assertEqual(len(subscription.invoice_ids), 1)

    def test_clerk_sync_leaves_invoices_to_the_cron(self):
        """A subscription user without invoicing rights updates the state
        but creates no accounting entries through Sync."""
        clerk = new_test_user(self.env, "vita_clerk_sync", groups="vita_subscriptions.group_subscription_user")
        subscription = self.subscribed()
        subscription.with_user(clerk).action_sync_from_stripe()
        self.assertFalse(subscription.invoice_ids)
        accountant = new_test_user(
            self.env,
            "vita_accountant_sync",
            groups="vita_subscriptions.group_subscription_user,account.group_account_invoice",
        )
        subscription.with_user(accountant).action_sync_from_stripe()
        self.assertEqual(len(subscription.invoice_ids), 1)
