import uuid

from odoo.tests import HttpCase, tagged

from .common import SubscriptionCase, VitaCase
from .test_plan_change import PREVIEW_PATH, PlanChangeCase


@tagged("post_install", "-at_install")
class TestCatalogueTour(VitaCase, HttpCase):
    def test_admin_syncs_and_sees_plans(self):
        self.assertFalse(self.env["vita.stripe.plan"].search([("stripe_id", "=", "plan_tour_gold")]))
        self.localstripe.create_plan("plan_tour_gold", 4900, "eur", product="Tour Gold", nickname="Monthly")
        self.localstripe.create_tax_rate("Tour VAT", 20.0)
        self.start_tour("/odoo", "vita_catalogue_tour", login="admin")
        plan = self.env["vita.stripe.plan"].search([("stripe_id", "=", "plan_tour_gold")])
        self.assertEqual(plan.amount, 49.0)


@tagged("post_install", "-at_install")
class TestBackOfficeTour(SubscriptionCase, HttpCase):
    def test_cancel_at_period_end_then_reactivate_from_the_form(self):
        subscription = self.subscribed()
        url = f"/odoo/action-vita_subscriptions.vita_subscription_action/{subscription.id}"
        self.start_tour(url, "vita_backoffice_cancel_reactivate_tour", login="admin")
        self.assertFalse(subscription.cancel_at_period_end)
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        self.assertFalse(stripe_subscription["cancel_at_period_end"])
        self.assertEqual(subscription.state, "active")

    def test_quantity_must_be_whole(self):
        subscription = self.prepare(quantity=2)
        url = f"/odoo/action-vita_subscriptions.vita_subscription_action/{subscription.id}"
        self.start_tour(url, "vita_backoffice_quantity_tour", login="admin")
        self.assertEqual(subscription.quantity, 2)


@tagged("post_install", "-at_install")
class TestPlanChangeTour(PlanChangeCase):
    def test_customer_changes_the_plan_with_the_preview_shown(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        lines = [
            ("Unused time on 1 × Care", -2400, True),
            ("Remaining time on 2 × Care", 48000, True),
            ("2 × Care", 50000, False),
        ]
        with self.stripe_with_preview(subscription, lines) as client:
            self.start_tour(self.url(subscription), "vita_portal_change_plan_tour", login="vita_owner")
        self.assertEqual(len([r for r in client.requests if r["path"] == PREVIEW_PATH[1]]), 1)
        self.assertEqual((subscription.plan_id, subscription.quantity), (self.plan_yearly, 2))
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        item = stripe_subscription["items"]["data"][0]
        self.assertEqual((item["plan"]["id"], item["quantity"]), (self.plan_yearly.stripe_id, 2))
        self.assertEqual(item["plan"]["amount"] * item["quantity"], 50000, "the new amount in Stripe")
        note = subscription.message_ids.filtered(lambda m: "changed the plan" in (m.body or ""))
        self.assertEqual(note.author_id, self.contact)

    def test_back_office_changes_the_quantity_after_the_preview(self):
        subscription = self.subscribed()
        lines = [("Remaining time on 4 × Care", 6000, True), ("4 × Care", 10000, False)]
        url = f"/odoo/action-vita_subscriptions.vita_subscription_action/{subscription.id}"
        with self.stripe_with_preview(subscription, lines):
            self.start_tour(url, "vita_backoffice_change_plan_tour", login="admin")
        self.assertEqual(subscription.quantity, 4)
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        self.assertEqual(stripe_subscription["items"]["data"][0]["quantity"], 4)


@tagged("post_install", "-at_install")
class TestPlanChangeStripePreviewTour(PlanChangeCase):
    """The portal's plan change priced by localstripe's preview (the demo's
    Stripe, tools/localstripe_server.py), no recorded answer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        run = uuid.uuid4().hex[:8]
        cls.localstripe.create_plan(f"plan_{run}_basic", 1200, "eur", "year", product="Tour Basic", nickname="Yearly")
        cls.localstripe.create_plan(f"plan_{run}_plus", 2000, "eur", "year", product="Tour Plus", nickname="Yearly")
        cls.env["vita.stripe.plan"]._vita_sync_catalogue_from_stripe()
        Plan = cls.env["vita.stripe.plan"]
        cls.plan_basic = Plan.search([("stripe_id", "=", f"plan_{run}_basic")])
        cls.plan_plus = Plan.search([("stripe_id", "=", f"plan_{run}_plus")])
        (cls.plan_basic | cls.plan_plus).sudo().offered_in_portal = True

    def test_customer_changes_plan_and_quantity_with_stripes_preview(self):
        subscription = self.subscribed(contact_id=self.contact.id, plan_id=self.plan_basic.id)
        self.start_tour(self.url(subscription), "vita_portal_change_plan_stripe_preview_tour", login="vita_owner")
        self.assertEqual((subscription.plan_id, subscription.quantity), (self.plan_plus, 2))
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        item = stripe_subscription["items"]["data"][0]
        self.assertEqual((item["plan"]["id"], item["quantity"]), (self.plan_plus.stripe_id, 2))


@tagged("post_install", "-at_install")
class TestRenewalsAndRevenueTours(SubscriptionCase, HttpCase):
    def test_renewals_at_risk_list_sends_the_card_update_email(self):
        subscription = self.subscribed(name="Risky care")
        subscription.with_context(vita_from_stripe=True).write(
            {"card_last4": "4242", "card_exp_month": 1, "card_exp_year": 2020}
        )
        self.assertEqual(subscription.at_risk_reason, "card_expires")
        self.start_tour(
            "/odoo/action-vita_subscriptions.vita_subscription_at_risk_action",
            "vita_renewals_at_risk_tour",
            login="admin",
        )
        message = subscription.message_ids.filtered(lambda m: m.message_type == "comment")[:1]
        self.assertIn("/my/credit_card", message.body)

    def test_revenue_report_opens_from_the_menu(self):
        self.subscribed()
        self.start_tour("/odoo", "vita_revenue_report_tour", login="admin")
