"""One Stripe account per company, end to end: two companies, each with its
Stripe provider on its own localstripe server (the second one started
here), each with its webhook key and signing secret."""

import importlib.util
import json
import pathlib
import socket
import subprocess
import sys
import time
import uuid

import requests

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools.misc import file_path

from ..const import PARAM_WEBHOOK_KEY, PARAM_WEBHOOK_SECRET
from ..stripe_gateway import StripeGateway
from .common import LocalStripe
from .test_settings import WEBHOOK_ENDPOINT
from .webhook_common import WEBHOOK_SECRET, WebhookCase, event, invoice, invoice_line, sign, unique

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECRET_KEY_B = "sk_test_vitaCompanyB4242"
WEBHOOK_SECRET_B = "whsec_vitaCompanyBTests"
START_DEADLINE = 60  # seconds: a loaded 2-core machine starts Python slowly


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_localstripe():
    """A second localstripe (tools/localstripe_server.py) on a free port,
    polled until it answers; returns (process, URL)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own launcher, fixed arguments
        [sys.executable, str(ROOT / "tools" / "localstripe_server.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the second localstripe exited with {process.returncode}")
        try:
            requests.get(f"{url}/v1/plans", auth=(SECRET_KEY_B, ""), timeout=2).raise_for_status()
            return process, url
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the second localstripe did not answer within {START_DEADLINE} s")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@tagged("post_install", "-at_install")
class TestTwoStripeAccounts(WebhookCase, HttpCase):
    """Company A (the main one, on the suite's localstripe) and company B
    (on a localstripe of its own): each company's events land only in its
    records."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        process, cls.stripe_url_b = start_localstripe()
        cls.addClassCleanup(stop, process)
        cls.localstripe_b = LocalStripe(cls.stripe_url_b, SECRET_KEY_B)
        run = uuid.uuid4().hex[:8]
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": f"Vita B {run}", "currency_id": cls.eur.id})
        cls.env["account.chart.template"].try_loading("generic_coa", company=cls.company_b, install_demo=False)
        cls.provider_b = cls.provider.copy(
            {
                "name": "Stripe B",
                "company_id": cls.company_b.id,
                "state": "test",
                "stripe_secret_key": SECRET_KEY_B,
                "vita_stripe_api_base": cls.stripe_url_b,
                "vita_webhook_secret": WEBHOOK_SECRET_B,
            }
        )
        env_b = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company_b.id]))
        cls.localstripe_b.create_plan(f"plan_{run}_b", 4000, "eur", "month", product="Care B")
        env_b["vita.stripe.plan"]._vita_sync_catalogue_from_stripe()
        cls.plan_b = env_b["vita.stripe.plan"].search([("stripe_id", "=", f"plan_{run}_b")])
        gateway_b = StripeGateway.for_company(env_b, cls.company_b)
        cls.stripe_customer_b = cls.customer.with_env(env_b)._vita_stripe_customer(gateway_b)
        cls.localstripe_b.give_card(cls.stripe_customer_b)

    def subscribed_b(self):
        env_b = self.env(context=dict(self.env.context, allowed_company_ids=[self.company_b.id]))
        subscription = env_b["vita.subscription"].create(
            {
                "name": "Care in B",
                "partner_id": self.customer.id,
                "plan_id": self.plan_b.id,
                "company_id": self.company_b.id,
            }
        )
        subscription._vita_stripe_subscribe()
        return subscription

    def deliver(self, stripe_event, provider, secret):
        body = json.dumps(stripe_event).encode()
        return self.url_open(
            self.webhook_path(provider.vita_webhook_key),
            data=body,
            headers={"Stripe-Signature": sign(body, secret=secret), "Content-Type": "application/json"},
        )

    def assert_handled(self, response, stripe_event, state):
        """Acknowledged at once, then handled by the queue with ``state``."""
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json(), {"received": True, "state": "received"})
        self.env.invalidate_all()
        self.run_queue()
        self.assertEqual(self.Event.search([("stripe_id", "=", stripe_event["id"])]).state, state)

    def test_each_account_on_its_own_stripe(self):
        """Company B's gateway talks to B's localstripe, with B's key."""
        subscription_b = self.subscribed_b()
        self.assertEqual(subscription_b.state, "active")
        self.assertTrue(self.localstripe_b.get(f"subscriptions/{subscription_b.stripe_subscription_id}"))
        with self.assertRaises(requests.HTTPError):
            self.localstripe.get(f"subscriptions/{subscription_b.stripe_subscription_id}")
        self.assertNotEqual(self.provider.vita_webhook_key, self.provider_b.vita_webhook_key)

    def test_events_land_in_their_company_only(self):
        subscription_a = self.subscribed()
        subscription_b = self.subscribed_b()
        invoices_a, invoices_b = len(subscription_a.invoice_ids), len(subscription_b.invoice_ids)
        # B cancels at period end in its own Stripe account; B's event says so.
        self.localstripe_b._post(
            f"subscriptions/{subscription_b.stripe_subscription_id}", json={"cancel_at_period_end": True}
        )
        updated_b = event(
            "customer.subscription.updated", {"id": subscription_b.stripe_subscription_id, "object": "subscription"}
        )
        self.assert_handled(self.deliver(updated_b, self.provider_b, WEBHOOK_SECRET_B), updated_b, "processed")
        record = self.Event.search([("stripe_id", "=", updated_b["id"])])
        self.assertEqual((record.provider_id, record.subscription_id), (self.provider_b, subscription_b))
        self.assertTrue(subscription_b.cancel_at_period_end)
        # The same Stripe subscription through A's webhook: not A's, ignored.
        updated_b_via_a = event(
            "customer.subscription.updated", {"id": subscription_b.stripe_subscription_id, "object": "subscription"}
        )
        self.assert_handled(self.deliver(updated_b_via_a, self.provider, WEBHOOK_SECRET), updated_b_via_a, "ignored")
        self.assertFalse(self.Event.search([("stripe_id", "=", updated_b_via_a["id"])]).subscription_id)
        # A paid invoice of A's subscription through B's webhook: ignored.
        paid_a = invoice(subscription_a.stripe_subscription_id, [invoice_line(2500)], total=2500)
        paid_a_via_b = event("invoice.paid", paid_a)
        self.assert_handled(self.deliver(paid_a_via_b, self.provider_b, WEBHOOK_SECRET_B), paid_a_via_b, "ignored")
        self.assertEqual(len(subscription_a.invoice_ids), invoices_a)
        # Through A's own webhook it is booked, in company A.
        paid_a_via_a = event("invoice.paid", paid_a)
        self.assert_handled(self.deliver(paid_a_via_a, self.provider, WEBHOOK_SECRET), paid_a_via_a, "processed")
        self.assertEqual(len(subscription_a.invoice_ids), invoices_a + 1)
        self.assertEqual(subscription_a.invoice_ids.company_id, self.company_a)
        # And B's through B's, in company B.
        paid_b = invoice(subscription_b.stripe_subscription_id, [invoice_line(4000)], total=4000)
        paid_b_event = event("invoice.paid", paid_b)
        self.assert_handled(self.deliver(paid_b_event, self.provider_b, WEBHOOK_SECRET_B), paid_b_event, "processed")
        self.assertEqual(len(subscription_b.invoice_ids), invoices_b + 1)
        self.assertEqual(subscription_b.invoice_ids.company_id, self.company_b)

    def test_card_events_land_in_their_company_only(self):
        """A card event (payment_method.*) of B's account updates B's
        subscriptions only, even where A's name the same card id."""
        subscription_a, subscription_b = self.subscribed(), self.subscribed_b()
        card_id = unique("pm")
        (subscription_a | subscription_b).with_context(vita_from_stripe=True).write(
            {"card_payment_method_id": card_id, "card_exp_month": 12, "card_exp_year": 2034}
        )
        payment_method = {
            "id": card_id,
            "object": "payment_method",
            "type": "card",
            "card": {"brand": "visa", "last4": "4242", "exp_month": 9, "exp_year": 2040},
        }
        updated_via_b = event("payment_method.automatically_updated", payment_method)
        self.assert_handled(self.deliver(updated_via_b, self.provider_b, WEBHOOK_SECRET_B), updated_via_b, "processed")
        self.assertEqual((subscription_b.card_exp_month, subscription_b.card_exp_year), (9, 2040))
        self.assertEqual((subscription_a.card_exp_month, subscription_a.card_exp_year), (12, 2034))

    def test_key_of_a_with_signature_of_b_is_refused(self):
        subscription_a = self.subscribed()
        invoices_a = len(subscription_a.invoice_ids)
        events_before = self.Event.search_count([])
        paid_a = event("invoice.paid", invoice(subscription_a.stripe_subscription_id, [invoice_line(2500)], total=2500))
        response = self.deliver(paid_a, self.provider, WEBHOOK_SECRET_B)
        self.assertEqual(response.status_code, 400, response.text)
        self.assertEqual(self.Event.search_count([]), events_before)
        self.assertEqual(len(subscription_a.invoice_ids), invoices_a)

    def test_settings_show_the_current_company_account(self):
        def settings(company):
            return self.env["res.config.settings"].with_company(company).create({})

        self.assertEqual(settings(self.company_b).vita_stripe_provider_id, self.provider_b)
        self.assertTrue(settings(self.company_b).vita_webhook_url.endswith(self.provider_b.vita_webhook_key))
        failed_a, failed_b = (
            settings(company).vita_webhook_failed_count for company in (self.company_a, self.company_b)
        )
        # An event Stripe sent malformed is recorded failed (an unknown type would be ignored).
        malformed = {**event("invoice.paid", {"id": unique("in"), "object": "invoice"}), "data": "in_x"}
        failed = self.Event._vita_receive(malformed, json.dumps(malformed), provider=self.provider_b)
        self.assertEqual(failed.state, "failed")
        self.assertEqual(settings(self.company_b).vita_webhook_failed_count, failed_b + 1)
        self.assertEqual(settings(self.company_a).vita_webhook_failed_count, failed_a)

    def test_create_webhook_in_the_current_company_account(self):
        """*Create webhook in Stripe* in company B: B's URL, in B's Stripe
        account (B's API key), the secret kept on B's provider only."""
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://erp.example.com")
        secret_a = self.provider.vita_webhook_secret
        endpoint = {**WEBHOOK_ENDPOINT, "secret": "whsec_CreatedForB"}
        with self.recorded_stripe({("POST", "/v1/webhook_endpoints"): (200, endpoint)}) as recorded:
            self.env["res.config.settings"].with_company(self.company_b).create({}).action_vita_create_webhook()
        (request,) = recorded.requests
        self.assertEqual(
            request["params"]["url"],
            f"https://erp.example.com/vita_subscriptions/webhook/{self.provider_b.vita_webhook_key}",
        )
        self.assertIn(SECRET_KEY_B, request["headers"]["Authorization"])
        self.assertEqual(self.provider_b.vita_webhook_secret, "whsec_CreatedForB")
        self.assertEqual(self.provider.vita_webhook_secret, secret_a)

    def test_invoice_lookups_scoped_to_the_account(self):
        """Money events (refunds) find booked invoices in the event's
        company only, even when a Stripe invoice id appears in both."""
        subscription_a = self.subscribed()
        paid_a = invoice(subscription_a.stripe_subscription_id, [invoice_line(2500)], total=2500)
        self.receive(event("invoice.paid", paid_a))
        move_a = subscription_a.invoice_ids.filtered(lambda move: move.vita_stripe_invoice_id == paid_a["id"])
        self.assertTrue(move_a)
        for provider, expected in ((self.provider_b, self.env["account.move"]), (self.provider, move_a)):
            # A type no handler takes: recorded (ignored) with its provider.
            unhandled = event("charge.dispute.funds_withdrawn", {"id": unique("dp"), "object": "dispute"})
            record = self.Event._vita_receive(unhandled, json.dumps(unhandled), provider=provider)
            self.run_queue()
            record.invalidate_recordset()
            self.assertEqual((record.state, record.provider_id), ("ignored", provider))
            subscription, move = record._vita_booked_invoice(paid_a["id"])
            self.assertEqual((subscription, move), (expected.vita_subscription_id, expected))


