import uuid

from odoo.modules.migration import load_script
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SubscriptionCase


@tagged("post_install", "-at_install")
class TestPlanLabel(SubscriptionCase, HttpCase):
    """The stored plan name is the same in every language; the price and
    period are added at display time, in the reader's language and number
    format (back office and portal)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["vita_subscriptions"], ["fr_FR"])
        run = uuid.uuid4().hex[:8]
        cls.localstripe.create_plan(
            f"plan_{run}_q", 9000, "eur", "month", product="Care", nickname="Quarterly", interval_count=3
        )
        cls.env["vita.stripe.plan"]._vita_sync_catalogue_from_stripe()
        cls.plan_quarterly = cls.env["vita.stripe.plan"].search([("stripe_id", "=", f"plan_{run}_q")])

    def test_stored_name_has_no_period(self):
        self.assertEqual(self.plan_monthly.name, "Care – Monthly")
        self.plan_monthly.with_context(lang="fr_FR").invalidate_recordset()
        self.assertEqual(self.plan_monthly.with_context(lang="fr_FR").name, "Care – Monthly")

    def test_upgrade_recomputes_names_stored_with_a_period(self):
        self.env.cr.execute(
            "UPDATE vita_stripe_plan SET name = 'Care – Monthly (25,00 € / Mois)' WHERE id = %s", [self.plan_monthly.id]
        )
        self.plan_monthly.invalidate_recordset(["name"])
        script = load_script("vita_subscriptions/migrations/18.0.1.2.0/post-plan-names.py", "vita_plan_names")
        script.migrate(self.env.cr, "18.0.1.1.0")
        self.plan_monthly.invalidate_recordset(["name"])
        self.assertEqual(self.plan_monthly.name, "Care – Monthly")

    def test_display_name_in_english_and_french(self):
        self.assertEqual(
            self.plan_monthly.with_context(lang="en_US").display_name, "Care – Monthly (25.00\xa0€ / month)"
        )
        self.assertEqual(
            self.plan_monthly.with_context(lang="fr_FR").display_name, "Care – Monthly (25,00\xa0€ / mois)"
        )
        self.assertEqual(self.plan_yearly.with_context(lang="fr_FR").display_name, "Care – Yearly (250,00\xa0€ / an)")
        self.assertEqual(
            self.plan_quarterly.with_context(lang="en_US").display_name, "Care – Quarterly (90.00\xa0€ / 3 months)"
        )
        self.assertEqual(
            self.plan_quarterly.with_context(lang="fr_FR").display_name, "Care – Quarterly (90,00\xa0€ / 3 mois)"
        )

    def test_portal_shows_the_label_in_the_customers_language(self):
        owner = new_test_user(self.env, "vita_label_owner", groups="base.group_portal", partner_id=self.customer.id)
        subscription = self.prepare(name="Care by label")
        for lang, label in (
            ("en_US", "Care – Monthly (25.00\xa0€ / month)"),
            ("fr_FR", "Care – Monthly (25,00\xa0€ / mois)"),
        ):
            with self.subTest(lang=lang):
                owner.lang = lang
                # A new session takes the user's language; the cookie of the
                # previous language would win over it.
                self.opener.cookies.clear()
                self.authenticate("vita_label_owner", "vita_label_owner")
                for url in ("/my/subscriptions", f"/my/subscriptions/{subscription.id}"):
                    page = self.url_open(url)
                    self.assertEqual(page.status_code, 200)
                    self.assertIn(label, page.text)
