"""The webhook queue: deliveries are acknowledged at once and handled by
the cron lanes, which share the pending events through row locks."""

import json
import threading
import time
from datetime import timedelta
from types import SimpleNamespace
from unittest.mock import patch

import requests
from lxml import etree

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.addons.base.models.ir_cron import ir_cron as BaseIrCron
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import config
from odoo.tools.safe_eval import safe_eval

from .. import cron_limits
from ..models import vita_stripe_event
from ..models.vita_stripe_event import MAX_ATTEMPTS, PARAM_EVENT_RETENTION_DAYS, QUEUE_LANES
from . import stripe_payloads as payloads
from .webhook_common import WEBHOOK_SECRET, WebhookCase, event, invoice, invoice_line, sign, unique

Event = vita_stripe_event.VitaStripeEvent
DEAD_URL = "http://127.0.0.1:9/vita-webhook-gone"


class Crash(BaseException):
    """A worker dying mid-batch (not an error a handler could catch)."""


# What Odoo 18 runs with when nothing is set, in prefork (--workers).
ODOO_DEFAULT_LIMITS = {"workers": 2, "limit_time_cpu": 60, "limit_time_real": 120, "limit_time_real_cron": -1}


def seti_event(**kwargs):
    return event("setup_intent.succeeded", {"id": unique("seti"), "object": "setup_intent"}, **kwargs)


@tagged("post_install", "-at_install")
class TestAcknowledgement(WebhookCase, HttpCase):
    """The request records and wakes a lane; nothing more."""

    def lane_triggers(self):
        crons = self.env["ir.cron"].browse(
            self.env.ref(f"vita_subscriptions.ir_cron_stripe_event_queue_{lane}").id
            for lane in range(1, QUEUE_LANES + 1)
        )
        return self.env["ir.cron.trigger"].search_count([("cron_id", "in", crons.ids)])

    def test_acknowledgement_query_count(self):
        """What the request does after the signature check: record the
        event and wake a lane in one statement (in a savepoint: 3 queries),
        or recognise a duplicate (the same 3). Measured on a cold cache, as
        a new request sees it; Odoo adds 2 of its own per request (database
        list, registry signaling), 5 in all: tools/bench_webhook.py reads
        them from Odoo's log."""
        self.receive(seti_event())  # warm the registry-level caches
        stripe_event = seti_event()
        payload = json.dumps(stripe_event)
        self.env.invalidate_all()
        triggers = self.lane_triggers()
        with self.assertQueryCount(3):
            record = self.Event._vita_receive(stripe_event, payload)
        self.assertEqual(record.state, "received")
        self.assertEqual(self.lane_triggers(), triggers + 1, "one queue lane woken")
        self.env.invalidate_all()
        with self.assertQueryCount(3):
            self.assertFalse(self.Event._vita_receive(stripe_event, payload), "duplicate")
        self.assertEqual(self.lane_triggers(), triggers + 1, "a duplicate wakes nothing")

    def test_lane_near_the_cpu_limit_resumes_at_the_next_poll(self):
        """A prefork cron worker is killed once it has spent limit_time_cpu
        in one poll of the jobs: a lane near that stops between events and
        triggers itself for the next poll, which has a fresh limit."""
        stripe_event = seti_event()
        record = self.Event._vita_receive(stripe_event, json.dumps(stripe_event))
        triggers = self.lane_triggers()
        with patch.object(cron_limits, "cpu_seconds_left", return_value=3.0):
            self.assertEqual(self.Event._cron_process_queue(2), 0)
            self.assertEqual(self.Event._vita_process_queue(own_transactions=True, only_ids=record.ids), 0)
        self.env.invalidate_all()
        self.assertEqual(record.state, "received", "left for the next poll")
        self.assertEqual(self.lane_triggers(), triggers + 1, "the lane triggered again")
        with patch.object(cron_limits, "cpu_seconds_left", return_value=45.0):
            self.assertEqual(self.Event._vita_process_queue(own_transactions=True, only_ids=record.ids), 1)
        self.env.invalidate_all()
        self.assertEqual(record.state, "processed")

    def test_cpu_left_is_read_from_the_process_limit(self):
        self.assertIsNone(cron_limits.cpu_seconds_left(), "no limit outside prefork workers")
        usage = SimpleNamespace(ru_utime=70.5, ru_stime=4.0)
        with (
            patch.object(cron_limits.resource, "getrlimit", return_value=(100, -1)),
            patch.object(cron_limits.resource, "getrusage", return_value=usage),
        ):
            self.assertEqual(cron_limits.cpu_seconds_left(), 25.5)

    def test_lane_near_the_real_time_limit_resumes_at_the_next_poll(self):
        """Odoo's defaults: a prefork cron worker is killed 120 s after its
        last ping, sent before it slept (up to 70 s) and before a poll that
        runs each ready lane up to ten times. 31 s into a poll that came
        after a full sleep, 19 s are left: less than an event may take."""
        stripe_event = seti_event()
        record = self.Event._vita_receive(stripe_event, json.dumps(stripe_event))
        triggers = self.lane_triggers()
        clock = [1000.0]
        self.addCleanup(vars(cron_limits._poll).clear)
        with patch.dict(config.options, ODOO_DEFAULT_LIMITS), patch.object(cron_limits, "monotonic", lambda: clock[0]):
            cron_limits.job_starting(object())
            clock[0] += 31
            self.assertEqual(self.Event._cron_process_queue(2), 0)
            self.assertEqual(self.Event._vita_process_queue(own_transactions=True, only_ids=record.ids), 0)
            self.env.invalidate_all()
            self.assertEqual(record.state, "received", "left for the next poll")
            self.assertEqual(self.lane_triggers(), triggers + 1, "the lane triggered again")
            cron_limits.job_finished()
            clock[0] += 0.5
            cron_limits.job_starting(object())  # the next poll, at once: the lane's trigger woke the worker
            self.assertEqual(self.Event._vita_process_queue(own_transactions=True, only_ids=record.ids), 1)
        self.env.invalidate_all()
        self.assertEqual(record.state, "processed")

    def test_handler_does_not_run_in_the_request(self):
        subscription = self.linked()
        stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(2500)], total=2500)
        stripe_event = event("invoice.paid", stripe_invoice)
        body = json.dumps(stripe_event).encode()
        triggers = self.lane_triggers()
        with patch.object(Event, "_handle_invoice_paid", autospec=True, side_effect=AssertionError("in request")):
            response = self.url_open(
                self.webhook_path(),
                data=body,
                headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"},
            )
        self.assertEqual((response.status_code, response.json()), (200, {"received": True, "state": "received"}))
        self.env.invalidate_all()
        record = self.Event.search([("stripe_id", "=", stripe_event["id"])])
        self.assertEqual((record.state, record.attempts), ("received", 0))
        self.assertEqual(record.queue_key, subscription.stripe_subscription_id)
        self.assertFalse(subscription.invoice_ids)
        self.assertEqual(self.lane_triggers(), triggers + 1, "one queue lane woken")
        self.run_queue()
        self.env.invalidate_all()
        self.assertEqual(record.state, "processed")
        self.assertEqual(len(subscription.invoice_ids), 1)


