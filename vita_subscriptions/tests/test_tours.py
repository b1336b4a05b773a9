from odoo.tests import HttpCase, tagged

from .common import VitaCase


@tagged("post_install", "-at_install")
class TestCatalogueTour(VitaCase, HttpCase):
    def test_admin_syncs_and_sees_plans(self):
        self.assertFalse(self.env["vita.stripe.plan"].search([("stripe_id", "=", "plan_tour_gold")]))
        self.localstripe.create_plan("plan_tour_gold", 4900, "eur", product="Tour Gold", nickname="Monthly")
        self.localstripe.create_tax_rate("Tour VAT", 20.0)
        self.start_tour("/odoo", "vita_catalogue_tour", login="admin")
        plan = self.env["vita.stripe.plan"].search([("stripe_id", "=", "plan_tour_gold")])
        self.assertEqual(plan.amount, 49.0)
