from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from ..const import PARAM_PRORATION
from . import stripe_payloads as payloads
from .webhook_common import WebhookCase, listed


@tagged("post_install", "-at_install")
class TestReconcile(WebhookCase):
    """Against localstripe, with no webhook wired: the reconciliation heals
    what a dropped webhook left behind and reports drift."""

    def reconcile(self):
        return self.env["vita.subscription"]._vita_reconcile_company(self.gateway())

    def drift_line(self, subscription, field_name):
        return subscription.drift_ids.filtered(lambda line: line.field_name == field_name)

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
        line = self.drift_line(subscription, "quantity")
        self.assertEqual((line.odoo_value, line.stripe_value), ("1", "5"))
        # Stripe back to Odoo's value: the next reconciliation clears the line.
        self.localstripe._post(f"subscription_items/{subscription.stripe_item_id}", json={"quantity": 1})
        self.reconcile()
        self.assertFalse(subscription.drift_ids)
        self.assertFalse(subscription.stripe_drift)

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


@tagged("post_install", "-at_install")
class TestDriftResolution(WebhookCase):
    """Each drift line resolved from the form: "Use Stripe's" (Odoo follows)
    or "Push Odoo's" (Stripe follows), told in the chatter with the user."""

    def reconcile(self, subscription):
        subscription.action_sync_from_stripe()
        return subscription.drift_ids

    def drift_line(self, subscription, field_name):
        line = subscription.drift_ids.filtered(lambda line: line.field_name == field_name)
        self.assertEqual(len(line), 1, subscription.drift_ids.mapped("field_name"))
        return line

    def stripe_subscription(self, subscription):
        return self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")

    def stripe_item(self, subscription):
        return self.stripe_subscription(subscription)["items"]["data"][0]

    def set_stripe_item(self, subscription, **values):
        """Change the item as the Stripe dashboard would."""
        item = self.stripe_item(subscription)
        new = {"id": item["id"], "plan": item["plan"]["id"], "quantity": item["quantity"]}
        new["tax_rates"] = [rate["id"] for rate in item.get("tax_rates") or []]
        new.update(values)
        self.localstripe._post(f"subscriptions/{subscription.stripe_subscription_id}", json={"items": [new]})

    def assert_logged(self, subscription, text):
        bodies = [str(message.body or "") for message in subscription.message_ids]
        self.assertTrue(any(text in body and self.env.user.name in body for body in bodies), bodies)

    def resolve(self, subscription, field_name, use_stripe):
        line = self.drift_line(subscription, field_name)
        if use_stripe:
            line.action_use_stripe()
            self.assert_logged(subscription, "kept in Odoo by")
        else:
            line.action_push_odoo()
            self.assert_logged(subscription, "pushed to Stripe by")
        self.assertFalse(
            subscription.drift_ids.filtered(lambda line: line.field_name == field_name), "the resolved line disappears"
        )

    def test_quantity(self):
        subscription = self.subscribed()
        self.set_stripe_item(subscription, quantity=4)
        self.reconcile(subscription)
        self.assertEqual(subscription.quantity, 1, "drift is not applied by the reconciliation")
        self.resolve(subscription, "quantity", use_stripe=True)
        self.assertEqual(subscription.quantity, 4)

        self.set_stripe_item(subscription, quantity=6)
        self.reconcile(subscription)
        self.resolve(subscription, "quantity", use_stripe=False)
        self.assertEqual(self.stripe_item(subscription)["quantity"], 4)
        self.assertEqual(subscription.quantity, 4)

    def test_plan(self):
        subscription = self.subscribed()
        self.set_stripe_item(subscription, plan=self.plan_yearly.stripe_id)
        self.reconcile(subscription)
        line = self.drift_line(subscription, "plan_id")
        self.assertEqual(
            (line.odoo_value, line.stripe_value), (self.plan_monthly.display_name, self.plan_yearly.display_name)
        )
        self.resolve(subscription, "plan_id", use_stripe=True)
        self.assertEqual(subscription.plan_id, self.plan_yearly)

        self.set_stripe_item(subscription, plan=self.plan_monthly.stripe_id)
        self.reconcile(subscription)
        self.resolve(subscription, "plan_id", use_stripe=False)
        self.assertEqual(self.stripe_item(subscription)["plan"]["id"], self.plan_yearly.stripe_id)
        self.assertEqual(subscription.plan_id, self.plan_yearly)

    def test_taxes(self):
        subscription = self.subscribed(tax_rate_ids=[self.vat.id])
        self.set_stripe_item(subscription, tax_rates=[])
        self.reconcile(subscription)
        line = self.drift_line(subscription, "tax_rate_ids")
        self.assertEqual(line.odoo_value, self.vat.display_name)
        self.resolve(subscription, "tax_rate_ids", use_stripe=False)
        self.assertEqual([rate["id"] for rate in self.stripe_item(subscription)["tax_rates"]], [self.vat.stripe_id])
        self.assertEqual(subscription.tax_rate_ids, self.vat)

        self.set_stripe_item(subscription, tax_rates=[])
        self.reconcile(subscription)
        self.resolve(subscription, "tax_rate_ids", use_stripe=True)
        self.assertFalse(subscription.tax_rate_ids)

    def test_cancel_at_period_end(self):
        subscription = self.subscribed()
        path = f"subscriptions/{subscription.stripe_subscription_id}"
        self.localstripe._post(path, json={"cancel_at_period_end": True})
        self.reconcile(subscription)
        self.assertFalse(subscription.cancel_at_period_end, "drift is not applied by the reconciliation")
        self.resolve(subscription, "cancel_at_period_end", use_stripe=False)
        self.assertFalse(self.stripe_subscription(subscription)["cancel_at_period_end"])

        self.localstripe._post(path, json={"cancel_at_period_end": True})
        self.reconcile(subscription)
        self.resolve(subscription, "cancel_at_period_end", use_stripe=True)
        self.assertTrue(subscription.cancel_at_period_end)
        self.assertFalse(subscription.drift_ids)

    def test_status_only_from_stripe(self):
        """localstripe cannot make a subscription past due: recorded."""
        subscription = self.linked(state="active")
        stripe_id = subscription.stripe_subscription_id
        item = payloads.subscription_item(self.plan_monthly.stripe_id, item_id=subscription.stripe_item_id)
        past_due = payloads.subscription(subscription_id=stripe_id, status="past_due", items=[item])
        answers = {
            ("GET", f"/v1/subscriptions/{stripe_id}"): (200, past_due),
            ("GET", "/v1/invoices"): listed("/v1/invoices", []),
        }
        with self.recorded_stripe(answers):
            self.reconcile(subscription)
            self.assertEqual(subscription.state, "active", "drift is not applied by the reconciliation")
            line = self.drift_line(subscription, "state")
            self.assertFalse(line.can_push)
            self.assertEqual(line.stripe_value, "Past due")
            with self.assertRaisesRegex(UserError, "Stripe sets the status"):
                line.action_push_odoo()
            self.resolve(subscription, "state", use_stripe=True)
        self.assertEqual(subscription.state, "past_due")

    def test_push_follows_the_proration_setting(self):
        subscription = self.linked(state="active")
        stripe_id = subscription.stripe_subscription_id
        self.env["ir.config_parameter"].sudo().set_param(PARAM_PRORATION, False)

        def answer(quantity):
            item = payloads.subscription_item(
                self.plan_monthly.stripe_id, item_id=subscription.stripe_item_id, quantity=quantity
            )
            return (200, payloads.subscription(subscription_id=stripe_id, items=[item]))

        answers = {
            ("GET", f"/v1/subscriptions/{stripe_id}"): answer(3),
            ("POST", f"/v1/subscriptions/{stripe_id}"): answer(1),
            ("GET", "/v1/invoices"): listed("/v1/invoices", []),
        }
        with self.recorded_stripe(answers) as recorded:
            self.reconcile(subscription)
            self.resolve(subscription, "quantity", use_stripe=False)
        (update,) = [r["params"] for r in recorded.requests if r["method"] == "POST"]
        self.assertEqual(update["proration_behavior"], "none")
        self.assertEqual(update["items[0][quantity]"], "1")