@tagged("post_install", "-at_install")
class TestQueueOrder(WebhookCase):
    def test_events_of_one_subscription_in_created_order(self):
        """Delivered out of order, handled in Stripe's order; only the
        oldest pending event of a subscription can be claimed."""
        first, second = self.linked(), self.linked()
        now = int(time.time())
        events = {}
        for name, subscription, created in (
            ("a3", first, now + 2),
            ("a1", first, now),
            ("b1", second, now + 1),
            ("a2", first, now + 1),
        ):
            stripe_subscription = payloads.subscription(subscription_id=subscription.stripe_subscription_id)
            stripe_event = event("customer.subscription.updated", stripe_subscription, created=created)
            events[name] = self.Event._vita_receive(stripe_event, json.dumps(stripe_event))
        claimed = self.Event.browse(self.Event._vita_claim_pending(10))
        self.assertEqual(claimed, events["a1"] | events["b1"], "one event per subscription, its oldest")
        order = []

        def handle(record, _stripe_subscription):
            order.append(record)
            return "processed"

        with patch.object(Event, "_handle_subscription", autospec=True, side_effect=handle):
            self.assertEqual(self.run_queue(), 4)
        first_events = [record for record in order if record != events["b1"]]
        self.assertEqual(first_events, [events["a1"], events["a2"], events["a3"]])

    def test_pending_retry_holds_later_events_of_its_subscription(self):
        subscription = self.linked()
        stripe_subscription = payloads.subscription(subscription_id=subscription.stripe_subscription_id)
        now = int(time.time())
        older, newer = (event("customer.subscription.updated", stripe_subscription, created=now + i) for i in (0, 1))
        older_record = self.Event._vita_receive(older, json.dumps(older))
        newer_record = self.Event._vita_receive(newer, json.dumps(newer))
        older_record.next_attempt = fields.Datetime.now() + timedelta(minutes=1)
        self.assertFalse(self.Event._vita_claim_pending(10, only_ids=(older_record | newer_record).ids))
        older_record.next_attempt = False
        self.assertEqual(
            self.Event._vita_claim_pending(10, only_ids=(older_record | newer_record).ids), older_record.ids
        )

    def test_failed_event_does_not_hold_its_subscription(self):
        """A failed event waits for its backoff (retry cron, Retry button):
        later events of the subscription go on."""
        subscription = self.linked()
        stripe_subscription = payloads.subscription(subscription_id=subscription.stripe_subscription_id)
        path = ("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
        with self.recorded_stripe({path: payloads.error(500, "Stripe is down", error_type="api_error")}):
            failed = self.receive(event("customer.subscription.updated", stripe_subscription))
        self.assertEqual(failed.state, "failed")
        with self.recorded_stripe({path: (200, {**stripe_subscription, "status": "past_due"})}):
            later = self.receive(event("customer.subscription.updated", stripe_subscription))
        self.assertEqual(later.state, "processed")
        self.assertEqual(subscription.state, "past_due")


@tagged("post_install", "-at_install")
class TestQueueWorkers(WebhookCase):
    """Real transactions, as two cron workers (or two servers) run them:
    committed events, cleaned up after each test."""

    def committed_events(self, count):
        return self.committed([seti_event() for _ in range(count)])

    def committed(self, stripe_events):
        """Record the events as deliveries do, committed."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            ids = [env["vita.stripe.event"]._vita_receive(e, json.dumps(e)).id for e in stripe_events]
        self.addCleanup(self.delete_events, ids)
        return ids

    def lane(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})["vita.stripe.event"]

    def subscription_events(self, count):
        """``count`` events of one Stripe subscription, oldest first."""
        stripe_subscription = {"id": unique("sub"), "object": "subscription", "status": "active"}
        now = int(time.time())
        return [event("customer.subscription.updated", stripe_subscription, created=now + i) for i in range(count)]

    def test_older_event_waits_while_a_newer_one_of_its_subscription_is_handled(self):
        """Stripe delivers an older event after a newer one of the same
        subscription was claimed: it is not handled beside it, and is
        handled once the newer one is done."""
        older, newer = self.subscription_events(2)
        [newer_id] = self.committed([newer])
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            self.assertEqual(self.lane(cr1)._vita_claim_pending(1), [newer_id], "a lane handles the newer one")
            [older_id] = self.committed([older])
            both = [older_id, newer_id]
            self.assertEqual(self.lane(cr2)._vita_claim_pending(10, only_ids=both), [], "not beside it")
            cr2.rollback()
            self.lane(cr1).browse(newer_id).write({"state": "processed"})
            cr1.commit()
            self.assertEqual(self.lane(cr2)._vita_claim_pending(10, only_ids=both), [older_id])
            cr2.rollback()

    def test_retry_cron_and_button_claim_like_the_lanes(self):
        """A failed event is retried through the lanes' claim: not while a
        newer event of its subscription is being handled, then before it."""
        older, newer = self.subscription_events(2)
        ids = self.committed([older, newer])
        with self.registry.cursor() as cr:
            cr.execute(
                "UPDATE vita_stripe_event SET state = 'failed', attempts = 1,"
                " next_attempt = now() at time zone 'UTC' - interval '1 minute' WHERE id = %s",
                [ids[0]],
            )
        handled = []

        def handle(record, _stripe_subscription):
            handled.append(record.id)
            return "processed"

        with (
            patch.object(Event, "_handle_subscription", autospec=True, side_effect=handle),
            self.registry.cursor() as cr1,
            self.registry.cursor() as cr2,
        ):
            self.assertEqual(self.lane(cr1)._vita_claim_pending(1, only_ids=ids), [ids[1]], "the newer one, in hand")
            retry = self.lane(cr2)
            self.assertEqual(retry._cron_retry_failed().ids, ids[:1], "back in the queue")
            self.assertEqual(retry._vita_process_queue(only_ids=ids), 0)
            retry.browse(ids[0]).action_retry()
            self.assertEqual(handled, [], "never beside the event in hand")
            cr1.rollback()  # that lane is done (or died)
            self.assertEqual(retry._vita_process_queue(only_ids=ids), 2)
            self.assertEqual(handled, ids, "the older first")
            cr2.rollback()

    def test_journal_first_number_taken_by_another_lane_is_retried_at_once(self):
        """Odoo numbers a journal's first entry when its draft is created
        (later ones at posting, where the sequence mixin retries): two lanes
        each draft the first number, and the second to post hits the unique
        index on names. The event is taken again at once, in a fresh
        transaction, and gets the next number: never a failed event."""
        journal_id = self.committed_sale_journal()
        [event_id] = self.committed_events(1)
        drafts, names = [], []

        def draft(env):
            move = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "journal_id": journal_id,
                    "partner_id": env.ref("base.partner_admin").id,
                    "invoice_line_ids": [Command.create({"name": "Care", "price_unit": 25.0})],
                }
            )
            drafts.append(move.name)  # computed now, as booking an invoice does (its amounts)
            return move

        def handle(record, _object):
            move = draft(record.env)
            if len(drafts) == 1:  # another lane drafts, posts and commits the journal's first invoice meanwhile
                with self.registry.cursor() as other_cr:
                    other = draft(api.Environment(other_cr, SUPERUSER_ID, {}))
                    other.action_post()
                    names.append(other.name)
            move.action_post()
            names.append(move.name)
            return "processed"

        with patch.object(Event, "_handle_nothing_to_do", autospec=True, side_effect=handle):
            with self.registry.cursor() as cr:
                self.assertEqual(self.lane(cr)._vita_process_queue(own_transactions=True, only_ids=[event_id]), 2)
        with self.registry.cursor() as cr:
            cr.execute("SELECT state, attempts, error FROM vita_stripe_event WHERE id = %s", [event_id])
            self.assertEqual(cr.fetchone(), ("processed", 2, None))
        first, ours = names
        self.assertEqual(drafts[:2], [first, first], "both lanes drafted the journal's first number")
        self.assertTrue(first.endswith("/00001"), first)
        self.assertEqual(ours, first[:-1] + "2", "the next number, on the second attempt")

    def committed_sale_journal(self):
        """A sale journal without entries, committed (deleted with its
        entries after the test)."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            sale = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", env.company.id)], limit=1)
            journal = env["account.journal"].create(
                {
                    "name": "Queue numbering",
                    "code": unique("Q")[-5:].upper(),
                    "type": "sale",
                    "company_id": env.company.id,
                    "default_account_id": sale.default_account_id.id,
                }
            )
        self.addCleanup(self.delete_journal, journal.id)
        return journal.id

    def delete_journal(self, journal_id):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM account_move WHERE journal_id = %s", [journal_id])
            cr.execute("DELETE FROM account_journal WHERE id = %s", [journal_id])

    def delete_events(self, ids):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM vita_stripe_event WHERE id = ANY(%s)", [ids])

    def states(self, ids):
        with self.registry.cursor() as cr:
            cr.execute("SELECT id, state FROM vita_stripe_event WHERE id = ANY(%s)", [ids])
            return dict(cr.fetchall())

    def test_two_cursors_claim_disjoint_events(self):
        ids = self.committed_events(6)
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            first = api.Environment(cr1, SUPERUSER_ID, {})["vita.stripe.event"]
            second = api.Environment(cr2, SUPERUSER_ID, {})["vita.stripe.event"]
            claimed_first = first._vita_claim_pending(3, only_ids=ids)
            claimed_second = second._vita_claim_pending(10, only_ids=ids)
            self.assertEqual(len(claimed_first), 3)
            self.assertFalse(set(claimed_first) & set(claimed_second), "disjoint")
            self.assertEqual(set(claimed_first) | set(claimed_second), set(ids))
            # Locked elsewhere: neither handled nor claimed a second time.
            self.assertFalse(second._vita_claim_pending(10, only_ids=claimed_first[:1]))
            cr1.rollback()  # the first worker dies: its events are free again
            self.assertEqual(set(second._vita_claim_pending(10, only_ids=claimed_first)), set(claimed_first))
            cr2.rollback()

    def test_claim_after_another_lane_committed(self):
        """Under REPEATABLE READ a transaction whose snapshot predates
        another lane's commit could not lock the rows that lane handled: a
        lane claims each event in a fresh transaction, so it neither fails
        nor takes an event handled meanwhile."""
        ids = self.committed_events(3)
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            first = api.Environment(cr1, SUPERUSER_ID, {})["vita.stripe.event"]
            second = api.Environment(cr2, SUPERUSER_ID, {})["vita.stripe.event"]
            cr1.execute("SELECT count(*) FROM vita_stripe_event")  # the first lane's snapshot
            self.assertEqual(second._vita_process_queue(own_transactions=True, only_ids=ids[:1]), 1)
            self.assertEqual(first._vita_process_queue(own_transactions=True, only_ids=ids), 2)
        self.assertEqual(set(self.states(ids).values()), {"processed"})

    def test_lane_with_work_left_wakes_the_cron_workers(self):
        """Odoo keeps a partly done job ready without telling the sleeping
        cron workers: the lane does, else the rest would wait a minute."""

        def notified():
            return any(getattr(f, "__name__", None) == "_vita_wake_cron_workers" for f in self.env.cr.postcommit._funcs)

        with (
            patch.object(Event, "_vita_process_queue", autospec=True, return_value=3),
            patch.object(Event, "_vita_queue_backlog", autospec=True, return_value=7),
        ):
            self.env["vita.stripe.event"]._cron_process_queue(2)
            self.assertTrue(notified())
        self.env.cr.postcommit.clear()
        with (
            patch.object(Event, "_vita_process_queue", autospec=True, return_value=3),
            patch.object(Event, "_vita_queue_backlog", autospec=True, return_value=0),
        ):
            self.env["vita.stripe.event"]._cron_process_queue(2)
        self.assertFalse(notified(), "nothing left: the workers may sleep")

    def test_each_event_in_a_fresh_transaction(self):
        ids = self.committed_events(3)
        cursors = []

        def handle(record, _object):
            cursors.append((record.env.cr, record.env.transaction))  # kept alive: distinct ids
            return "processed"

        with patch.object(Event, "_handle_nothing_to_do", autospec=True, side_effect=handle):
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                self.assertEqual(env["vita.stripe.event"]._vita_process_queue(own_transactions=True, only_ids=ids), 3)
        self.assertEqual(len({id(cr) for cr, _t in cursors}), 3, "a cursor per event")
        self.assertEqual(len({id(t) for _cr, t in cursors}), 3, "a cache per event: the last costs what the first did")

    def test_crash_mid_batch_leaves_the_rest_for_the_next_run(self):
        ids = self.committed_events(5)
        calls = []

        def handle(record, _object):
            calls.append(record.id)
            if len(calls) == 3:
                raise Crash()
            return "processed"

        with patch.object(Event, "_handle_nothing_to_do", autospec=True, side_effect=handle):
            with self.assertRaises(Crash), self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["vita.stripe.event"]._vita_process_queue(own_transactions=True, only_ids=ids)
            states = self.states(ids)
            self.assertEqual([states[i] for i in calls[:2]], ["processed", "processed"], "committed one by one")
            self.assertEqual(sorted(i for i, state in states.items() if state == "received"), sorted(ids[2:]))
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                self.assertEqual(env["vita.stripe.event"]._vita_process_queue(own_transactions=True, only_ids=ids), 3)
        self.assertEqual(set(self.states(ids).values()), {"processed"})
        self.assertEqual(sorted(calls[3:]), sorted(ids[2:]), "each left event handled once more, the others never")


