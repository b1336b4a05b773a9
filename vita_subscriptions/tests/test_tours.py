from odoo.tests import HttpCase, tagged

from .common import SubscriptionCase, VitaCase


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
