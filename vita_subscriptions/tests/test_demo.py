"""The demo as `make run` sets it up: Stripe is the demo's localstripe
(tools/localstripe_server.py with a saved state, --state), seeded by
tools/seed_localstripe.py, its webhook wired the way tools/configure_demo.py
does; the demo's portal customer (portal / portal, "Vita Care for Joel")
subscribes through the portal's routes as the page and localstripe's
Stripe.js do, before and after localstripe restarts from its state file."""

import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime

import requests
from dateutil.relativedelta import relativedelta

from odoo.tests import HttpCase, tagged

from ..const import HANDLED_EVENT_TYPES, PARAM_STRIPE_API_BASE, PARAM_STRIPE_JS_URL, WEBHOOK_ROUTE
from .common import TEST_PUBLISHABLE_KEY, TEST_SECRET_KEY, LocalStripe, VitaCase
from .test_multicompany import free_port, stop
from .test_portal import PortalCase

ROOT = pathlib.Path(__file__).resolve().parents[2]
START_DEADLINE = 60  # seconds: a loaded 2-core machine starts Python slowly
EVENT_DEADLINE = 60  # localstripe sends each event about a second after the request
WEBHOOK_SECRET = "whsec_vitaDemoTests"
CARD_OK, CARD_3DS, CARD_DECLINED = "4242424242424242", "4000002500003155", "4000000000000341"