@tagged("post_install", "-at_install")
class TestCronLimits(WebhookCase):
    """What a cron poll may still spend, under Odoo's default limits."""

    def setUp(self):
        super().setUp()
        self.clock = 1000.0
        self.addCleanup(vars(cron_limits._poll).clear)
        for patcher in (
            patch.dict(config.options, ODOO_DEFAULT_LIMITS),
            patch.object(cron_limits, "monotonic", lambda: self.clock),
        ):
            patcher.start()
            self.addCleanup(patcher.stop)

    def test_prefork_poll_counts_the_sleep_before_it(self):
        """The watchdog started before the worker slept: after a full
        sleep, a poll has what the sleep left of limit_time_real; right
        after the previous poll, nearly all of it."""
        self.assertIsNone(cron_limits.real_seconds_left(), "outside a cron poll")
        cron_limits.job_starting(poll := object())
        self.assertEqual(cron_limits.real_seconds_left(), 120 - cron_limits.MAX_CRON_SLEEP)
        self.clock += 30
        cron_limits.job_starting(poll)  # the poll's next job: the same poll
        self.assertEqual(cron_limits.real_seconds_left(), 120 - cron_limits.MAX_CRON_SLEEP - 30)
        cron_limits.job_finished()
        self.clock += 2
        cron_limits.job_starting(object())
        self.assertEqual(cron_limits.real_seconds_left(), 118)
        with patch.dict(config.options, {"limit_time_real_cron": 0}):
            self.assertIsNone(cron_limits.real_seconds_left(), "--limit-time-real-cron=0: no limit")
        with patch.dict(config.options, {"limit_time_real_cron": 300}):
            self.assertEqual(cron_limits.real_seconds_left(), 298)

    def test_threaded_server_counts_from_the_poll_start(self):
        """Without --workers, Odoo times each cron thread from the start of
        its poll (thread.start_time) and restarts the server past
        limit_time_real, also when limit_time_real_cron is 0."""
        results = []

        def poll():
            results.append(cron_limits.real_seconds_left())
            with patch.dict(config.options, {"limit_time_real_cron": 0}):
                results.append(cron_limits.real_seconds_left())

        thread = threading.Thread(target=poll)
        thread.type, thread.start_time = "cron", time.time() - 100
        thread.start()
        thread.join()
        self.assertEqual([round(left) for left in results], [20, 20])

    def test_each_job_of_a_poll_is_timed(self):
        """Odoo calls ir.cron._process_job for every job of a poll, with
        the poll's cursor: cron_limits learns when a poll starts and when
        its jobs end."""
        seen = []

        def process_job(cls, db, cron_cr, job):
            seen.append(cron_limits.real_seconds_left())
            self.clock += 5

        IrCron = self.registry["ir.cron"]
        with patch.object(BaseIrCron, "_process_job", classmethod(process_job)):
            poll = object()
            IrCron._process_job(None, poll, {})
            IrCron._process_job(None, poll, {})
            self.clock += 1  # the worker pings, and a trigger wakes it at once
            IrCron._process_job(None, object(), {})
        self.assertEqual(seen, [50, 45, 119])

    def test_import_job_stops_before_the_limits_and_resumes_at_the_next_poll(self):
        wizard = self.env["vita.stripe.import"].create({"state": "running", "mode": "test", "queued_count": 2})
        lines = self.env["vita.stripe.import.line"].create(
            [{"import_id": wizard.id, "stripe_subscription_id": unique("sub"), "queued": True} for _ in range(2)]
        )
        cron = self.env.ref("vita_subscriptions.ir_cron_stripe_import")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.clock += 1
        cron_limits.job_starting(object())
        self.clock += 31  # 19 s left of the poll: less than a line may take
        with patch.object(type(lines), "_vita_import", autospec=True, side_effect=AssertionError("imported")):
            wizard._cron_import(commit=lambda: None)
        self.assertFalse(lines.filtered("done"))
        self.assertEqual(wizard.state, "running")
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1)


