import json
import logging
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

from psycopg2 import errors as pg_errors

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, mute_logger
from odoo.tools.sql import create_index

from .. import cron_limits, cron_wakeup
from ..const import EVENT_HANDLERS
from ..stripe_gateway import StripeGateway
from ..stripe_shapes import invoice_subscription_ref, stripe_id
from .vita_subscription_refund import FAILED_REFUND_STATES

_logger = logging.getLogger(__name__)

EVENT_STATES = [
    ("received", "Received"),
    ("processed", "Processed"),
    ("ignored", "Ignored"),
    ("failed", "Failed"),
]

# Failed events are retried by the cron after 2, 4, 8 … minutes, at most
# once a day, and given up after MAX_ATTEMPTS (the Retry button still works);
# events that cannot be handled yet (RetryLater) wait as long, pending.
MAX_ATTEMPTS = 10
MAX_BACKOFF = timedelta(days=1)
# Another transaction updating the same rows (serialization failure, lock,
# deadlock, two workers numbering a journal's first invoices): retried at
# once by the queue, failed only after this many conflicts in a row.
QUIET_CONFLICT_ATTEMPTS = 3
# Odoo names the first entry of a journal (or of a new year) when its draft
# is created, not when it is posted under the sequence mixin's retry loop:
# two workers may both draft "INV/2026/00001" and the second to post hits
# this unique index. Taken again in a fresh transaction, it gets the next.
NUMBERING_CONSTRAINTS = frozenset({"account_move_unique_name"})

# The queue: events are handled by QUEUE_LANES cron jobs (data/
# ir_cron_webhook_data.xml), so that as many cron workers, on as many
# servers, work at once. Each claims one event at a time and commits it in
# a transaction of its own; a job run stops after QUEUE_TIME_BUDGET and
# tells Odoo what remains (the job then runs again at once).
QUEUE_LANES = 4
QUEUE_TIME_BUDGET = 10  # seconds
# A lane stops between events when the cron poll it runs in has less than
# this CPU time (limit_time_cpu) or wall-clock time (limit_time_real_cron)
# left before Odoo kills the worker (cron_limits.py): the longest event's.
QUEUE_CPU_RESERVE = 10  # seconds
QUEUE_REAL_RESERVE = 20  # seconds: an event may wait on Stripe
# A claim passes over pending events whose queue key another transaction
# holds (at most one per lane and Retry click): it looks this far ahead.
CLAIM_LOOKAHEAD = 50
# Namespace of the queue keys' advisory locks (the two-integer form, apart
# from the one-integer invoice locks of vita_subscription_billing.py).
QUEUE_KEY_LOCK = 0x56495441  # "VITA"
# Handlers that book money: one of them given up is told to accounting.
BOOKING_HANDLERS = frozenset(
    {
        "_handle_invoice_paid",
        "_handle_credit_note",
        "_handle_refund",
        "_handle_charge_refunded",
        "_handle_dispute_created",
        "_handle_dispute_closed",
    }
)
# Handled events lose their payload after this many days (setting).
PARAM_EVENT_RETENTION_DAYS = "vita_subscriptions.event_retention_days"
DEFAULT_EVENT_RETENTION_DAYS = 90


class RetryLater(UserError):
    """The event cannot be handled yet: its subscription is being
    subscribed in a transaction that has not committed, or the Stripe
    invoice it is about (``stripe_invoice_id``, of ``subscription``) is not
    booked yet. It stays pending, retried with a backoff, and at once when
    that invoice is booked (``_vita_wake_waiting``)."""

    def __init__(self, message, *, stripe_invoice_id=None, subscription=None):
        super().__init__(message)
        self.stripe_invoice_id = stripe_invoice_id
        self.subscription = subscription