@tagged("post_install", "-at_install")
class TestProviderWebhookUpgrade(WebhookCase):
    def load_migration(self):
        path = file_path("vita_subscriptions/migrations/18.0.1.2.0/post-migrate.py")
        spec = importlib.util.spec_from_file_location("vita_post_migrate_18_0_1_2_0", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def test_migration_moves_params_onto_the_main_company_provider(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(PARAM_WEBHOOK_KEY, "OldDatabaseWideKey1234")
        params.set_param(PARAM_WEBHOOK_SECRET, "whsec_oldDatabaseWide")
        company_b = self.env["res.company"].create({"name": "Vita upgrade B"})
        provider_b = self.provider.copy({"company_id": company_b.id, "state": "disabled"})
        provider_b.vita_webhook_key = False
        self.env.flush_all()
        self.load_migration().migrate(self.env.cr, "18.0.1.1.0")
        self.env.invalidate_all()
        self.assertEqual(self.provider.vita_webhook_key, "OldDatabaseWideKey1234")
        self.assertEqual(self.provider.vita_webhook_secret, "whsec_oldDatabaseWide")
        self.assertRegex(provider_b.vita_webhook_key, r"^[A-Za-z0-9]{32}$")
        self.assertFalse(provider_b.vita_webhook_secret)
        self.assertFalse(params.search([("key", "in", (PARAM_WEBHOOK_KEY, PARAM_WEBHOOK_SECRET))]))

    def test_upgraded_key_answers_with_its_secret(self):
        self.env["ir.config_parameter"].sudo().set_param(PARAM_WEBHOOK_KEY, "OldDatabaseWideKey5678")
        self.env["ir.config_parameter"].sudo().set_param(PARAM_WEBHOOK_SECRET, WEBHOOK_SECRET)
        self.provider.vita_webhook_secret = False
        self.env["payment.provider"]._vita_adopt_webhook_params()
        found = self.env["payment.provider"]._vita_find_by_webhook_key("OldDatabaseWideKey5678")
        self.assertEqual(found, self.provider)
        body = json.dumps(event("setup_intent.succeeded", {"id": unique("seti")})).encode()
        self.assertTrue(found._vita_verify_webhook(body, sign(body)))

    def test_neutralize_blanks_every_provider(self):
        other = self.provider.copy({"name": "Stripe (other)", "state": "disabled", "vita_webhook_secret": "whsec_x"})
        self.env.flush_all()
        with open(file_path("vita_subscriptions/data/neutralize.sql")) as sql:
            self.env.cr.execute(sql.read())
        self.env.invalidate_all()
        for provider in self.provider | other:
            self.assertFalse(provider.vita_webhook_key)
            self.assertFalse(provider.vita_webhook_secret)
        self.assertFalse(self.env["payment.provider"]._vita_find_by_webhook_key(""))

    def test_secret_readable_by_system_admins_only(self):
        accountant = new_test_user(self.env, "vita_mc_accountant", groups="account.group_account_manager")
        with self.assertRaises(AccessError):
            self.provider.with_user(accountant).read(["vita_webhook_secret"])
        with self.assertRaises(AccessError):
            self.provider.with_user(accountant).read(["vita_stripe_api_base"])
        self.assertEqual(self.provider.read(["vita_webhook_secret"])[0]["vita_webhook_secret"], WEBHOOK_SECRET)