@tagged("post_install", "-at_install")
class TestRetention(WebhookCase):
    def aged(self, state, days):
        record = self.receive(seti_event())
        record.write({"state": state, "processed_date": fields.Datetime.now() - timedelta(days=days)})
        return record

    def test_handled_events_lose_their_payload(self):
        old_processed = self.aged("processed", 91)
        old_ignored = self.aged("ignored", 91)
        old_failed = self.aged("failed", 91)
        recent = self.aged("processed", 10)
        self.env["vita.stripe.event"]._vita_gc_event_payloads()
        self.assertFalse(old_processed.payload)
        self.assertFalse(old_ignored.payload)
        self.assertTrue(old_failed.payload, "a failed event keeps what a retry needs")
        self.assertTrue(recent.payload)
        self.assertTrue(old_processed.stripe_id and old_processed.event_type and old_processed.stripe_created)
        redelivered = {"id": old_processed.stripe_id, "type": "setup_intent.succeeded"}
        self.assertFalse(self.Event._vita_receive(redelivered, "{}"), "still recognised as a duplicate")

    def test_retention_setting(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.vita_event_retention_days, 90)
        self.env["res.config.settings"].create({"vita_event_retention_days": 5}).execute()
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param(PARAM_EVENT_RETENTION_DAYS), "5")
        week_old = self.aged("processed", 7)
        self.env["vita.stripe.event"]._vita_gc_event_payloads()
        self.assertFalse(week_old.payload)