class VitaStripeEvent(models.Model):
    """One Stripe webhook event, recorded once (unique Stripe id) whatever
    the number of deliveries, with what handling it gave."""

    _name = "vita.stripe.event"
    _description = "Stripe webhook event"
    _order = "id desc"
    _rec_name = "stripe_id"

    stripe_id = fields.Char("Stripe event", required=True, readonly=True)
    event_type = fields.Char("Type", required=True, readonly=True, index=True)
    stripe_created = fields.Datetime("Created in Stripe", readonly=True)
    livemode = fields.Boolean("Live", readonly=True)
    api_version = fields.Char("API version", readonly=True)
    object_id = fields.Char("Stripe object", readonly=True, index="btree_not_null")
    queue_key = fields.Char(
        "Handled in order with",
        readonly=True,
        help="Stripe subscription (else Stripe object) whose events are handled one at a time, "
        "in the order Stripe created them.",
    )
    payload = fields.Text(readonly=True)
    state = fields.Selection(EVENT_STATES, default="received", required=True, readonly=True, index=True)
    error = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True)
    # Conflicts in a row with another transaction, each retried at once.
    conflicts = fields.Integer(readonly=True)
    waiting_for_invoice = fields.Char(
        "Waiting for Stripe invoice",
        readonly=True,
        index="btree_not_null",
        help="A refund, credit note or dispute that came before Odoo booked its invoice: "
        "handled again as soon as the invoice is booked.",
    )
    processed_date = fields.Datetime("Handled on", readonly=True)
    next_attempt = fields.Datetime("Next retry", readonly=True, index="btree_not_null")
    subscription_id = fields.Many2one("vita.subscription", readonly=True, index="btree_not_null", ondelete="set null")
    # The Stripe provider (one Stripe account per company) whose webhook
    # key and secret brought the event: its handling stays in that company.
    provider_id = fields.Many2one("payment.provider", "Stripe account", readonly=True, ondelete="set null")
    company_id = fields.Many2one(related="subscription_id.company_id")

    _sql_constraints = [
        ("stripe_id_unique", "UNIQUE(stripe_id)", "A Stripe event is recorded once."),
    ]

    def init(self):
        # The queue reads only pending events: the oldest first, and per key.
        create_index(
            self.env.cr,
            "vita_stripe_event_queue_index",
            self._table,
            ["stripe_created", "id"],
            where="state = 'received'",
        )
        create_index(
            self.env.cr,
            "vita_stripe_event_queue_key_index",
            self._table,
            ["queue_key", "stripe_created", "id"],
            where="state = 'received'",
        )

    # ------------------------------------------------------------------
    # Reception
    # ------------------------------------------------------------------

    @api.model
    def _vita_receive(self, event, payload, provider=None):
        """Record a verified event for the queue and wake a queue lane; a
        duplicate is neither recorded nor queued again. Returns the event
        record, or an empty recordset for a duplicate. Nothing is handled
        here: the endpoint answers Stripe at once (see _vita_process_queue).
        ``provider`` is the Stripe provider the event came through (its
        handling is scoped to its company).

        The row is inserted with ON CONFLICT DO NOTHING: a concurrent
        delivery of the same event waits for the first transaction and then
        inserts nothing. Under Odoo's REPEATABLE READ that second insert may
        instead fail with a serialization error (the winner committed after
        our snapshot): that too can only mean "already recorded".
        """
        columns, problems = _event_columns(event)
        insert = SQL(
            """
            INSERT INTO vita_stripe_event
                (stripe_id, event_type, stripe_created, livemode, api_version, object_id, queue_key, payload,
                 state, error, attempts, provider_id, create_uid, create_date, write_uid, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s, now() at time zone 'UTC',
                    %s, now() at time zone 'UTC')
            ON CONFLICT (stripe_id) DO NOTHING
            RETURNING id
            """,
            event["id"],
            event["type"],
            columns["stripe_created"],
            columns["livemode"],
            columns["api_version"],
            columns["object_id"],
            columns["queue_key"],
            payload,
            "failed" if problems else "received",
            "\n".join(problems) or None,
            provider.id if provider else None,
            self.env.uid,
            self.env.uid,
        )
        lanes = () if problems else self._vita_queue_lane_cron_ids()
        if lanes:
            # In the same statement (one round trip, the request's budget):
            # a new event wakes a queue lane as ir.cron._trigger() does, the
            # lane chosen by event id so that a burst wakes them all.
            insert = SQL(
                """
                WITH event AS (%s), wake AS (
                    INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date)
                    SELECT (%s::int[])[1 + mod(event.id, %s)], now() at time zone 'UTC', %s,
                           now() at time zone 'UTC', %s, now() at time zone 'UTC'
                      FROM event
                )
                SELECT id FROM event
                """,
                insert,
                list(lanes),
                len(lanes),
                self.env.uid,
                self.env.uid,
            )
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(insert)
                row = self.env.cr.fetchone()
        except pg_errors.SerializationFailure:
            row = None
        if not row:
            _logger.info("Stripe event %s (%s) already recorded", event["id"], event["type"])
            return self.browse()
        record = self.browse(row[0])
        # Known without reading it back (the endpoint answers with it).
        self.env.cache.update(record, self._fields["state"], ["failed" if problems else "received"])
        if problems:
            _logger.warning("Stripe event %s (%s) is malformed: %s", event["id"], event["type"], "; ".join(problems))
        elif lanes:
            self.env.cr.postcommit.add(self._vita_wake_cron_workers)
        return record

    def _vita_wake_queue(self, lane=None, at=None):
        """Wake a queue lane (by default chosen by event id, so that a
        burst of deliveries wakes them all) as ``ir.cron._trigger()`` does,
        in one INSERT (the request's budget): a trigger row, and the cron
        workers notified after commit; or, ``at`` a later time, a trigger
        the cron workers find when they next poll."""
        lanes = self._vita_queue_lane_cron_ids()
        if not lanes:
            return
        cron_id = lanes[(lane - 1 if lane else self[:1].id or 0) % len(lanes)]
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date)
                VALUES (%s, COALESCE(%s, now() at time zone 'UTC'), %s, now() at time zone 'UTC', %s,
                        now() at time zone 'UTC')
                """,
                cron_id,
                at,
                self.env.uid,
                self.env.uid,
            )
        )
        if not at:
            self.env.cr.postcommit.add(self._vita_wake_cron_workers)

    def _vita_wake_cron_workers(self):
        """NOTIFY the sleeping cron workers (after commit), on a connection
        kept for it (see cron_wakeup.py)."""
        cron_wakeup.wake_cron_workers(self.env)

    @api.model
    @tools.ormcache()
    def _vita_queue_lane_cron_ids(self):
        """The lanes' cron ids, read once per worker (not env.ref(): that
        checks the record exists, a query per delivery)."""
        names = [f"ir_cron_stripe_event_queue_{lane}" for lane in range(1, QUEUE_LANES + 1)]
        self.env.cr.execute(
            SQL(
                "SELECT name, res_id FROM ir_model_data WHERE module = 'vita_subscriptions' AND name IN %s",
                tuple(names),
            )
        )
        found = dict(self.env.cr.fetchall())
        return tuple(found[name] for name in names if name in found)

    # ------------------------------------------------------------------
    # Queue
    # ------------------------------------------------------------------

    @api.model
    def _cron_process_queue(self, lane=1):
        """One queue lane (a cron job; ``lane`` only names it). Several
        lanes run at once on several cron workers and servers: they share
        the queue through row locks. Each event is handled in a transaction
        of its own (see _vita_process_queue)."""
        if _poll_running_out():
            # Nearly out of this poll's CPU or wall-clock time (Odoo kills
            # the worker at its limit, in the middle of an event): done for
            # this poll, and triggered again for the next, which starts
            # with fresh limits. Returning nothing done ends Odoo's re-runs
            # of the job in this poll.
            _logger.info("Stripe event queue lane %s: time limit near, resumed at the next poll", lane)
            self._vita_wake_queue(lane)
            return 0
        handled = self._vita_process_queue(own_transactions=True, time_budget=QUEUE_TIME_BUDGET)
        # Counted now, not in the job's snapshot (taken when it started).
        with self.env.registry.cursor() as cr:
            remaining = self.with_env(self.env(cr=cr))._vita_queue_backlog()
        _logger.debug("Stripe event queue lane %s: %s handled, %s pending", lane, handled, remaining)
        self.env["ir.cron"]._notify_progress(done=handled, remaining=remaining)
        if handled and remaining:
            # Odoo keeps a partly done job ready but does not tell the cron
            # workers, which sleep once their list of ready jobs is done:
            # wake them, or the rest waits for the next poll (a minute).
            self.env.cr.postcommit.add(self._vita_wake_cron_workers)
        return handled

    @api.model
    def _vita_process_queue(self, *, own_transactions=False, time_budget=None, only_ids=None):
        """Handle pending events until none is left (or ``time_budget``
        seconds have passed); returns how many were handled.

        With ``own_transactions`` (the cron lanes), each event is claimed
        and handled in a fresh cursor, committed when it is done: a crash
        loses at most the event at hand, which stays pending (its lock
        vanishes with the transaction) for the next run, and each event
        starts from an empty cache, so the thousandth costs what the first
        did. Without it (tests, which may not commit), everything happens
        in this transaction. ``only_ids`` restricts the queue to these
        events (tests sharing a database)."""
        deadline = time.monotonic() + time_budget if time_budget else None
        handled = conflicts = 0
        while not deadline or time.monotonic() < deadline:
            if own_transactions and _poll_running_out():
                break  # see _cron_process_queue
            try:
                with self.env.registry.cursor() if own_transactions else nullcontext(self.env.cr) as cr:
                    # An expected conflict: not an ERROR "bad query" in the log.
                    with mute_logger("odoo.sql_db"):
                        event = self.with_env(self.env(cr=cr))._vita_claim_next(only_ids)
                    if not event:
                        break
                    event._vita_process()
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as error:
                # The claim, or the commit, met another lane's update: the
                # event stays pending and is taken again (fresh snapshot).
                if not own_transactions:
                    raise
                _logger.info("Stripe event queue: concurrent update (%s), claimed again", type(error).__name__)
                conflicts += 1
                if conflicts > QUIET_CONFLICT_ATTEMPTS:
                    break  # the other lanes are at it
                continue
            conflicts = 0
            handled += 1
        return handled

    def _vita_claim_next(self, only_ids=None):
        """The next pending event, locked for this transaction (see
        _vita_claim_pending), or an empty recordset."""
        return self.browse(self._vita_claim_pending(1, only_ids))

    def _vita_claim_pending(self, limit, only_ids=None):
        """Lock up to ``limit`` pending events for this transaction: the one
        claim of everything that handles events (queue lanes, retry cron,
        Retry button). The oldest first, and of each queue key (a Stripe
        subscription, else a Stripe object) only the oldest pending event,
        so that one subscription's events are handled in Stripe's
        ``created`` order; and never an event whose key another
        transaction holds, so that they are handled one at a time, also
        when an older event arrives while a newer one is being handled.

        Two locks, both released when the transaction ends: the key's
        (``pg_try_advisory_xact_lock``, tried on the candidates in order
        until ``limit`` are free, so no other key is held for nothing) and
        the event row's (``FOR NO KEY UPDATE SKIP LOCKED``, which also fails
        with a serialization error if another transaction handled the event
        since this one's snapshot). Events without a key (their object has
        no id) are taken oldest first, in parallel. The lanes claim one
        event at a time: each is committed alone, which would release a
        bigger claim at the first commit anyway."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH candidate AS (
                    SELECT event.id, event.queue_key FROM vita_stripe_event event
                     WHERE event.state = 'received'
                       AND (event.next_attempt IS NULL OR event.next_attempt <= %(now)s)
                       AND %(only)s
                       AND (event.queue_key IS NULL OR NOT EXISTS (
                            SELECT 1 FROM vita_stripe_event earlier
                             WHERE earlier.queue_key = event.queue_key
                               AND earlier.state = 'received'
                               AND (earlier.stripe_created, earlier.id) < (event.stripe_created, event.id)))
                     ORDER BY event.stripe_created, event.id
                     LIMIT %(lookahead)s
                ), free AS (
                    -- A CTE with a volatile function runs once, in this
                    -- order, and stops at the limit: no key locked for nothing.
                    SELECT id FROM candidate
                     WHERE queue_key IS NULL OR pg_try_advisory_xact_lock(%(namespace)s, hashtext(queue_key))
                     LIMIT %(limit)s
                )
                SELECT event.id FROM vita_stripe_event event
                 WHERE event.id IN (SELECT id FROM free)
                 ORDER BY event.stripe_created, event.id
                   FOR NO KEY UPDATE OF event SKIP LOCKED
                """,
                now=fields.Datetime.now(),
                only=SQL("event.id = ANY(%s)", list(only_ids)) if only_ids is not None else SQL("TRUE"),
                lookahead=limit + CLAIM_LOOKAHEAD,
                namespace=QUEUE_KEY_LOCK,
                limit=limit,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _vita_queue_backlog(self):
        self.env.cr.execute(
            SQL(
                "SELECT count(*) FROM vita_stripe_event WHERE state = 'received'"
                " AND (next_attempt IS NULL OR next_attempt <= %s)",
                fields.Datetime.now(),
            )
        )
        return self.env.cr.fetchone()[0]

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.autovacuum
    def _vita_gc_event_payloads(self):
        """Handled (processed or ignored) events lose their payload after
        the retention days: id, type and dates stay (a redelivery is still
        recognised); failed and pending events keep theirs."""
        days = self.env["ir.config_parameter"].sudo().get_param(PARAM_EVENT_RETENTION_DAYS)
        try:
            days = int(days) if days else DEFAULT_EVENT_RETENTION_DAYS
        except ValueError:
            days = DEFAULT_EVENT_RETENTION_DAYS
        if days <= 0:
            return 0
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE vita_stripe_event SET payload = NULL
                 WHERE state IN ('processed', 'ignored') AND payload IS NOT NULL
                   AND COALESCE(processed_date, create_date) < %s
                """,
                fields.Datetime.now() - timedelta(days=days),
            )
        )
        count = self.env.cr.rowcount
        self.invalidate_model(["payload"])
        if count:
            _logger.info("Stripe events: payload of %s handled events removed (older than %s days)", count, days)
        return count

    # ------------------------------------------------------------------
    # Handling
    # ------------------------------------------------------------------

    def _vita_process(self):
        """Run each event's handler in a savepoint: a failing handler
        leaves no half-written data and marks the event failed (retried by
        the cron), while the request still answers 2xx."""
        for event in self:
            handler = EVENT_HANDLERS.get(event.event_type)
            vals = {"attempts": event.attempts + 1, "processed_date": fields.Datetime.now(), "next_attempt": False}
            if not handler:
                event.write(dict(vals, state="ignored", error=False, conflicts=0, waiting_for_invoice=False))
                continue
            try:
                with self.env.cr.savepoint():
                    outcome = getattr(event, handler)(event._vita_data_object())
            except Exception as error:  # every failure is recorded on the event
                event.write(event._vita_failure_vals(vals, error))
                continue
            state, reason = outcome if isinstance(outcome, tuple) else (outcome, False)
            event.write(dict(vals, state=state, error=reason, conflicts=0, waiting_for_invoice=False))

    def _vita_failure_vals(self, vals, error):
        """What a failed handling leaves: a conflict is taken again at
        once, an event that cannot be handled yet waits, anything else
        fails with a backoff. An event given up (no next attempt) that
        should have booked money is told to the accounting manager."""
        self.ensure_one()
        if _is_conflict(error):
            vals = self._vita_conflict_vals(vals, error)
        elif isinstance(error, RetryLater):
            vals = self._vita_retry_later_vals(vals, error)
        else:
            _logger.warning("Stripe event %s (%s) failed", self.stripe_id, self.event_type, exc_info=error)
            next_attempt = self._vita_next_attempt(vals["attempts"])
            vals = dict(vals, state="failed", error=_describe(error), next_attempt=next_attempt, conflicts=0)
        if vals["state"] == "failed" and not vals["next_attempt"]:
            self._vita_alert_given_up(vals)
        return vals

    def _vita_conflict_vals(self, vals, error):
        """Another transaction was changing the same records (e.g. two
        workers numbering a journal's first invoices): stay pending, and
        the queue takes the event again at once, in a fresh transaction
        (the other one has committed by then); only conflicts that persist
        mark the event failed, in plain words."""
        self.ensure_one()
        _logger.info("Stripe event %s: concurrent update (%s), retried", self.stripe_id, type(error).__name__)
        conflicts = self.conflicts + 1
        if conflicts <= QUIET_CONFLICT_ATTEMPTS:
            self._vita_wake_queue()
            return dict(vals, state="received", error=False, conflicts=conflicts)
        message = self.env._(
            "Another update of the same subscription was in progress each time this event was handled "
            "(%s attempts). It is retried automatically; nothing was lost.",
            conflicts,
        )
        return dict(
            vals, state="failed", error=message, next_attempt=self._vita_next_attempt(vals["attempts"]), conflicts=0
        )

    def _vita_retry_later_vals(self, vals, error):
        """Not yet (RetryLater): the event stays pending, holding back the
        later events of its subscription, and is taken again after the
        backoff, or at once when the invoice it waits for is booked; after
        MAX_ATTEMPTS it fails, and its invoice's booking still wakes it."""
        self.ensure_one()
        vals = dict(vals, error=_describe(error), conflicts=0)
        if error.stripe_invoice_id:
            vals["waiting_for_invoice"] = error.stripe_invoice_id
        if error.subscription:
            vals["subscription_id"] = error.subscription.id  # the handler's link was rolled back
        next_attempt = self._vita_next_attempt(vals["attempts"])
        if not next_attempt:
            return dict(vals, state="failed")
        self._vita_wake_queue(at=next_attempt)
        return dict(vals, state="received", next_attempt=next_attempt)

    @api.model
    def _vita_wake_waiting(self, stripe_invoice_id):
        """Odoo just booked this Stripe invoice: the refunds, credit notes
        and disputes that wait for it (or gave up waiting) are queued at
        once, to be handled after this transaction commits. One being
        handled right now is skipped, not waited for: if it goes on
        waiting, its backoff brings it back."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE vita_stripe_event SET state = 'received', next_attempt = NULL,
                       write_uid = %s, write_date = now() at time zone 'UTC'
                 WHERE id IN (SELECT id FROM vita_stripe_event
                               WHERE waiting_for_invoice = %s AND state IN ('received', 'failed')
                                 FOR NO KEY UPDATE SKIP LOCKED)
                RETURNING id
                """,
                self.env.uid,
                stripe_invoice_id,
            )
        )
        waiting = self.browse(row[0] for row in self.env.cr.fetchall())
        if waiting:
            waiting.invalidate_recordset(["state", "next_attempt"])
            waiting._vita_wake_queue()
        return waiting

    def _vita_alert_given_up(self, vals):
        """An event that books money (a paid invoice, a refund, a credit
        note, a dispute) is no longer retried: the books miss it until
        someone acts. One activity on its subscription, which accounting
        users can open (the event log is for subscription managers), for
        the accounting manager of the subscription's company."""
        if EVENT_HANDLERS.get(self.event_type) not in BOOKING_HANDLERS:
            return
        subscription = self.env["vita.subscription"].browse(vals.get("subscription_id")) or self._vita_subscription()
        manager = self._vita_accounting_manager(subscription)
        if not manager:
            _logger.warning("Stripe event %s given up: no accounting manager to tell", self.stripe_id)
            return
        env = self.with_context(lang=manager.lang or self.env.lang).env
        summary = env._("Not in the books: %(type)s %(object)s", type=self.event_type, object=self.object_id)
        if subscription.activity_ids.filtered(lambda activity: activity.summary == summary):
            return
        subscription.sudo().activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary,
            note=env._(
                "Stripe event %(event)s could not be booked after %(attempts)s attempts and is no longer retried: "
                "%(error)s Once the cause is fixed, retry it from the Stripe event log (filter “Needs attention”); "
                "a missing paid invoice is also booked by “Sync from Stripe” on this subscription.",
                event=self.stripe_id,
                attempts=vals["attempts"],
                error=vals["error"],
            ),
            user_id=manager.id,
        )

    def _vita_subscription(self):
        """The subscription the event is about, if Odoo knows it (linked
        to the event): for an invoice event, found from its payload."""
        if self.subscription_id:
            return self.subscription_id
        try:
            data_object = self._vita_data_object()
            if data_object.get("object") == "invoice":
                return self._vita_invoice_subscription(data_object)
        except UserError as error:  # malformed, or its subscription is being subscribed
            _logger.info("Stripe event %s: no subscription to tell (%s)", self.stripe_id, _describe(error))
        return self.env["vita.subscription"]

    @api.model
    def _vita_accounting_manager(self, subscription):
        """Who fixes what the books miss for ``subscription``: its
        responsible when an accounting manager (account.group_account_manager),
        else the company's first accounting manager."""
        if not subscription:
            return self.env["res.users"]
        managers = (
            self.env.ref("account.group_account_manager")
            .sudo()
            .users.filtered(lambda user: user.active and not user.share and subscription.company_id in user.company_ids)
            .sorted("id")
        )
        return subscription.user_id & managers or managers[:1]

    def _vita_data_object(self):
        self.ensure_one()
        event = json.loads(self.payload or "{}")
        problems = _event_columns(event)[1] if isinstance(event, dict) else ["not an event"]
        if problems:
            raise UserError(self.env._("Malformed Stripe event: %s", "; ".join(problems)))
        return event["data"]["object"]

    @staticmethod
    def _vita_next_attempt(attempts):
        if attempts >= MAX_ATTEMPTS:
            return False
        return fields.Datetime.now() + min(timedelta(minutes=2**attempts), MAX_BACKOFF)

    def _vita_mode(self):
        return "live" if self.livemode else "test"

    def _vita_company_domain(self):
        """Records of the event's Stripe account only: the company of the
        provider it came through. Events recorded before providers had
        their own webhook (no provider) are matched in every company."""
        self.ensure_one()
        return [("company_id", "=", self.provider_id.company_id.id)] if self.provider_id else []

    def _vita_link(self, subscription):
        """The Odoo subscription of a Stripe subscription id, linked to the
        event, or an empty recordset (created in the Stripe dashboard, or
        of the other mode: ignored)."""
        self.ensure_one()
        if not subscription:
            return subscription
        self.subscription_id = subscription
        return subscription.with_company(subscription.company_id)._vita_in_staff_language()

    # Handlers: each returns "processed" or "ignored" (or a tuple (state,
    # reason) to say why), or raises.

    def _handle_subscription(self, stripe_subscription):
        """State from the current Stripe object, re-read: an older event
        delivered late never rolls the state back."""
        subscription = self._vita_link(
            self.env["vita.subscription"]._vita_find_stripe_subscription(
                stripe_subscription.get("id"),
                self._vita_mode(),
                stripe_subscription.get("metadata"),
                company=self.provider_id.company_id,
            )
        )
        if not subscription:
            return "ignored"
        subscription._vita_apply_stripe_subscription(
            subscription._vita_gateway().retrieve_subscription(subscription.stripe_subscription_id)
        )
        return "processed"

    def _vita_invoice_subscription(self, stripe_invoice):
        subscription_id, metadata = invoice_subscription_ref(stripe_invoice)
        if not subscription_id:
            return self.env["vita.subscription"]
        return self._vita_link(
            self.env["vita.subscription"]._vita_find_stripe_subscription(
                subscription_id, self._vita_mode(), metadata, company=self.provider_id.company_id
            )
        )

    def _handle_invoice_paid(self, stripe_invoice):
        subscription = self._vita_invoice_subscription(stripe_invoice)
        if not subscription or stripe_invoice.get("status") != "paid":
            return "ignored"
        subscription._vita_invoice_paid(stripe_invoice)
        return "processed"

    def _handle_invoice_payment_failed(self, stripe_invoice):
        return self._vita_payment_problem(stripe_invoice, action_required=False)

    def _handle_invoice_action_required(self, stripe_invoice):
        return self._vita_payment_problem(stripe_invoice, action_required=True)

    def _vita_payment_problem(self, stripe_invoice, action_required):
        subscription = self._vita_invoice_subscription(stripe_invoice)
        if not subscription:
            return "ignored"
        if not subscription._vita_payment_problem(stripe_invoice, action_required=action_required):
            return "ignored", self.env._("The invoice is already paid: a late event, nothing changed.")
        return "processed"

    # Money going back: credit notes, refunds, disputes.

    def _handle_credit_note(self, credit_note):
        invoice_id = stripe_id(credit_note.get("invoice"))
        subscription, move = self._vita_booked_invoice(invoice_id)
        if not subscription:
            return self._vita_not_booked(invoice_id)
        if not subscription._vita_book_credit_note(move, credit_note):
            return "ignored", self.env._("This credit note is already booked.")
        return "processed"

    def _handle_refund(self, refund):
        return self._vita_book_refunds(refund, [refund])

    def _handle_charge_refunded(self, charge):
        """The charge's refunds (listed from Stripe: a charge no longer
        embeds them), each booked once whichever event brings it."""
        embedded = charge.get("refunds") if isinstance(charge.get("refunds"), dict) else {}
        if embedded.get("data") is not None and not embedded.get("has_more"):
            refunds = embedded["data"]
        else:
            refunds = self._vita_gateway_of_mode().list_refunds(charge["id"])
        return self._vita_book_refunds(charge, refunds)

    def _vita_book_refunds(self, payment, refunds):
        """Book the refunds of ``payment`` (a charge or a refund: what
        names the PaymentIntent) that gave money back and are not booked."""
        refunds = [
            refund
            for refund in refunds
            if refund.get("status") not in FAILED_REFUND_STATES and not self._vita_refund_booked(refund.get("id"))
        ]
        if not refunds:
            return "ignored", self.env._("No refund to book: already booked, or failed.")
        invoice_id = self._vita_invoice_id_of_payment(payment)
        subscription, move = self._vita_booked_invoice(invoice_id)
        if not subscription:
            return self._vita_not_booked(invoice_id)
        for refund in refunds:
            subscription._vita_book_refund(move, refund["id"], refund.get("amount") or 0, refund.get("created"))
        return "processed"

    def _handle_dispute_created(self, dispute):
        return self._vita_dispute(dispute, opened=True)

    def _handle_dispute_closed(self, dispute):
        return self._vita_dispute(dispute, opened=False)

    def _vita_dispute(self, dispute, opened):
        invoice_id = self._vita_invoice_id_of_payment(dispute)
        subscription, move = self._vita_booked_invoice(invoice_id)
        if not subscription:
            return self._vita_not_booked(invoice_id)
        if opened:
            subscription._vita_dispute_opened(move, dispute)
        else:
            subscription._vita_dispute_closed(move, dispute)
        return "processed"

    def _vita_booked_invoice(self, stripe_invoice_id):
        """(subscription, Odoo invoice) of a Stripe invoice Odoo booked,
        the subscription linked to the event; empty ones otherwise."""
        Move = self.env["account.move"].sudo()
        move = Move
        if stripe_invoice_id:
            move = Move.search(
                [
                    ("vita_stripe_invoice_id", "=", stripe_invoice_id),
                    ("move_type", "=", "out_invoice"),
                    *self._vita_company_domain(),
                ],
                limit=1,
            )
        subscription = self._vita_link(move.vita_subscription_id)
        return subscription, move.with_company(move.company_id)

    def _vita_not_booked(self, stripe_invoice_id):
        """A refund, credit note or dispute of a Stripe invoice Odoo has not
        booked. When Stripe says it is an invoice of a subscription Odoo
        knows that Odoo books (paid, or open: credited before payment), the
        event waits for it, never dropped: its invoice.paid may be pending,
        failing or still on its way, and the reconciliation books it too.
        Otherwise Odoo never books it: ignored, with the reason."""
        stripe_invoice = stripe_invoice_id and self._vita_gateway_of_mode().retrieve_invoice(stripe_invoice_id)
        booked_here = stripe_invoice and stripe_invoice.get("status") in ("paid", "open")
        if booked_here and (stripe_invoice.get("total") or 0) > 0:
            subscription = self._vita_invoice_subscription(stripe_invoice)
            if subscription:
                raise RetryLater(
                    self.env._(
                        "Waiting for Odoo to book Stripe invoice %s (its payment event is pending, failing or not "
                        "delivered yet); handled as soon as it is booked.",
                        stripe_invoice_id,
                    ),
                    stripe_invoice_id=stripe_invoice_id,
                    subscription=subscription,
                )
        return "ignored", self.env._(
            "The Stripe invoice %s is unknown to Odoo (not a paid subscription invoice booked here).",
            stripe_invoice_id or "-",
        )

    def _vita_refund_booked(self, refund_id):
        return bool(refund_id) and bool(
            self.env["account.payment"]
            .sudo()
            .search_count([("vita_stripe_refund_id", "=", refund_id), *self._vita_company_domain()], limit=1)
        )

    def _vita_invoice_id_of_payment(self, stripe_object):
        """The Stripe invoice a charge, refund or dispute is about: named on
        the object by older API versions, else found through its
        PaymentIntent's invoice payment."""
        invoice_id = stripe_id(stripe_object.get("invoice"))
        payment_intent = stripe_id(stripe_object.get("payment_intent"))
        if invoice_id or not payment_intent:
            return invoice_id
        return self._vita_gateway_of_mode().invoice_id_of_payment(payment_intent)

    def _vita_gateway_of_mode(self):
        """The gateway of the Stripe account the event came through; for an
        event without provider, of the company whose Stripe provider is in
        this event's mode."""
        if self.provider_id:
            return StripeGateway(self.provider_id.sudo())
        for company in StripeGateway.companies_using_stripe(self.env):
            gateway = StripeGateway.for_company(self.env, company)
            if gateway.mode == self._vita_mode():
                return gateway
        raise UserError(self.env._("No Stripe payment provider is in %s mode.", self._vita_mode()))

    def _handle_nothing_to_do(self, stripe_object):
        """Cards are read live from Stripe whenever shown: nothing is kept
        in Odoo that these events could make stale."""
        return "processed"

    # ------------------------------------------------------------------
    # Retries
    # ------------------------------------------------------------------

    def action_retry(self):
        """Handle failed (or ignored) events again now, through the queue's
        one claim: an event whose subscription is being handled elsewhere,
        or waits behind an older pending event, stays queued for the lanes.
        Subscription managers only (handlers run as superuser, as for a
        delivery), and logged with who asked."""
        if not (self.env.is_superuser() or self.env.user.has_group("vita_subscriptions.group_subscription_manager")):
            raise AccessError(self.env._("Only subscription managers can retry Stripe events."))
        events = self.filtered(lambda e: e.state in ("failed", "ignored", "received"))
        if not events:
            raise UserError(self.env._("Only failed, ignored or unhandled events can be retried."))
        try:
            # The cron (SKIP LOCKED) or a delivery may be handling them.
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL("SELECT id FROM vita_stripe_event WHERE id IN %s FOR NO KEY UPDATE NOWAIT", tuple(events.ids))
                )
        except pg_errors.LockNotAvailable:
            raise UserError(self.env._("These events are being handled right now; try again in a moment.")) from None
        _logger.info("Stripe events %s retried by user %s", events.mapped("stripe_id"), self.env.uid)
        events.sudo().write({"state": "received", "next_attempt": False})
        events._vita_wake_queue()  # for those the claim leaves to the lanes
        self.sudo()._vita_process_queue(only_ids=events.ids)
        return True

    @api.model
    def _cron_retry_failed(self):
        """Put the failed events whose backoff has elapsed back in the
        queue: the lanes handle them through the one claim, in order with
        the other events of their subscription and within the cron
        worker's limits. Events being retried by hand are skipped."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE vita_stripe_event SET state = 'received', next_attempt = NULL,
                       write_uid = %(uid)s, write_date = now() at time zone 'UTC'
                 WHERE id IN (SELECT id FROM vita_stripe_event
                               WHERE state = 'failed' AND next_attempt <= %(now)s
                                 FOR NO KEY UPDATE SKIP LOCKED)
                RETURNING id
                """,
                uid=self.env.uid,
                now=fields.Datetime.now(),
            )
        )
        events = self.browse(row[0] for row in self.env.cr.fetchall())
        events.invalidate_recordset(["state", "next_attempt"])
        for lane in range(1, min(len(events), QUEUE_LANES) + 1):
            self._vita_wake_queue(lane)
        return events


