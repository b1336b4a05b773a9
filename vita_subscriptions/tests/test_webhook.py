import json
import threading
import time
from unittest.mock import patch

import requests
from psycopg2 import errors as pg_errors

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from ..const import EVENT_HANDLERS
from ..controllers.webhook import MAX_BODY_BYTES
from ..models import vita_stripe_event
from . import stripe_payloads as payloads
from .webhook_common import WEBHOOK_SECRET, WebhookCase, event, invoice, invoice_line, sign, unique

# localstripe keeps webhooks for good: a finished test points its own at a
# closed port so later test classes get no stray deliveries.
DEAD_URL = "http://127.0.0.1:9/vita-webhook-gone"


@tagged("post_install", "-at_install")
class TestWebhookEndpoint(WebhookCase, HttpCase):
    """What the endpoint accepts, what it refuses, and that a refusal
    writes nothing."""

    def post(self, body, signature=None, path=None, headers=None):
        headers = dict(headers or {})
        if signature is not None:
            headers["Stripe-Signature"] = signature
        headers.setdefault("Content-Type", "application/json")
        return self.url_open(path or self.webhook_path(), data=body, headers=headers)

    def event_body(self, **kwargs):
        stripe_event = event("setup_intent.succeeded", {"id": unique("seti"), "object": "setup_intent"}, **kwargs)
        return stripe_event, json.dumps(stripe_event).encode()

    def assert_refused(self, response, status):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(self.Event.search_count([]), self.events_before, "nothing may be stored")

    def setUp(self):
        super().setUp()
        self.events_before = self.Event.search_count([])

    def test_valid_event_is_stored_and_handled(self):
        stripe_event, body = self.event_body()
        response = self.post(body, sign(body))
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json(), {"received": True, "state": "received"}, "acknowledged, queued")
        self.run_queue()
        record = self.Event.search([("stripe_id", "=", stripe_event["id"])])
        self.assertEqual(record.state, "processed")
        self.assertEqual(record.event_type, "setup_intent.succeeded")
        self.assertEqual(record.attempts, 1)
        self.assertEqual(json.loads(record.payload), stripe_event)

    def test_signature_failures_store_nothing(self):
        stripe_event, body = self.event_body()
        now = int(time.time())
        cases = {
            "missing header": None,
            "empty header": "",
            "garbage header": "nonsense",
            "wrong secret": sign(body, secret="whsec_notTheRightOne"),
            # Far outside the 300 s tolerance: on a loaded machine seconds
            # pass between signing and checking (now + 301 once got through).
            "stale timestamp": sign(body, timestamp=now - 301),
            "future timestamp": sign(body, timestamp=now + 3600),
            "tampered body": sign(body.replace(b"setup_intent.succeeded", b"invoice.paid")),
        }
        for case, signature in cases.items():
            with self.subTest(case=case):
                tampered = case == "tampered body"
                payload = body.replace(b"setup_intent.succeeded", b"invoice.pai") if tampered else body
                self.assert_refused(self.post(payload, signature), 400)
        self.assertFalse(self.Event.search([("stripe_id", "=", stripe_event["id"])]))

    def test_timestamp_within_tolerance_is_accepted(self):
        _event, body = self.event_body()
        self.assertEqual(self.post(body, sign(body, timestamp=int(time.time()) - 250)).status_code, 200)

    def test_no_secret_configured_fails_closed(self):
        self.provider.vita_webhook_secret = False
        _event, body = self.event_body()
        self.assert_refused(self.post(body, sign(body)), 503)

    def test_wrong_or_disabled_key_is_404(self):
        _event, body = self.event_body()
        self.assert_refused(self.post(body, sign(body), path=self.webhook_path("WrongKey1234567890")), 404)
        self.provider.vita_webhook_key = False
        self.assert_refused(self.post(body, sign(body), path=self.webhook_path("WrongKey1234567890")), 404)

    def test_get_is_not_allowed(self):
        response = self.url_open(self.webhook_path())
        self.assertIn(response.status_code, (404, 405))
        self.assertEqual(self.Event.search_count([]), self.events_before)

    def test_malformed_bodies(self):
        for case, body in {
            "not json": b"{not json",
            "not an event": b"[1, 2, 3]",
            "no id": json.dumps({"type": "invoice.paid"}).encode(),
            "not utf-8": b"\xff\xfe{}",
        }.items():
            with self.subTest(case=case):
                self.assert_refused(self.post(body, sign(body)), 400)

    def test_signed_but_malformed_events_never_answer_5xx(self):
        """Each is either recorded as failed with the reason (and never
        handled) or refused with 400; nothing else is written."""
        base = event("invoice.paid", {"id": "in_malformed", "object": "invoice"})
        recorded = {
            "data as a string": {**base, "data": "in_malformed"},
            "data.object a list": {**base, "data": {"object": [1, 2]}},
            "created out of range": {**base, "created": 10**15},
            "created negative": {**base, "created": -5},
            "created a string": {**base, "created": "yesterday"},
            "api_version not a string": {**base, "api_version": {"v": 1}},
            "api_version with NUL": {**base, "api_version": "2026\x00"},
            "livemode a string": {**base, "livemode": "yes"},
            "object id a number": {**base, "data": {"object": {"id": 12, "object": "invoice"}}},
        }
        for case, malformed in recorded.items():
            with self.subTest(case=case):
                stripe_event = {**malformed, "id": unique("evt")}
                body = json.dumps(stripe_event).encode()
                response = self.post(body, sign(body))
                self.assertEqual(response.status_code, 200, response.text)
                record = self.Event.search([("stripe_id", "=", stripe_event["id"])])
                self.assertEqual((record.state, record.attempts, record.next_attempt), ("failed", 0, False))
                self.assertTrue(record.error)
                self.assertEqual(json.loads(record.payload), stripe_event)
        self.events_before = self.Event.search_count([])
        deep = b'{"id": "evt_deep", "type": "invoice.paid", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        refused = {
            "nested 100,000 deep": deep,
            "id too long": json.dumps({**base, "id": "evt_" + "x" * 5000}).encode(),
            "id with NUL": json.dumps({**base, "id": "evt_\x00"}).encode(),
            "type not a string": json.dumps({**base, "type": ["invoice.paid"]}).encode(),
        }
        for case, body in refused.items():
            with self.subTest(case=case), self.assertLogs("odoo.addons.vita_subscriptions", "WARNING") as logs:
                self.assert_refused(self.post(body, sign(body)), 400)
                self.assertIn("refused", logs.output[0])

    def test_malformed_event_retried_by_hand_fails_again_with_its_reason(self):
        stripe_event = {**event("invoice.paid", {"id": "in_x"}), "data": "in_x"}
        record = self.receive(stripe_event)
        self.assertEqual(record.state, "failed")
        record.action_retry()
        self.assertEqual(record.state, "failed")
        self.assertIn("data.object", record.error)

    def test_oversized_body_is_413(self):
        padding = "x" * MAX_BODY_BYTES
        stripe_event = event("setup_intent.succeeded", {"id": "seti_big", "object": "setup_intent", "pad": padding})
        body = json.dumps(stripe_event).encode()
        self.assert_refused(self.post(body, sign(body)), 413)

    def test_duplicate_delivery_is_acknowledged_once(self):
        subscription = self.linked()
        stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(2500)], total=2500)
        stripe_event = event("invoice.paid", stripe_invoice)
        body = json.dumps(stripe_event).encode()
        first = self.post(body, sign(body))
        self.run_queue()
        second = self.post(body, sign(body))
        self.run_queue()
        self.env.invalidate_all()
        self.assertEqual(first.json(), {"received": True, "state": "received"})
        self.assertEqual((second.status_code, second.json()), (200, {"received": True, "duplicate": True}))
        self.assertEqual(self.Event.search_count([("stripe_id", "=", stripe_event["id"])]), 1)
        self.assertEqual(len(subscription.invoice_ids), 1)

    def test_concurrent_http_deliveries(self):
        """Two deliveries of one event at the same time through the HTTP
        server: one row, one invoice, both answered 200."""
        subscription = self.linked()
        stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(2500)], total=2500)
        stripe_event = event("invoice.paid", stripe_invoice)
        body = json.dumps(stripe_event).encode()
        url = self.base_url() + self.webhook_path()
        answers = []
        self.env.flush_all()  # the HTTP threads read the database, not this cache

        def deliver():
            response = requests.post(
                url, data=body, headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"}, timeout=30
            )
            answers.append((response.status_code, response.json()))

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(status for status, _body in answers), [200, 200])
        self.assertEqual(sum(1 for _status, answer in answers if answer.get("duplicate")), 1)
        self.env.invalidate_all()
        self.run_queue()
        self.assertEqual(self.Event.search_count([("stripe_id", "=", stripe_event["id"])]), 1)
        self.assertEqual(len(subscription.invoice_ids), 1)

    def test_duplicate_through_http_query_count(self):
        _event, body = self.event_body()
        self.post(body, sign(body))
        with self.assertQueryCount(10):
            self.post(body, sign(body))