@tagged("post_install", "-at_install")
class TestQueueEndToEnd(WebhookCase, HttpCase):
    """Subscribe against localstripe: its signed events are acknowledged
    unhandled, then the queue makes the paid invoice."""

    def test_delivered_then_queued_then_invoiced(self):
        hook = f"{self.stripe_url}/_config/webhooks/{unique('vita')}"
        url = self.base_url() + self.webhook_path()
        requests.post(hook, data={"url": url, "secret": WEBHOOK_SECRET}, timeout=10).raise_for_status()
        self.addCleanup(requests.post, hook, data={"url": DEAD_URL, "secret": WEBHOOK_SECRET}, timeout=10)
        # The HTTP thread shares this test's cursor: it waits on the test
        # lock while this thread uses it (localstripe delivers at once).
        with self.registry.test_lock:
            subscription = self.prepare(quantity=1)
            subscription._vita_stripe_subscribe()
            self.env.flush_all()
        # localstripe sends invoice.payment_succeeded (handled as invoice.paid).
        paid = [
            ("event_type", "=", "invoice.payment_succeeded"),
            ("queue_key", "=", subscription.stripe_subscription_id),
        ]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with self.registry.test_lock:
                self.env.invalidate_all()
                if self.Event.search_count(paid):
                    break
            time.sleep(0.1)
        else:
            self.fail("localstripe's invoice.payment_succeeded never arrived")
        with self.registry.test_lock:
            self.assertEqual(self.Event.search(paid).state, "received", "acknowledged, not handled")
            self.assertFalse(subscription.invoice_ids)
            self.run_queue()
            self.env.invalidate_all()
            self.assertEqual(self.Event.search(paid).state, "processed")
            move = subscription.invoice_ids
            self.assertEqual((move.state, move.payment_state in ("paid", "in_payment")), ("posted", True))