# Stripe's timestamps are seconds since 1970; anything outside these years
# is not one (and would overflow datetime).
MIN_TIMESTAMP = 0
MAX_TIMESTAMP = 253402300799  # 9999-12-31 23:59:59 UTC
MAX_TEXT_COLUMN = 255


def _event_columns(event):
    """(column values, problems) of a verified event: the values the event
    log can store whatever the payload holds, and what makes the event
    malformed (it is then recorded as failed, never handled)."""
    problems = []
    data = event.get("data")
    data_object = data.get("object") if isinstance(data, dict) else None
    if not isinstance(data_object, dict):
        problems.append("data.object is not an object")
        data_object = {}
    created = event.get("created")
    if not (isinstance(created, int) and not isinstance(created, bool) and MIN_TIMESTAMP <= created <= MAX_TIMESTAMP):
        problems.append("created is not a timestamp")
        created = None
    api_version = event.get("api_version")
    if api_version is not None and not _storable_text(api_version):
        problems.append("api_version is not a string")
        api_version = None
    object_id = data_object.get("id")
    if object_id is not None and not _storable_text(object_id):
        problems.append("data.object.id is not a string")
        object_id = None
    if not isinstance(event.get("livemode", False), bool):
        problems.append("livemode is not a boolean")
    columns = {
        "stripe_created": datetime.fromtimestamp(created, UTC).replace(tzinfo=None) if created is not None else None,
        "livemode": event.get("livemode") is True,
        "api_version": api_version,
        "object_id": object_id,
        "queue_key": _queue_key(data_object) or object_id,
    }
    return columns, problems