@tagged("post_install", "-at_install")
class TestEventHandling(WebhookCase):
    """The handler table, ordering, unknown subscriptions, retries."""

    def test_every_type_in_the_table_has_its_handler(self):
        """A type Stripe is asked to send reaches a method of the event
        model, and no handler is left out of the table."""
        handlers = {name for name in dir(type(self.Event)) if name.startswith("_handle_")}
        for event_type, method in EVENT_HANDLERS.items():
            with self.subTest(event_type=event_type):
                self.assertIn(method, handlers)
        self.assertEqual(set(EVENT_HANDLERS.values()), handlers, "a handler no event type reaches")

    def test_unknown_type_is_ignored(self):
        record = self.receive(event("customer.created", {"id": "cus_1", "object": "customer"}))
        self.assertEqual(record.state, "ignored")

    def test_events_of_unknown_subscriptions_are_ignored(self):
        for stripe_event in (
            event("customer.subscription.updated", payloads.subscription(subscription_id=unique("sub"))),
            event("invoice.paid", invoice(unique("sub"), [invoice_line(2500)], total=2500)),
            event("invoice.payment_failed", invoice(unique("sub"), [invoice_line(2500)], total=2500, status="open")),
            event("invoice.paid", {**invoice("x", [invoice_line(100)], total=100), "parent": None}),
        ):
            with self.subTest(type=stripe_event["type"]):
                record = self.receive(stripe_event)
                self.assertEqual(record.state, "ignored", record.error)
                self.assertFalse(record.subscription_id)

    def test_status_event_follows_current_stripe_object(self):
        subscription = self.linked()
        current = payloads.subscription(subscription_id=subscription.stripe_subscription_id, status="past_due")
        older = payloads.subscription(subscription_id=subscription.stripe_subscription_id, status="active")
        with self.recorded_stripe(
            {("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}"): (200, current)}
        ):
            self.receive(event("customer.subscription.updated", current, created=int(time.time())))
            self.assertEqual(subscription.state, "past_due")
            # An older "active" event delivered late: Stripe still says past_due.
            late = self.receive(event("customer.subscription.updated", older, created=int(time.time()) - 3600))
        self.assertEqual(late.state, "processed")
        self.assertEqual(late.subscription_id, subscription)
        self.assertEqual(subscription.state, "past_due", "a late older event never rolls the state back")

    def test_deleted_event(self):
        subscription = self.linked()
        canceled = payloads.subscription(subscription_id=subscription.stripe_subscription_id, status="canceled")
        with self.recorded_stripe(
            {("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}"): (200, canceled)}
        ):
            self.receive(event("customer.subscription.deleted", canceled))
        self.assertEqual(subscription.state, "canceled")

    def test_failure_is_recorded_then_retried(self):
        subscription = self.linked()
        stripe_subscription = payloads.subscription(subscription_id=subscription.stripe_subscription_id)
        path = ("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
        with self.recorded_stripe({path: payloads.error(500, "Stripe is down", error_type="api_error")}):
            record = self.receive(event("customer.subscription.updated", stripe_subscription))
        self.assertEqual(record.state, "failed")
        self.assertIn("HTTP 500", record.error)
        self.assertEqual(record.attempts, 1)
        self.assertTrue(record.next_attempt)
        # Not due yet: the cron leaves it.
        self.assertFalse(self.Event._cron_retry_failed())
        record.next_attempt = "2000-01-01 00:00:00"
        with self.recorded_stripe({path: (200, {**stripe_subscription, "status": "unpaid"})}):
            self.assertIn(record, self.Event._cron_retry_failed())
            self.assertEqual(record.state, "received", "back in the queue: the lanes handle it")
            self.run_queue()
        self.assertEqual((record.state, record.attempts, record.error), ("processed", 2, False))
        self.assertEqual(subscription.state, "unpaid")

    def test_concurrent_update_is_retried_at_once(self):
        """A conflict with another transaction (e.g. two workers numbering
        a journal's first invoices): taken again at once by the queue, no
        failed event, no waiting."""
        Event = type(self.Event)
        conflict = pg_errors.SerializationFailure("could not serialize access due to concurrent update")
        seti_event = event("setup_intent.succeeded", {"id": unique("seti"), "object": "setup_intent"})
        with patch.object(Event, "_handle_nothing_to_do", side_effect=[conflict, "processed"]) as handler:
            record = self.receive(seti_event)
        self.assertEqual(handler.call_count, 2)
        self.assertEqual((record.state, record.attempts, record.error), ("processed", 2, False))
        self.assertFalse(record.next_attempt)

    def test_persisting_conflict_is_told_in_plain_words(self):
        Event = type(self.Event)
        conflict = pg_errors.SerializationFailure("could not serialize access due to concurrent update")
        seti_event = event("setup_intent.succeeded", {"id": unique("seti"), "object": "setup_intent"})
        with patch.object(Event, "_handle_nothing_to_do", side_effect=conflict):
            record = self.receive(seti_event)
        self.assertEqual(record.attempts, vita_stripe_event.QUIET_CONFLICT_ATTEMPTS + 1)
        self.assertEqual(record.state, "failed")
        self.assertIn("Another update of the same subscription", record.error)
        self.assertNotIn("serializ", record.error.lower())
        record.action_retry()
        self.assertEqual((record.state, record.error), ("processed", False))

    def test_retry_button(self):
        subscription = self.linked()
        stripe_subscription = payloads.subscription(subscription_id=subscription.stripe_subscription_id)
        path = ("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
        with self.recorded_stripe({path: payloads.error(500, "down", error_type="api_error")}):
            record = self.receive(event("customer.subscription.updated", stripe_subscription))
        with self.recorded_stripe({path: (200, stripe_subscription)}):
            record.action_retry()
        self.assertEqual(record.state, "processed")

    def test_event_views_show_the_stripe_account(self):
        """With one Stripe account per company, the log tells which one
        received each event."""
        views = self.Event.get_views([(False, "list"), (False, "form")])["views"]
        for kind in ("list", "form"):
            self.assertIn('name="provider_id"', views[kind]["arch"], kind)

    def test_retry_is_for_managers_and_logged(self):
        record = self.receive({**event("invoice.paid", {"id": "in_retry"}), "data": "in_retry"})
        clerk = new_test_user(self.env, "vita_clerk_retry", groups="vita_subscriptions.group_subscription_user")
        attempts = record.attempts
        with self.assertRaises(AccessError):
            record.with_user(clerk).action_retry()
        self.assertEqual(record.attempts, attempts, "not handled")
        manager = new_test_user(self.env, "vita_manager_retry", groups="vita_subscriptions.group_subscription_manager")
        with patch.object(vita_stripe_event._logger, "info") as log_info:
            record.with_user(manager).action_retry()
        self.assertEqual(record.attempts, attempts + 1)
        log_info.assert_any_call("Stripe events %s retried by user %s", [record.stripe_id], manager.id)

    def test_abandoned_attempt_metadata_is_ignored(self):
        """Stripe's metadata names an Odoo record that is not being
        subscribed (not locked by another transaction): ignored."""
        subscription = self.prepare()
        stripe_subscription = payloads.subscription(
            subscription_id=unique("sub"), metadata={"odoo_subscription_id": str(subscription.id)}
        )
        record = self.receive(event("customer.subscription.created", stripe_subscription))
        self.assertEqual(record.state, "ignored")

    def test_query_counts(self):
        subscription = self.linked()
        stripe_subscription = payloads.subscription(
            subscription_id=subscription.stripe_subscription_id, status="past_due"
        )
        status_event = event("customer.subscription.updated", stripe_subscription)
        path = ("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
        with self.recorded_stripe({path: (200, stripe_subscription)}):
            self.receive(event("setup_intent.succeeded", {"id": "seti_warm", "object": "setup_intent"}))
            with self.assertQueryCount(25):
                self.receive(status_event)
            self.assertEqual(subscription.state, "past_due")
            with self.assertQueryCount(10):
                self.assertFalse(self.receive(status_event), "duplicate")


def wait_for_lock_waiter(registry, deadline):
    """Poll until another session of this database waits on a lock (the
    second delivery blocked on the first one's uncommitted row)."""
    while time.monotonic() < deadline:
        with registry.cursor() as cr:
            cr.execute("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            if cr.fetchone():
                return True
        time.sleep(0.05)
    return False


@tagged("post_install", "-at_install")
class TestConcurrentDelivery(WebhookCase):
    """Two workers, two real transactions, one event: one row, handled once."""

    def test_concurrent_duplicates_on_two_workers(self):
        stripe_event = event("setup_intent.succeeded", {"id": unique("seti"), "object": "setup_intent"})
        payload = json.dumps(stripe_event)
        first_inserted, results = threading.Event(), {}

        # An assertion failing in a thread would not fail the test: the
        # threads collect what they saw, the test asserts after join().
        def worker(name, hold):
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    record = env["vita.stripe.event"]._vita_receive(stripe_event, payload)
                    env["vita.stripe.event"]._vita_process_queue(only_ids=record.ids)
                    results[name] = record.id
                    if hold:
                        first_inserted.set()
                        results["second_blocked"] = wait_for_lock_waiter(self.registry, deadline=time.monotonic() + 20)
            except Exception as error:  # reported by the main thread
                results[f"{name}_error"] = error
                first_inserted.set()

        first = threading.Thread(target=worker, args=("first", True))
        first.start()
        self.assertTrue(first_inserted.wait(10))
        second = threading.Thread(target=worker, args=("second", False))
        second.start()
        first.join(20)
        second.join(20)
        try:
            self.assertFalse(first.is_alive() or second.is_alive(), "both workers finished")
            self.assertNotIn("first_error", results)
            self.assertNotIn("second_error", results)
            self.assertTrue(results["second_blocked"], "the second worker waits on the first one's row")
            with self.registry.cursor() as cr:
                cr.execute("SELECT state, attempts FROM vita_stripe_event WHERE stripe_id = %s", [stripe_event["id"]])
                rows = cr.fetchall()
            self.assertEqual(rows, [("processed", 1)])
            self.assertTrue(results["first"])
            self.assertFalse(results["second"], "the second delivery is acknowledged as a duplicate")
        finally:
            with self.registry.cursor() as cr:
                cr.execute("DELETE FROM vita_stripe_event WHERE stripe_id = %s", [stripe_event["id"]])

    def test_two_events_of_one_invoice_on_two_workers(self):
        """invoice.paid and invoice.payment_succeeded of one Stripe invoice
        on two workers: the second began before the first committed, so
        its snapshot cannot see the first's Odoo invoice. Both events end
        processed, one Odoo invoice. (Committed data: a demo subscription
        borrowed for the test, everything undone at the end.)"""
        stripe_subscription_id = unique("sub")
        stripe_invoice = invoice(stripe_subscription_id, [invoice_line(3000)], total=3000, currency="usd")
        events = [event(kind, stripe_invoice) for kind in ("invoice.paid", "invoice.payment_succeeded")]
        with self.registry.cursor() as cr:
            subscription = api.Environment(cr, SUPERUSER_ID, {}).ref("vita_subscriptions.demo_subscription_deco_addict")
            saved = {"stripe_subscription_id": subscription.stripe_subscription_id, "state": subscription.state}
            subscription.with_context(vita_from_stripe=True).write(
                {"stripe_subscription_id": stripe_subscription_id, "state": "active"}
            )
        second_cr = self.registry.cursor()
        try:
            second = api.Environment(second_cr, SUPERUSER_ID, {})
            second["vita.subscription"].search_count([])  # its snapshot starts here
            with self.registry.cursor() as first_cr:
                first = api.Environment(first_cr, SUPERUSER_ID, {})
                first_record = first["vita.stripe.event"]._vita_receive(events[0], json.dumps(events[0]))
                first["vita.stripe.event"]._vita_process_queue(only_ids=first_record.ids)
                self.assertEqual(first_record.state, "processed", first_record.error)
            second_record = second["vita.stripe.event"]._vita_receive(events[1], json.dumps(events[1]))
            second["vita.stripe.event"]._vita_process_queue(only_ids=second_record.ids)
            self.assertEqual((second_record.state, second_record.error), ("processed", False))
            second_cr.commit()
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                moves = env["account.move"].search([("vita_stripe_invoice_id", "=", stripe_invoice["id"])])
                self.assertEqual(len(moves), 1)
                self.assertEqual(moves.amount_total, 30.0)
        finally:
            second_cr.close()
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                self._undo_booking(env, stripe_invoice["id"], [e["id"] for e in events])
                env.ref("vita_subscriptions.demo_subscription_deco_addict").with_context(vita_from_stripe=True).write(
                    saved
                )

    @staticmethod
    def _undo_booking(env, stripe_invoice_id, event_ids):
        moves = env["account.move"].search([("vita_stripe_invoice_id", "=", stripe_invoice_id)])
        payments = moves.matched_payment_ids | moves._get_reconciled_payments()
        moves.line_ids.remove_move_reconcile()
        payments.action_draft()
        payments.unlink()
        moves.button_draft()
        moves.with_context(force_delete=True).unlink()
        env.cr.execute("DELETE FROM vita_stripe_event WHERE stripe_id IN %s", [tuple(event_ids)])


@tagged("post_install", "-at_install")
class TestEndToEndLocalStripe(WebhookCase, HttpCase):
    """Subscribe against localstripe; its signed webhooks reach the HTTP
    server; the paid invoice appears in Odoo, paid, and the state is active."""

    def wire_localstripe(self):
        hook = f"{self.stripe_url}/_config/webhooks/{unique('vita')}"
        url = self.base_url() + self.webhook_path()
        requests.post(hook, data={"url": url, "secret": WEBHOOK_SECRET}, timeout=10).raise_for_status()
        self.addCleanup(requests.post, hook, data={"url": DEAD_URL, "secret": WEBHOOK_SECRET}, timeout=10)

    def wait_for(self, condition, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # The HTTP thread works in this same test transaction: take
            # its lock while reading.
            with self.registry.test_lock:
                self.env.invalidate_all()
                self.run_queue()  # what the woken cron lanes do
                if condition():
                    return
            time.sleep(0.2)
        self.fail("timed out waiting for the webhook")

    def test_subscribe_then_webhooks_make_a_paid_invoice(self):
        self.wire_localstripe()
        # localstripe delivers at once (this class's set-up events too, and
        # it retries): the HTTP thread shares this test's cursor, so it
        # waits on the test lock while this thread uses it.
        with self.registry.test_lock:
            subscription = self.prepare(quantity=2, tax_rate_ids=[self.vat.id])
            subscription._vita_stripe_subscribe()
            stripe_id = subscription.stripe_subscription_id
            self.env.flush_all()

        def paid_invoice():
            moves = subscription.invoice_ids
            return moves and moves.state == "posted" and moves.payment_state in ("paid", "in_payment")

        self.wait_for(paid_invoice)
        self.wait_for(
            lambda: self.Event.search_count(
                [("event_type", "=", "customer.subscription.created"), ("object_id", "=", stripe_id)]
            )
        )
        with self.registry.test_lock:
            move = subscription.invoice_ids
            self.assertEqual(subscription.state, "active")
            self.assertEqual(move.amount_total, 60.0)  # 2 x 25.00 + 20 % VAT
            self.assertEqual(move.currency_id, self.eur)
            self.assertEqual(move.amount_residual, 0.0)
            self.assertEqual(move.invoice_line_ids.filtered("tax_ids").quantity, 2)
            events = self.Event.search([("subscription_id", "=", subscription.id)])
            self.assertIn("invoice.payment_succeeded", events.mapped("event_type"))
            self.assertEqual(set(events.mapped("state")), {"processed"})