@tagged("post_install", "-at_install")
class TestGivenUp(WebhookCase):
    """After its last retry, a paid invoice Odoo could not book is told to
    an accounting manager and listed under "Needs attention"."""

    def needs_attention(self):
        """The events the log's "Needs attention" filter shows."""
        arch = self.Event.get_views([(False, "search")])["views"]["search"]["arch"]
        [node] = etree.fromstring(arch).xpath("//filter[@name='needs_attention']")
        return self.Event.search(safe_eval(node.get("domain")))

    def given_up(self, subscription):
        """invoice.paid in a currency Odoo does not know (every attempt
        fails), retried by the cron until its last attempt."""
        stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(2500)], currency="zzz")
        record = self.receive(event("invoice.paid", stripe_invoice))
        self.assertEqual(record.state, "failed")
        self.assertTrue(record.next_attempt, "retried later")
        self.assertNotIn(record, self.needs_attention())
        self.assertFalse(subscription.activity_ids, "nobody bothered while retries remain")
        record.write({"attempts": MAX_ATTEMPTS - 1, "next_attempt": "2000-01-01 00:00:00"})
        self.Event._cron_retry_failed()
        self.run_queue()
        self.assertEqual((record.state, record.attempts, record.next_attempt), ("failed", MAX_ATTEMPTS, False))
        self.assertIn(record, self.needs_attention())
        self.assertEqual(record.subscription_id, subscription)
        return record

    def test_the_responsible_accounting_manager_is_told(self):
        accountant = new_test_user(self.env, "vita_accountant_given_up", groups="account.group_account_manager")
        subscription = self.linked(user_id=accountant.id)
        record = self.given_up(subscription)
        activity = subscription.activity_ids
        self.assertEqual(activity.user_id, accountant)
        self.assertIn(record.object_id, activity.summary)
        self.assertIn("zzz", activity.note, "why it failed")
        record.action_retry()  # by hand, failing again: still one activity
        self.assertEqual(len(subscription.activity_ids), 1)

    def test_else_an_accounting_manager_of_the_company(self):
        clerk = new_test_user(self.env, "vita_clerk_given_up", groups="vita_subscriptions.group_subscription_user")
        subscription = self.linked(user_id=clerk.id)
        self.given_up(subscription)
        manager = subscription.activity_ids.user_id
        self.assertEqual(len(manager), 1)
        self.assertTrue(manager.has_group("account.group_account_manager"))
        self.assertIn(subscription.company_id, manager.company_ids)
        self.assertTrue(subscription.with_user(manager).read(["name"]), "the manager can open the subscription")
