import uuid
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .. import stripe_gateway
from .common import VitaCase


@tagged("post_install", "-at_install")
class TestCatalogueSync(VitaCase):
    """Plans and tax rates are read from Stripe (localstripe), never made here."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        run = uuid.uuid4().hex[:8]
        cls.eur_id = f"plan_{run}_eur_month"
        cls.usd_id = f"plan_{run}_usd_year"
        cls.localstripe.create_plan(cls.eur_id, 2999, "eur", "month", product=f"Gold {run}", nickname="Monthly")
        cls.localstripe.create_plan(cls.usd_id, 30000, "usd", "year", product=f"Gold US {run}", interval_count=2)
        cls.vat = cls.localstripe.create_tax_rate(f"VAT {run}", 20.0, inclusive=False)
        cls.vat_incl = cls.localstripe.create_tax_rate(f"VAT incl {run}", 19.0, inclusive=True)
        cls.Plan = cls.env["vita.stripe.plan"]
        cls.TaxRate = cls.env["vita.stripe.tax.rate"]

    def _plan(self, stripe_id):
        return self.Plan.with_context(active_test=False).search([("stripe_id", "=", stripe_id)])

    def _rate(self, stripe_id):
        return self.TaxRate.with_context(active_test=False).search([("stripe_id", "=", stripe_id)])

    def test_plans_imported_with_amount_currency_interval(self):
        chf = self.env.ref("base.CHF")
        chf.active = False
        chf_id = f"plan_{uuid.uuid4().hex[:8]}_chf"
        self.localstripe.create_plan(chf_id, 1250, "chf")
        self.Plan._vita_sync_catalogue_from_stripe()
        eur = self._plan(self.eur_id)
        self.assertEqual(len(eur), 1)
        self.assertEqual(eur.amount, 29.99)
        self.assertEqual(eur.currency_id, self.env.ref("base.EUR"))
        self.assertEqual((eur.interval, eur.interval_count), ("month", 1))
        self.assertEqual(eur.nickname, "Monthly")
        self.assertTrue(eur.product_name.startswith("Gold "))
        self.assertEqual((eur.mode, eur.company_id, eur.active), ("test", self.env.company, True))
        usd = self._plan(self.usd_id)
        self.assertEqual((usd.amount, usd.interval, usd.interval_count), (300.0, "year", 2))
        self.assertEqual(usd.currency_id, self.env.ref("base.USD"))
        chf_plan = self._plan(chf_id)
        self.assertEqual((chf_plan.amount, chf_plan.currency_id), (12.5, chf))
        self.assertTrue(chf.active, "a currency Stripe bills in is activated")
        self.assertEqual(usd.with_context(lang="en_US").display_name, f"{usd.name} ($\xa0300.00 / 2 years)")

    def test_second_sync_creates_nothing_and_writes_nothing(self):
        self.Plan._vita_sync_catalogue_from_stripe()
        plans = self.Plan.search([])
        rates = self.TaxRate.search([])
        write_dates = plans.mapped("write_date")
        with patch.object(type(self.Plan), "write", side_effect=AssertionError("unchanged plan written")):
            self.Plan._vita_sync_catalogue_from_stripe()
        self.assertEqual(self.Plan.search([]), plans)
        self.assertEqual(self.TaxRate.search([]), rates)
        self.assertEqual(plans.mapped("write_date"), write_dates)

    def test_sync_query_count_does_not_grow_with_the_catalogue(self):
        """An unchanged catalogue costs a few reads and one currency lookup
        per distinct currency, whatever the number of plans and rates."""

        def expected_queries():
            currencies = {plan["currency"] for plan in self.localstripe.get("plans", limit=100)["data"]}
            return 4 + len(currencies)

        self.Plan._vita_sync_catalogue_from_stripe()
        self.env.flush_all()
        with self.assertQueryCount(expected_queries()):
            self.Plan._vita_sync_catalogue_from_stripe()
        run = uuid.uuid4().hex[:8]
        for index in range(5):
            self.localstripe.create_plan(f"plan_{run}_{index}", 1000 + index)
        self.localstripe.create_tax_rate(f"More {run}", 7.0)
        self.Plan._vita_sync_catalogue_from_stripe()
        self.env.flush_all()
        with self.assertQueryCount(expected_queries()):
            self.Plan._vita_sync_catalogue_from_stripe()

    def test_plan_archived_or_deleted_in_stripe_becomes_inactive(self):
        run = uuid.uuid4().hex[:8]
        archived_id, deleted_id = f"plan_{run}_a", f"plan_{run}_d"
        self.localstripe.create_plan(archived_id, 1000)
        self.localstripe.create_plan(deleted_id, 1000)
        self.Plan._vita_sync_catalogue_from_stripe()
        self.assertTrue(self._plan(archived_id).active)
        self.assertTrue(self._plan(deleted_id).active)

        self.localstripe.update_plan(archived_id, active=False)
        self.localstripe.delete_plan(deleted_id)
        self.Plan._vita_sync_catalogue_from_stripe()
        self.assertFalse(self._plan(archived_id).active)
        self.assertFalse(self._plan(deleted_id).active, "never deleted: subscriptions may use it")
        self.assertTrue(self._plan(self.eur_id).active)

        self.localstripe.update_plan(archived_id, active=True)
        self.Plan._vita_sync_catalogue_from_stripe()
        self.assertTrue(self._plan(archived_id).active, "re-activated in Stripe, re-activated here")

    def test_tiered_plan_left_out(self):
        plan_id = f"plan_{uuid.uuid4().hex[:8]}_tiered"
        self.localstripe.create_plan(
            plan_id,
            None,
            billing_scheme="tiered",
            tiers_mode="volume",
            **{"tiers[0][up_to]": "inf", "tiers[0][unit_amount]": 100},
        )
        self.Plan._vita_sync_catalogue_from_stripe()
        self.assertFalse(self._plan(plan_id))

    def test_sync_pages_through_stripe_lists(self):
        with patch.object(stripe_gateway, "PAGE_SIZE", 2):
            self.Plan._vita_sync_catalogue_from_stripe()
        self.assertTrue(self._plan(self.eur_id) and self._plan(self.usd_id))
        self.assertTrue(self._rate(self.vat["id"]) and self._rate(self.vat_incl["id"]))

    def test_tax_rates_mapped_to_odoo_sale_taxes(self):
        self.Plan._vita_sync_catalogue_from_stripe()
        vat, vat_incl = self._rate(self.vat["id"]), self._rate(self.vat_incl["id"])
        self.assertEqual((vat.percentage, vat.inclusive), (20.0, False))
        self.assertEqual((vat_incl.percentage, vat_incl.inclusive), (19.0, True))
        for rate in vat | vat_incl:
            tax = rate.tax_id
            self.assertEqual(tax.type_tax_use, "sale")
            self.assertEqual(tax.amount_type, "percent")
            self.assertEqual(tax.amount, rate.percentage)
            self.assertEqual(tax.price_include, rate.inclusive)
            self.assertEqual(tax.company_id, self.env.company)
        # A 100.00 line gives what Stripe would charge.
        currency = self.env.company.currency_id
        excl = vat.tax_id.compute_all(100.0, currency)
        incl = vat_incl.tax_id.compute_all(119.0, currency)
        self.assertAlmostEqual(excl["total_included"], 120.0)
        self.assertAlmostEqual(incl["total_excluded"], 100.0)

    def test_tax_rate_names_show_the_percentage_without_trailing_zeros(self):
        self.Plan._vita_sync_catalogue_from_stripe()
        rate = self._rate(self.vat["id"])
        self.assertTrue(rate.display_name.endswith("(20\xa0%)"), rate.display_name)
        rate.percentage = 5.5
        self.env["res.lang"]._activate_lang("fr_FR")
        self.assertTrue(rate.with_context(lang="fr_FR").display_name.endswith("(5,5\xa0%)"))

    def test_existing_matching_tax_is_reused(self):
        tax = self.env["account.tax"].create(
            {
                "name": "Existing 7.5%",
                "amount": 7.5,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
            }
        )
        rate = self.localstripe.create_tax_rate(f"Reduced {uuid.uuid4().hex[:6]}", 7.5)
        self.Plan._vita_sync_catalogue_from_stripe()
        self.assertEqual(self._rate(rate["id"]).tax_id, tax)

    def test_tax_rate_archived_in_stripe_becomes_inactive(self):
        rate = self.localstripe.create_tax_rate(f"Old {uuid.uuid4().hex[:6]}", 5.5)
        self.Plan._vita_sync_catalogue_from_stripe()
        self.assertTrue(self._rate(rate["id"]).active)
        self.localstripe.update_tax_rate(rate["id"], active=False)
        self.Plan._vita_sync_catalogue_from_stripe()
        self.assertFalse(self._rate(rate["id"]).active)

    def test_nobody_creates_plans_in_odoo(self):
        manager = new_test_user(self.env, "vita_manager", groups="vita_subscriptions.group_subscription_manager")
        for model in ("vita.stripe.plan", "vita.stripe.tax.rate"):
            with self.assertRaises(AccessError):
                self.env[model].with_user(manager).create({"stripe_id": "x", "name": "x", "mode": "test"})
        self.Plan._vita_sync_catalogue_from_stripe()
        plan = self._plan(self.eur_id)
        with self.assertRaises(AccessError):
            plan.with_user(manager).write({"amount": 1})
        self.assertTrue(plan.with_user(manager).read(["name"]))

    def test_cron_syncs_every_stripe_company(self):
        cron = self.env.ref("vita_subscriptions.ir_cron_sync_stripe_catalogue")
        self.assertEqual((cron.active, cron.interval_type), (True, "days"))
        self.assertEqual(cron.code.strip(), "model._cron_sync_from_stripe()")
        self.Plan._cron_sync_from_stripe()
        self.assertTrue(self._plan(self.eur_id))
        self.assertTrue(self._rate(self.vat["id"]).tax_id)