def _is_conflict(error):
    """A conflict with another transaction, over once it commits: a
    serialization failure, a lock, a deadlock, or two workers giving the
    same number to a journal's first entries."""
    if isinstance(error, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
        return True
    return isinstance(error, pg_errors.UniqueViolation) and error.diag.constraint_name in NUMBERING_CONSTRAINTS


def _poll_running_out():
    """Whether the cron poll is within the reserves of Odoo's CPU or
    wall-clock limit (never outside a cron worker: no limit)."""
    return cron_limits.running_out(QUEUE_CPU_RESERVE, QUEUE_REAL_RESERVE)


def _queue_key(data_object):
    """The Stripe subscription an event's object belongs to, if any: a
    subscription itself, or an invoice of one (other objects are ordered by
    their own id)."""
    if data_object.get("object") == "subscription":
        key = data_object.get("id")
    elif data_object.get("object") == "invoice":
        key = invoice_subscription_ref(data_object)[0]
    else:
        key = None
    return key if _storable_text(key) else None


def _storable_text(value):
    return isinstance(value, str) and len(value) <= MAX_TEXT_COLUMN and "\x00" not in value


def _describe(error):
    """What went wrong, for the log view: our own messages (UserError,
    ValidationError) as they are, other exceptions by class and text."""
    if isinstance(error, UserError):
        return error.args[0] if error.args else str(error)
    return f"{type(error).__name__}: {error}"