class DemoLocalStripe:
    """The demo's localstripe: the launcher with its state file, on a free
    loopback port it keeps across restarts."""

    def __init__(self, folder):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_file = folder / "localstripe-demo.pickle"
        self.log_file = folder / "localstripe.log"
        self.process = None

    def start(self):
        command = [sys.executable, str(ROOT / "tools" / "localstripe_server.py"), "--port", str(self.port)]
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own launcher, fixed arguments
                [*command, "--state", str(self.state_file)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited with {self.process.returncode}:\n{self.log()}")
            try:
                requests.get(f"{self.url}/v1/plans", auth=(TEST_SECRET_KEY, ""), timeout=2).raise_for_status()
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"localstripe did not answer within {START_DEADLINE} s:\n{self.log()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            stop(self.process)

    def restart(self):
        self.stop()
        self.start()

    def log(self):
        return self.log_file.read_text(errors="replace")[-4000:]


@tagged("post_install", "-at_install")
class TestDemo(VitaCase, HttpCase):
    json_call = PortalCase.json_call
    csrf_token = PortalCase.csrf_token

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        folder = pathlib.Path(tempfile.mkdtemp(prefix="vita_demo_"))
        cls.addClassCleanup(shutil.rmtree, folder, ignore_errors=True)
        cls.demo_stripe = DemoLocalStripe(folder)
        cls.demo_stripe.start()
        cls.addClassCleanup(cls.demo_stripe.stop)
        seed = [sys.executable, str(ROOT / "tools" / "seed_localstripe.py"), cls.demo_stripe.url, TEST_SECRET_KEY]
        subprocess.run(seed, check=True, timeout=START_DEADLINE)  # noqa: S603 - our own script
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param(PARAM_STRIPE_API_BASE, cls.demo_stripe.url)
        params.set_param(PARAM_STRIPE_JS_URL, f"{cls.demo_stripe.url}/js.stripe.com/v3/")
        cls.provider.vita_webhook_secret = WEBHOOK_SECRET
        cls.env["vita.stripe.plan"]._vita_sync_catalogue_from_stripe()
        cls.stripe = LocalStripe(cls.demo_stripe.url)
        cls.joel = cls.env.ref("vita_subscriptions.demo_subscription_portal")
        cls.plus_plan = cls.env.ref("vita_subscriptions.demo_plan_usd_plus_monthly")
        cls.Event = cls.env["vita.stripe.event"]

    # ------------------------------------------------------------------
    # The page and Stripe.js
    # ------------------------------------------------------------------

    def subscribe_on_portal(self, subscription, number):
        """What the page does: a SetupIntent from Odoo, confirmed with Stripe
        (3-D Secure completed), /subscribe, and after a first payment that
        asks for 3-D Secure, its authentication then /authenticated."""
        route = f"/my/subscriptions/{subscription.id}"
        csrf_token = self.csrf_token()
        answer = self.json_call(f"{route}/setup_intent", {"csrf_token": csrf_token, "attempt": uuid.uuid4().hex})
        self.assertIn("client_secret", answer, answer)
        setup_intent = self.confirm_card_setup(answer["client_secret"], number)
        self.assertEqual(setup_intent.get("status"), "succeeded", setup_intent)
        params = {"csrf_token": csrf_token, "payment_method_id": setup_intent["payment_method"]}
        outcome = self.json_call(f"{route}/subscribe", params)
        if outcome.get("requires_action"):
            self.confirm_card_payment(outcome["client_secret"])
            outcome = {**self.json_call(f"{route}/authenticated", {"csrf_token": csrf_token}), "3-D Secure": True}
        return outcome

    def confirm_card_setup(self, client_secret, number):
        """Stripe.js's confirmCardSetup as localstripe's fake one sends it;
        its 3-D Secure box answered "Complete authentication"."""
        setup_intent_id = client_secret.split("_secret_")[0]
        url = f"{self.demo_stripe.url}/v1/setup_intents/{setup_intent_id}/confirm"
        body = {"key": TEST_PUBLISHABLE_KEY, "use_stripe_sdk": True, "client_secret": client_secret}
        card = {"number": number, "exp_month": "12", "exp_year": "34", "cvc": "123"}
        answer = requests.post(url, json={**body, "payment_method_data": {"type": "card", "card": card}}, timeout=10)
        if answer.json().get("status") == "requires_action":
            answer = requests.post(url, json=body, timeout=10)
        return answer.json()

    def confirm_card_payment(self, client_secret):
        """Stripe.js's confirmCardPayment: the 3-D Secure box, completed."""
        intent_id = client_secret.split("_secret_")[0]
        requests.post(
            f"{self.demo_stripe.url}/v1/payment_intents/{intent_id}/_authenticate?success=true",
            json={"key": TEST_PUBLISHABLE_KEY, "client_secret": client_secret},
            timeout=10,
        ).raise_for_status()

    def change_plan_on_portal(self, subscription, plan, quantity):
        """Stripe's preview in the page, then the change confirmed; returns the preview."""
        route = f"/my/subscriptions/{subscription.id}"
        params = {"csrf_token": self.csrf_token(), "plan_id": plan.id, "quantity": quantity}
        preview = self.json_call(f"{route}/plan_preview", params)
        self.assertIn("proration_date", preview, preview)
        self.portal_post(subscription, "change_plan", **params, proration_date=preview["proration_date"])
        return preview

    def portal_post(self, subscription, action, **values):
        """A form of the page (cancel, reactivate), as the customer posts it."""
        data = {"csrf_token": self.csrf_token(), **values}
        self.url_open(f"/my/subscriptions/{subscription.id}/{action}", data=data).raise_for_status()

    # ------------------------------------------------------------------
    # Stripe's side
    # ------------------------------------------------------------------

    def stripe_subscriptions(self, subscription):
        """Every Stripe subscription of the record's customer made for the
        record, whatever its status (each test has its own Stripe customer)."""
        partner = subscription.commercial_partner_id.with_company(subscription.company_id)
        customer_id = partner[f"vita_stripe_customer_{subscription.mode}_id"]
        answer = self.stripe.get("subscriptions", customer=customer_id, status="all", limit=100)
        return [s for s in answer["data"] if s["metadata"].get("odoo_subscription_id") == str(subscription.id)]

    def wire_webhook(self):
        """localstripe's webhook to this server, as tools/configure_demo.py
        wires it (the event types Settings registers in Stripe); pointed
        nowhere afterwards (localstripe keeps it until it stops)."""
        hook = f"{self.demo_stripe.url}/_config/webhooks/demo"
        url = self.base_url() + f"{WEBHOOK_ROUTE}/{self.provider.vita_webhook_key}"
        self.env.flush_all()  # the HTTP thread reads the provider's key and secret
        wired = {"url": url, "secret": WEBHOOK_SECRET, "events": HANDLED_EVENT_TYPES}
        requests.post(hook, json=wired, timeout=10).raise_for_status()
        self.addCleanup(requests.post, hook, json={**wired, "events": []}, timeout=10)

    def wait_for(self, find, what):
        """What ``find`` returns once it is something, after the queue's cron
        lanes handled the events received. The HTTP thread writes in this
        test's transaction: read under its lock."""
        deadline = time.monotonic() + EVENT_DEADLINE
        while time.monotonic() < deadline:
            with self.registry.test_lock:
                self.env.invalidate_all()
                found = find()
                if found:
                    self.Event._vita_process_queue()
                    self.env.invalidate_all()
                    return found
            time.sleep(0.2)
        self.fail(f"{what} did not arrive:\n{self.demo_stripe.log()}")

    # ------------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------------

    def test_subscribe_then_again_after_a_restart_from_the_saved_state(self):
        self.authenticate("portal", "portal")
        outcome = self.subscribe_on_portal(self.joel, CARD_OK)
        self.assertEqual(outcome.get("state"), "active", outcome)
        preview = self.change_plan_on_portal(self.joel, self.plus_plan, 2)
        self.assertIn("66.00", preview["amount_proration"], "−32.00 unused, +98.00 for the rest of the month")
        self.assertIn("164.00", preview["amount_next"], "prorations, then 2 × 49.00")
        self.joel.invalidate_recordset()
        self.assertEqual((self.joel.plan_id, self.joel.quantity), (self.plus_plan, 2))
        first_stripe_id = self.joel.stripe_subscription_id

        self.demo_stripe.restart()
        self.assertEqual(self.stripe.get(f"subscriptions/{first_stripe_id}")["status"], "active", "saved and reloaded")
        second = self.env["vita.subscription"].create(
            {
                "name": "Second care for Joel",
                "partner_id": self.joel.partner_id.id,
                "contact_id": self.joel.contact_id.id,
                "plan_id": self.env.ref("vita_subscriptions.demo_plan_usd_monthly").id,
            }
        )
        outcome = self.subscribe_on_portal(second, CARD_3DS)
        self.assertEqual(outcome, {"state": "active", "3-D Secure": True})

        for subscription in self.joel | second:
            subscription.invalidate_recordset()
            self.assertEqual(subscription.state, "active")
            stripe_subscriptions = self.stripe_subscriptions(subscription)
            self.assertEqual([s["id"] for s in stripe_subscriptions], [subscription.stripe_subscription_id])
            self.assertEqual(stripe_subscriptions[0]["status"], "active")
        first_invoice = self.stripe.get(f"invoices/{self.stripe_subscriptions(second)[0]['latest_invoice']}")
        self.assertEqual(first_invoice["amount_paid"], 3200, "the first plan's prorations stay on the first plan")
        self.assertNotIn("Traceback", self.demo_stripe.log())

    def test_declined_card_is_told_then_another_card_subscribes(self):
        self.authenticate("portal", "portal")
        outcome = self.subscribe_on_portal(self.joel, CARD_DECLINED)
        self.assertEqual(outcome.get("state"), "not_subscribed", outcome)
        self.assertIn("declined", outcome.get("error", ""))
        outcome = self.subscribe_on_portal(self.joel, CARD_OK)
        self.assertEqual(outcome.get("state"), "active", outcome)
        self.joel.invalidate_recordset()
        statuses = {s["id"]: s["status"] for s in self.stripe_subscriptions(self.joel)}
        self.assertEqual(sorted(statuses.values()), ["active", "canceled"], "the declined attempt was cancelled")
        self.assertEqual(statuses[self.joel.stripe_subscription_id], "active")
        self.assertNotIn("Traceback", self.demo_stripe.log())

    def test_portal_cancel_and_reactivate_reach_odoo_as_events(self):
        self.wire_webhook()
        self.authenticate("portal", "portal")
        outcome = self.subscribe_on_portal(self.joel, CARD_OK)
        self.assertEqual(outcome.get("state"), "active", outcome)
        with self.registry.test_lock:
            self.joel.invalidate_recordset()
            stripe_id = self.joel.stripe_subscription_id
        paid = self.wait_for(
            lambda: self.Event.search([("event_type", "=", "invoice.paid"), ("queue_key", "=", stripe_id)]),
            "invoice.paid",
        )

        self.portal_post(self.joel, "cancel", when="period_end")
        self.portal_post(self.joel, "reactivate")

        def cancellation_changes():
            events = self.Event.search(
                [("event_type", "=", "customer.subscription.updated"), ("object_id", "=", stripe_id)]
            )
            changes = {event: json.loads(event.payload)["data"]["previous_attributes"] for event in events}
            events = events.filtered(lambda event: "cancel_at_period_end" in changes[event])
            return len(events) == 2 and (events, [changes[event]["cancel_at_period_end"] for event in events])

        events, previous = self.wait_for(cancellation_changes, "customer.subscription.updated of cancel and reactivate")
        with self.registry.test_lock:
            self.assertEqual(sorted(previous), [False, True], "each told what it changed")
            self.assertEqual(set((paid | events).mapped("state")), {"processed"})
            self.assertEqual((self.joel.state, self.joel.cancel_at_period_end), ("active", False))
            settings = self.env["res.config.settings"].create({})
            self.assertTrue(settings.vita_webhook_last_event, "Settings: an event was received")
            move = self.joel.invoice_ids
            self.assertEqual(len(move), 1)
            url = move.vita_stripe_invoice_url
        self.assertTrue(url, "the invoice links to Stripe's page for it")
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        self.assertIn("32.00 USD", page.text)

    def test_plan_change_is_previewed_with_prorations_of_the_current_period(self):
        self.assertIn(self.plus_plan, self.joel._vita_portal_plans(), "the demo offers a plan to change to")
        customer_id = self.joel.partner_id._vita_stripe_customer(self.joel._vita_gateway())
        self.stripe.give_card(customer_id)
        self.joel._vita_stripe_subscribe()
        stripe_subscription = self.stripe.get(f"subscriptions/{self.joel.stripe_subscription_id}")
        start = stripe_subscription["start_date"]
        end = int((datetime.fromtimestamp(start, UTC) + relativedelta(months=1)).timestamp())
        halfway = start + (end - start) // 2
        item = self.joel._vita_plan_change_item(self.plus_plan, 2)

        preview = self.joel._vita_gateway().preview_subscription_change(
            self.joel.stripe_subscription_id, [item], "create_prorations", halfway
        )
        unused = (end - halfway) / (end - start)
        proration = round(2 * 4900 * unused) - round(3200 * unused)
        self.assertEqual(preview["proration"], proration)
        self.assertEqual(preview["amount_due"], proration + 2 * 4900, "prorations, then the next month at 2 × 49")
        self.assertEqual(preview["next_payment_attempt"], end)

        self.joel._vita_change_plan(self.plus_plan, 2, proration_date=halfway, portal=True)
        item = self.stripe.get(f"subscriptions/{self.joel.stripe_subscription_id}")["items"]["data"][0]
        self.assertEqual((item["plan"]["id"], item["quantity"]), (self.plus_plan.stripe_id, 2))
        pending = self.stripe.get("invoiceitems", customer=customer_id)["data"]
        self.assertEqual(
            sorted(item["amount"] for item in pending),
            [-round(3200 * unused), round(2 * 4900 * unused)],
            "Stripe's prorations, as previewed, wait for the next invoice",
        )
