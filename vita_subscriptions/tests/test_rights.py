"""Rights before Stripe acts (SPEC §5, §12; issue 21), tried from outside as
real users over HTTP: JSON-RPC calls (``/web/dataset/call_kw``) by a
colleague of the customer on the portal, a portal user of another customer
and an internal user with invoicing rights only are refused, and Stripe
(read back from localstripe) and Odoo are left as they were."""

import json
import uuid

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..const import PARAM_PORTAL_ENABLED
from .test_portal import PortalCase

OUTSIDERS = ("vita_colleague", "vita_stranger", "vita_invoicing")
# Fields of a subscription portal users do not read (the pages read them in sudo).
INTERNAL_FIELDS = ("access_token", "stripe_item_id", "stripe_attempt", "card_payment_method_id")


@tagged("post_install", "-at_install")
class TestRightsOverRpc(PortalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Reads subscriptions (and may invoice them), does not manage them.
        new_test_user(cls.env, "vita_invoicing", groups="account.group_account_invoice")

    def call_kw(self, login, model, method, ids, **kwargs):
        """``model.method(ids, **kwargs)`` over JSON-RPC as ``login``, as the
        web client calls it; returns the decoded answer."""
        self.authenticate(login, login)
        payload = {"model": model, "method": method, "args": [ids], "kwargs": kwargs}
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": payload}),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def assert_refused(self, login, model, method, ids, error=AccessError, **kwargs):
        answer = self.call_kw(login, model, method, ids, **kwargs)
        self.assertNotIn("result", answer, f"{login}: {model}.{method} answered {answer.get('result')!r}")
        expected = f"{error.__module__}.{error.__name__}"
        self.assertEqual(answer["error"]["data"]["name"], expected, answer["error"]["data"]["message"])

    def in_stripe(self, subscription):
        """What Stripe holds: status, cancel at period end, (plan, quantity) items."""
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        items = [(item["plan"]["id"], item["quantity"]) for item in stripe_subscription["items"]["data"]]
        return stripe_subscription["status"], stripe_subscription["cancel_at_period_end"], items

    def in_odoo(self, subscription):
        subscription.invalidate_recordset()
        return (
            subscription.state,
            subscription.cancel_at_period_end,
            subscription.plan_id,
            subscription.quantity,
            len(subscription.message_ids),
            len(subscription.drift_ids),
        )

    # ------------------------------------------------------------------
    # Item 1: every public method that changes Stripe checks rights first
    # ------------------------------------------------------------------

    def test_subscription_actions_refused_before_stripe(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        stripe_before, odoo_before = self.in_stripe(subscription), self.in_odoo(subscription)
        self.assertEqual(stripe_before[:2], ("active", False))
        methods = (
            "action_cancel_at_period_end",
            "action_cancel_now",
            "action_cancel",
            "action_change_plan",
            "action_sync_from_stripe",
            "action_sync_from_stripe_button",
            "action_send_email",
            "action_send_card_update_email",
        )
        for login in OUTSIDERS:
            for method in methods:
                with self.subTest(login=login, method=method):
                    self.assert_refused(login, "vita.subscription", method, subscription.ids)
                    self.assertEqual(self.in_stripe(subscription), stripe_before)
                    self.assertEqual(self.in_odoo(subscription), odoo_before)

    def test_reactivate_refused_before_stripe(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        subscription.action_cancel_at_period_end()
        stripe_before, odoo_before = self.in_stripe(subscription), self.in_odoo(subscription)
        self.assertTrue(stripe_before[1], "cancelled at period end in Stripe")
        for login in OUTSIDERS:
            with self.subTest(login=login):
                self.assert_refused(login, "vita.subscription", "action_reactivate", subscription.ids)
                self.assertEqual(self.in_stripe(subscription), stripe_before)
                self.assertEqual(self.in_odoo(subscription), odoo_before)

    def test_drift_resolution_refused_before_stripe(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        self.localstripe._post(f"subscription_items/{subscription.stripe_item_id}", json={"quantity": 3})
        subscription.action_sync_from_stripe()
        line = subscription.drift_ids.filtered(lambda drift: drift.field_name == "quantity")
        self.assertTrue(line)
        stripe_before, odoo_before = self.in_stripe(subscription), self.in_odoo(subscription)
        for login in OUTSIDERS:
            for method in ("action_push_odoo", "action_use_stripe"):
                with self.subTest(login=login, method=method):
                    self.assert_refused(login, "vita.subscription.drift", method, line.ids)
                    self.assertEqual(self.in_stripe(subscription), stripe_before)
                    self.assertEqual(self.in_odoo(subscription), odoo_before)

    def test_catalogue_sync_refused(self):
        """The sync writes plans in sudo: only for those who may write them."""
        plan_id = f"plan_{uuid.uuid4().hex[:8]}_rights"
        self.localstripe.create_plan(plan_id, 990, "eur", "month", product="Not for them")
        calls = [
            ("vita.stripe.plan", "action_sync_from_stripe", []),
            ("vita.stripe.plan", "action_sync_from_stripe", self.plan_monthly.ids),
            ("vita.stripe.tax.rate", "action_sync_from_stripe", []),
            ("res.config.settings", "action_vita_sync_catalogue", []),
        ]
        Plan = self.env["vita.stripe.plan"].with_context(active_test=False)
        for login in OUTSIDERS:
            for model, method, ids in calls:
                with self.subTest(login=login, model=model, method=method):
                    self.assert_refused(login, model, method, ids)
                    self.assertFalse(Plan.search([("stripe_id", "=", plan_id)]))
        self.assert_refused(
            "vita_invoicing", "vita.stripe.plan", "action_offer_in_portal", self.plan_yearly.ids, error=UserError
        )
        self.assertFalse(self.plan_yearly.offered_in_portal)

    def test_settings_import_and_event_actions_refused(self):
        settings = self.env["res.config.settings"].create({})
        wizard = self.env["vita.stripe.import"].create({})
        event = (
            self.env["vita.stripe.event"]
            .sudo()
            .create({"stripe_id": f"evt_{uuid.uuid4().hex}", "event_type": "invoice.paid", "state": "failed"})
        )
        subscriptions_before = self.env["vita.subscription"].search_count([])
        calls = [
            ("res.config.settings", "action_vita_reconcile", settings.ids),
            ("res.config.settings", "action_vita_create_webhook", settings.ids),
            ("vita.stripe.import", "action_load", wizard.ids),
            ("vita.stripe.import", "action_import", wizard.ids),
            ("vita.stripe.event", "action_retry", event.ids),
        ]
        for login in OUTSIDERS:
            for model, method, ids in calls:
                with self.subTest(login=login, model=model, method=method):
                    self.assert_refused(login, model, method, ids)
        self.assertEqual(self.env["vita.subscription"].search_count([]), subscriptions_before)
        self.assertEqual((wizard.state, event.state), ("draft", "failed"))

    def test_primary_contact_rule_holds_in_sudo(self):
        """The portal controller calls these methods in sudo, as the
        visitor: a portal user who is not the primary contact is refused
        there too; the primary contact is not."""
        subscription = self.subscribed(contact_id=self.contact.id)
        stripe_before = self.in_stripe(subscription)
        with self.assertRaisesRegex(AccessError, "Only the primary contact"):
            subscription.with_user(self.colleague).sudo().action_cancel_at_period_end()
        self.assertEqual(self.in_stripe(subscription), stripe_before)
        subscription.with_user(self.owner).sudo().action_cancel_at_period_end()
        self.assertTrue(self.in_stripe(subscription)[1])

    # ------------------------------------------------------------------
    # Item 2: what portal users read over RPC
    # ------------------------------------------------------------------

    def test_colleague_cannot_read_the_access_token(self):
        subscription = self.prepare()
        token = subscription._portal_ensure_token()
        for login in ("vita_colleague", "vita_owner"):
            with self.subTest(login=login):
                self.assert_refused(login, "vita.subscription", "read", subscription.ids, fields=["access_token"])
                for method in ("get_portal_url", "action_preview"):
                    self.assert_refused(login, "vita.subscription", method, subscription.ids)
                answer = self.call_kw(login, "vita.subscription", "read", subscription.ids, fields=["name"])
                self.assertEqual(answer["result"][0]["name"], subscription.name, "the record itself is readable")
                answer = self.call_kw(login, "vita.subscription", "fields_get", [])
                for name in INTERNAL_FIELDS:
                    self.assertNotIn(name, answer["result"])
                    self.assert_refused(login, "vita.subscription", "read", subscription.ids, fields=[name])
                self.assertNotIn(token, self.url_open("/my/subscriptions").text, "nor on the list page")
        self.assertEqual(subscription.action_preview()["url"].split("access_token=")[1], token, "staff keep it")

    # ------------------------------------------------------------------
    # Item 3: a GET of the card page changes nothing
    # ------------------------------------------------------------------

    def stripe_customers(self):
        """Every customer localstripe holds (paged)."""
        customers, after = [], None
        while True:
            page = self.localstripe.get("customers", limit=100, **({"starting_after": after} if after else {}))
            customers += page["data"]
            if not page["has_more"]:
                return customers
            after = page["data"][-1]["id"]

    def test_card_page_get_creates_nothing_without_a_stripe_subscription(self):
        stranger_company = self.stranger.partner_id.commercial_partner_id
        stranger_company.property_product_pricelist = self.eur_pricelist
        self.prepare(partner_id=stranger_company.id, contact_id=self.stranger.partner_id.id)
        customers_before = len(self.stripe_customers())
        self.authenticate("vita_stranger", "vita_stranger")
        self.assertEqual(self.url_open("/my/credit_card").status_code, 404)
        home = self.url_open("/my/home").text
        self.assertNotIn("/my/credit_card", home, "no menu entry, no portal home entry")
        self.assertNotIn("o_vita_credit_card_link", home)
        answer = self.json_call("/my/credit_card/setup_intent", {"csrf_token": self.csrf_token()})
        self.assertIn("no running subscription", answer["error"])
        self.assertEqual(len(self.stripe_customers()), customers_before)
        self.assertFalse(stranger_company.vita_stripe_customer_test_id)
        self.assertFalse(stranger_company.vita_stripe_customer_live_id)

    def test_card_page_only_with_the_portal_setting(self):
        self.subscribed(contact_id=self.contact.id)
        self.authenticate("vita_owner", "vita_owner")
        self.assertEqual(self.url_open("/my/credit_card").status_code, 200)
        self.assertIn("o_vita_credit_card_link", self.url_open("/my/home").text)
        self.env["ir.config_parameter"].sudo().set_param(PARAM_PORTAL_ENABLED, False)
        self.assertEqual(self.url_open("/my/credit_card").status_code, 404)
        self.assertNotIn("/my/credit_card", self.url_open("/my/home").text)

    def test_card_page_get_reads_only(self):
        """A running subscription whose customer Odoo has no Stripe customer
        id for (say, forgotten by a restore): the page shows no card and the
        GET creates no Stripe customer."""
        self.subscribed(contact_id=self.contact.id)
        self.customer.vita_stripe_customer_test_id = False
        customers_before = len(self.stripe_customers())
        self.authenticate("vita_owner", "vita_owner")
        self.assertIn("No card is saved yet", self.url_open("/my/credit_card").text)
        self.assertEqual(len(self.stripe_customers()), customers_before)
        self.assertFalse(self.customer.vita_stripe_customer_test_id)
