"""Benchmark the Stripe webhook endpoint of a running Odoo.

Sends signed Stripe events (as Stripe would) and prints throughput,
latency percentiles and, when given Odoo's log file, the SQL queries per
request that Odoo logs with each HTTP request (werkzeug INFO lines).

    python tools/bench_webhook.py --db vita_demo --requests 500 --concurrency 8 \
        --odoo-log /tmp/odoo.log

The webhook key and signing secret are read from the database (--db: the
first company's Stripe provider) or
given with --key / --secret. Event types: ``setup_intent.succeeded`` by
default (handled without calling Stripe, so the figures are Odoo's own);
``--duplicates 0.5`` re-sends half of the events to measure duplicate
handling. Never point this at a production database: it records events.

``--queue`` runs the queue benchmark (issue 14) in one go: it starts Odoo
itself (prefork, 2 HTTP workers and 2 cron workers per server, on the
database given with --db, which must have the addon and its demo data) and
measures, on the same machine and in the same run:

a. acknowledgement: --acks signed ``invoice.paid`` events at concurrency 8
   against ``GET /web/health``: requests/s of both, their ratio, p50/p99,
   SQL queries per acknowledgement (Odoo's log);
b. burst: --events ``invoice.paid`` events for --subscriptions linked
   subscriptions sent as fast as the server takes them, then the time until
   all are handled: invoices/minute against Odoo's own create + post + pay
   rate of one process (--baseline invoices, timed in an Odoo shell);
c. scale-out: the same burst split between two Odoo servers on the
   database: duplicates, lost events, total time against one server.

    python tools/bench_webhook.py --queue --db vita_bench --odoo-bin /opt/odoo18/odoo-bin \
        --addons-path /opt/odoo18/addons,. --events 10000 --subscriptions 2000
"""

import argparse
import hashlib
import hmac
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

LOG_LINE = re.compile(r'"POST /vita_subscriptions/webhook/\S+ HTTP/[\d.]+" (\d{3}) - (\d+) ([\d.]+) ([\d.]+)')
# How often the burst watcher asks whether events are still pending.
POLL_SECONDS = 1


def read_settings(dbname):
    """Webhook key and signing secret of the first company's Stripe provider."""
    import psycopg2  # noqa: PLC0415 - only needed with --db

    with psycopg2.connect(dbname=dbname) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT vita_webhook_key, vita_webhook_secret FROM payment_provider"
            " WHERE code = 'stripe' ORDER BY company_id, id LIMIT 1"
        )
        row = cursor.fetchone()
    return row if row else (None, None)


def make_event(event_type):
    return {
        "id": f"evt_bench_{uuid.uuid4().hex}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": {"id": f"seti_bench_{uuid.uuid4().hex[:12]}", "object": "setup_intent"}},
    }


def sign(body, secret):
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def log_offset(path):
    try:
        with open(path, "rb") as log:
            return log.seek(0, 2)
    except OSError:
        return 0


def query_counts(path, offset):
    """Queries per webhook request, by HTTP status, from Odoo's log."""
    counts = {}
    with open(path, "rb") as log:
        log.seek(offset)
        for line in log.read().decode(errors="replace").splitlines():
            match = LOG_LINE.search(line)
            if match:
                counts.setdefault(match.group(1), []).append(int(match.group(2)))
    return counts


def main():
    if "--queue" in sys.argv:
        return queue_main()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:8069", help="Odoo base URL")
    parser.add_argument("--db", help="database to read the webhook key and secret from")
    parser.add_argument("--key")
    parser.add_argument("--secret")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--type", default="setup_intent.succeeded", help="Stripe event type to send")
    parser.add_argument("--duplicates", type=float, default=0.0, help="share of deliveries that repeat an event")
    parser.add_argument("--odoo-log", help="Odoo log file (werkzeug at INFO) to read query counts from")
    args = parser.parse_args()

    key, secret = args.key, args.secret
    if args.db and not (key and secret):
        key, secret = read_settings(args.db)
    if not key or not secret:
        sys.exit("Need the webhook key and signing secret: --db, or --key and --secret.")

    url = f"{args.url.rstrip('/')}/vita_subscriptions/webhook/{key}"
    unique_count = max(1, round(args.requests * (1 - args.duplicates)))
    events = [make_event(args.type) for _ in range(unique_count)]
    bodies = [json.dumps(events[i % unique_count]).encode() for i in range(args.requests)]
    offset = log_offset(args.odoo_log) if args.odoo_log else 0
    local = threading.local()

    def deliver(body):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.post(
            url, data=body, headers={"Stripe-Signature": sign(body, secret), "Content-Type": "application/json"}
        )
        return time.perf_counter() - started, response.status_code, response.json().get("duplicate", False)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        results = list(pool.map(deliver, bodies))
    elapsed = time.perf_counter() - started

    latencies = [latency * 1000 for latency, _status, _dup in results]
    statuses = {}
    for _latency, status, _dup in results:
        statuses[status] = statuses.get(status, 0) + 1
    print(f"deliveries:   {len(results)} ({unique_count} distinct events, concurrency {args.concurrency})")
    print(f"statuses:     {statuses}; acknowledged as duplicates: {sum(dup for *_rest, dup in results)}")
    print(f"throughput:   {len(results) / elapsed:.1f} requests/s")
    print(
        "latency (ms): "
        f"p50 {percentile(latencies, 0.5):.1f}  p90 {percentile(latencies, 0.9):.1f}  "
        f"p99 {percentile(latencies, 0.99):.1f}  max {max(latencies):.1f}  mean {statistics.mean(latencies):.1f}"
    )
    if args.odoo_log:
        time.sleep(0.5)  # let Odoo flush its log
        for status, counts in sorted(query_counts(args.odoo_log, offset).items()):
            print(
                f"queries/request (HTTP {status}): min {min(counts)}  median {statistics.median(counts):g}  "
                f"max {max(counts)}  ({len(counts)} requests)"
            )


# ----------------------------------------------------------------------
# The queue benchmark (--queue)
# ----------------------------------------------------------------------

# Run in `odoo-bin shell`: linked subscriptions for the burst (kept for the
# next run), then Odoo's own create + post + pay rate in this one process.
SHELL_SCRIPT = r"""
import json, os, time, uuid
from odoo import Command
wanted = int(os.environ["BENCH_SUBSCRIPTIONS"])
Sub = env["vita.subscription"].with_context(tracking_disable=True, mail_create_nolog=True, mail_notrack=True)
plan = env.ref("vita_subscriptions.demo_plan_usd_monthly")
existing = Sub.search([("stripe_subscription_id", "=like", "sub_bench_%")])
missing = wanted - len(existing)
for start in range(0, max(0, missing), 200):
    count = min(200, missing - start)
    partners = env["res.partner"].create([{"name": f"Bench customer {uuid.uuid4().hex[:8]}"} for _ in range(count)])
    subs = Sub.create([{"name": "Bench", "partner_id": p.id, "plan_id": plan.id} for p in partners])
    for sub in subs:
        sub.with_context(vita_from_stripe=True).write({
            "stripe_subscription_id": f"sub_bench_{uuid.uuid4().hex[:16]}",
            "stripe_item_id": f"si_bench_{uuid.uuid4().hex[:16]}",
            "state": "active",
        })
    env.cr.commit()
ids = Sub.search([("stripe_subscription_id", "=like", "sub_bench_%")], limit=wanted, order="id").mapped(
    "stripe_subscription_id")
rate = None
count = int(os.environ["BENCH_BASELINE"])
if count:
    # Odoo's own create + post + register payment, each in a transaction
    # and an environment of its own (as each HTTP request or queue event
    # gets: a long-lived one slows down as its environments pile up), for
    # the partners the burst bills, in turn. Chatter tracking is off here
    # (the handler keeps it on): the stricter reference.
    partner_ids = Sub.search([("stripe_subscription_id", "in", ids)]).partner_id.ids
    usd_id = env.ref("base.USD").id
    def one(number):
        with env.registry.cursor() as cr:
            own = env(cr=cr, context={"tracking_disable": True})
            move = own["account.move"].create({"move_type": "out_invoice",
                "partner_id": partner_ids[number % len(partner_ids)], "currency_id": usd_id,
                "invoice_line_ids": [Command.create({"name": "Vita Care", "quantity": 1, "price_unit": 29.0})]})
            move.action_post()
            own["account.payment.register"].with_context(active_model="account.move", active_ids=move.ids).create(
                {}).action_create_payments()
    one(0)  # warm-up
    started = time.perf_counter()
    for number in range(count):
        one(number + 1)
    rate = count / (time.perf_counter() - started) * 60
print("BENCH_JSON " + json.dumps({"subscriptions": ids, "baseline_per_minute": rate}))
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """One prefork Odoo on the database (started and stopped by us)."""

    def __init__(self, args, name):
        self.port, gevent_port = free_port(), free_port()
        self.log = os.path.join(tempfile.gettempdir(), f"bench_odoo_{name}_{self.port}.log")
        command = [
            sys.executable,
            args.odoo_bin,
            f"--addons-path={args.addons_path}",
            f"--database={args.db}",
            f"--db-filter=^{args.db}$",
            f"--workers={args.http_workers}",
            f"--max-cron-threads={args.cron_workers}",
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--gevent-port={gevent_port}",
            f"--logfile={self.log}",
            "--log-level=info",
            # Odoo's default time limits unless asked otherwise (--odoo-arg).
            *args.odoo_arg,
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/web/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        self.stop()
        sys.exit(f"Odoo did not start, see {self.log}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def db_connect(dbname):
    import psycopg2  # noqa: PLC0415

    connection = psycopg2.connect(dbname=dbname)
    connection.autocommit = True
    return connection


def db_value(connection, query, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def ensure_secret(connection):
    """A signing secret on the first company's Stripe provider (the webhook
    key and secret live on the provider, one Stripe account per company)."""
    db_value(
        connection,
        "UPDATE payment_provider SET vita_webhook_secret = %s WHERE id = ("
        " SELECT id FROM payment_provider WHERE code = 'stripe' ORDER BY company_id, id LIMIT 1)"
        " AND COALESCE(vita_webhook_secret, '') = '' RETURNING id",
        [f"whsec_bench{uuid.uuid4().hex}"],
    )


def run_shell(args):
    env = dict(os.environ, BENCH_SUBSCRIPTIONS=str(args.subscriptions), BENCH_BASELINE=str(args.baseline))
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            args.odoo_bin,
            "shell",
            f"--addons-path={args.addons_path}",
            f"--database={args.db}",
            "--no-http",
            "--log-level=warn",
        ],
        input=SHELL_SCRIPT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON ") :])
    sys.exit(f"odoo shell failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def paid_invoice_event(run, number, subscription_id):
    now = int(time.time())
    invoice_id = f"in_{run}_{number}"
    line = {
        "id": f"il_{run}_{number}",
        "object": "line_item",
        "amount": 2900,
        "currency": "usd",
        "description": "1 × Vita Care",
        "period": {"start": now, "end": now + 30 * 86400},
        "pricing": {"type": "price_details", "unit_amount_decimal": "2900"},
        "quantity": 1,
        "taxes": [],
    }
    stripe_invoice = {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": 2900,
        "amount_paid": 2900,
        "amount_remaining": 0,
        "billing_reason": "subscription_cycle",
        "created": now,
        "currency": "usd",
        "lines": {"object": "list", "data": [line], "has_more": False},
        "livemode": False,
        "number": f"BENCH-{number}",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription_id, "metadata": {}},
        },
        "status": "paid",
        "status_transitions": {"finalized_at": now, "paid_at": now},
        "subtotal": 2900,
        "total": 2900,
        "total_taxes": [],
    }
    return {
        "id": f"evt_{run}_{number}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": now,
        "livemode": False,
        "type": "invoice.paid",
        "data": {"object": stripe_invoice},
    }


def finalized_invoice_event(run, number, subscription_id):
    """The ``invoice.finalized`` of the same renewal: open, nothing paid
    yet (Odoo books the invoice of record at finalization)."""
    paid = paid_invoice_event(run, number, subscription_id)
    stripe_invoice = dict(
        paid["data"]["object"],
        amount_paid=0,
        amount_remaining=2900,
        status="open",
        status_transitions={"finalized_at": paid["created"], "paid_at": None},
    )
    return dict(paid, id=f"{paid['id']}_f", type="invoice.finalized", data={"object": stripe_invoice})


def fire(requests_list, concurrency):
    """[(method, url, body, secret)] sent at ``concurrency``: (elapsed,
    [(latency ms, status)])."""
    local = threading.local()

    def one(item):
        method, url, body, secret = item
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        if method == "GET":
            response = session.get(url, timeout=120)
        else:
            headers = {"Stripe-Signature": sign(body, secret), "Content-Type": "application/json"}
            response = session.post(url, data=body, headers=headers, timeout=120)
        return (time.perf_counter() - started) * 1000, response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, requests_list))
    return time.perf_counter() - started, results


def summary(label, elapsed, results):
    latencies = [latency for latency, _status in results]
    statuses = {}
    for _latency, status in results:
        statuses[status] = statuses.get(status, 0) + 1
    rate = len(results) / elapsed
    print(
        f"  {label:<14} {rate:7.1f} req/s  p50 {percentile(latencies, 0.5):6.1f} ms  "
        f"p99 {percentile(latencies, 0.99):6.1f} ms  statuses {statuses}"
    )
    return rate


def wait_handled(connection, run, total, timeout):
    """Seconds until no event of the run is pending (or None).

    Polled every POLL_SECONDS on the pending events only (the queue's
    partial index): the watcher shares the server's 2 cores, and two
    scans of the whole event table twice a second took about 4 % of one
    core from the lanes."""
    started = time.perf_counter()
    pattern = [f"evt_{run}_%"]
    while time.perf_counter() - started < timeout:
        pending = db_value(
            connection,
            "SELECT count(*) FROM vita_stripe_event WHERE state = 'received' AND stripe_id LIKE %s",
            pattern,
        )[0][0]
        if not pending:
            finished = time.perf_counter()
            recorded = db_value(connection, "SELECT count(*) FROM vita_stripe_event WHERE stripe_id LIKE %s", pattern)
            if recorded[0][0] >= total:
                return finished
        time.sleep(POLL_SECONDS)
    return None


# How Odoo's log says it killed a worker: wall clock (the master's SIGKILL
# of a prefork worker, server.py process_timeout) and CPU (SIGXCPU).
KILLED_WALL_CLOCK = re.compile(r"Worker\w* \(\d+\) timeout after")
KILLED_CPU = re.compile(r"CPU time limit \(\d+\) reached")


def worker_kills(servers, offsets):
    """(wall-clock kills, CPU kills) in the servers' logs since ``offsets``."""
    wall = cpu = 0
    for server, offset in zip(servers, offsets, strict=True):
        with open(server.log, "rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        wall += len(KILLED_WALL_CLOCK.findall(text))
        cpu += len(KILLED_CPU.findall(text))
    return wall, cpu


def burst(args, connection, servers, *, key, secret, subscriptions, label):
    run = f"b{uuid.uuid4().hex[:8]}"
    log_offsets = [log_offset(server.log) for server in servers]
    events = []
    for n in range(args.events):
        subscription_id = subscriptions[n % len(subscriptions)]
        if args.finalized:  # the invoice of record's two events per renewal
            events.append(finalized_invoice_event(run, n, subscription_id))
        events.append(paid_invoice_event(run, n, subscription_id))
    items = [
        ("POST", f"{servers[n % len(servers)].url}/vita_subscriptions/webhook/{key}", json.dumps(e).encode(), secret)
        for n, e in enumerate(events)
    ]
    started = time.perf_counter()
    sent, results = fire(items, args.concurrency)
    statuses = {}
    for _latency, status in results:
        statuses[status] = statuses.get(status, 0) + 1
    done = wait_handled(connection, run, len(events), args.timeout)
    states = dict(
        db_value(
            connection,
            "SELECT state, count(*) FROM vita_stripe_event WHERE stripe_id LIKE %s GROUP BY state",
            [f"evt_{run}_%"],
        )
    )
    moves = db_value(
        connection,
        "SELECT vita_stripe_invoice_id, count(*) FROM account_move WHERE vita_stripe_invoice_id LIKE %s "
        "AND move_type = 'out_invoice' GROUP BY 1",
        [f"in_{run}_%"],
    )
    duplicates = sum(count - 1 for _id, count in moves if count > 1)
    lost = args.events - len(moves)
    total = (done or time.perf_counter()) - started
    rate = len(moves) / total * 60
    unpaid = db_value(
        connection,
        "SELECT count(*) FROM account_move WHERE vita_stripe_invoice_id LIKE %s AND move_type = 'out_invoice' "
        "AND payment_state NOT IN ('paid', 'in_payment')",
        [f"in_{run}_%"],
    )[0][0]
    print(
        f"  {label}: {len(events)} events for {args.events} renewals sent in {sent:.1f} s "
        f"({len(events) / sent:.0f}/s, {statuses}); unpaid invoices {unpaid}; "
        f"all handled after {total:.1f} s{'' if done else ' (TIMEOUT)'}"
    )
    print(f"    states {states}; invoices {len(moves)}; duplicates {duplicates}; lost {lost}; {rate:.0f} invoices/min")
    wall, cpu = worker_kills(servers, log_offsets)
    print(f"    workers killed (Odoo's log): {wall + cpu} ({wall} wall clock, {cpu} CPU)")
    return rate, total, duplicates, lost


def ack_scenario(args, server, key, secret, rounds=4):
    """Health checks and acknowledgements in alternating rounds (the queue
    lanes handle the acknowledged events meanwhile, as they would): both
    see the same background, and the ratio does not drift with it."""
    run = f"a{uuid.uuid4().hex[:8]}"
    health = [("GET", f"{server.url}/web/health", None, None)] * args.acks
    bodies = [json.dumps(paid_invoice_event(run, n, "sub_bench_unknown")).encode() for n in range(args.acks)]
    acks = [("POST", f"{server.url}/vita_subscriptions/webhook/{key}", body, secret) for body in bodies]
    fire(health[:50], args.concurrency)  # warm both routes
    fire(
        [
            ("POST", acks[0][1], json.dumps(paid_invoice_event(run + "w", n, "sub_bench_unknown")).encode(), secret)
            for n in range(50)
        ],
        args.concurrency,
    )
    offset = log_offset(server.log)
    totals = {"health": [0.0, []], "ack": [0.0, []]}
    size = -(-args.acks // rounds)
    for start in range(0, args.acks, size):
        for name, items in (("health", health), ("ack", acks)):
            elapsed, results = fire(items[start : start + size], args.concurrency)
            totals[name][0] += elapsed
            totals[name][1] += results
    health_rate = summary("/web/health", *totals["health"])
    ack_rate = summary("webhook ack", *totals["ack"])
    print(f"  ratio ack / health: {ack_rate / health_rate:.2f} ({rounds} alternating rounds)")
    time.sleep(1)
    counts = query_counts(server.log, offset).get("200", [])
    if counts:
        print(f"  queries per acknowledgement (whole request): median {statistics.median(counts):g}, max {max(counts)}")
    return run


def latency_scenario(args, connection, server, *, key, secret, subscriptions):
    """One paid invoice at a time on the idle server: seconds from the
    delivery until its Odoo invoice is posted and paid (lanes woken by the
    acknowledgement, as in production)."""
    run = f"l{uuid.uuid4().hex[:8]}"
    url = f"{server.url}/vita_subscriptions/webhook/{key}"
    latencies = []
    session = requests.Session()
    for number in range(args.latency_events):
        body = json.dumps(paid_invoice_event(run, number, subscriptions[-1 - number % len(subscriptions)])).encode()
        started = time.perf_counter()
        session.post(url, data=body, headers={"Stripe-Signature": sign(body, secret)}, timeout=60).raise_for_status()
        deadline = started + 60
        while time.perf_counter() < deadline:
            paid = db_value(
                connection,
                "SELECT count(*) FROM account_move WHERE vita_stripe_invoice_id = %s AND state = 'posted'"
                " AND payment_state IN ('paid', 'in_payment')",
                [f"in_{run}_{number}"],
            )[0][0]
            if paid:
                latencies.append(time.perf_counter() - started)
                break
            time.sleep(0.02)
        else:
            print(f"  event {number}: no paid invoice after 60 s")
    if latencies:
        print(
            f"  delivery → paid invoice, {len(latencies)} events one at a time: "
            f"p50 {percentile(latencies, 0.5):.2f} s, max {max(latencies):.2f} s"
        )


def queue_main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue", action="store_true")
    parser.add_argument("--db", required=True)
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--subscriptions", type=int, default=2000)
    parser.add_argument(
        "--finalized",
        action="store_true",
        help="each renewal is invoice.finalized then invoice.paid (invoice of record)",
    )
    parser.add_argument("--acks", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=100, help="invoices Odoo creates+posts+pays alone")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--http-workers", type=int, default=2)
    parser.add_argument("--cron-workers", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds to wait for a burst to be handled")
    parser.add_argument("--latency-events", type=int, default=20, help="paid invoices sent one at a time")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: ack,latency,burst,scale")
    parser.add_argument(
        "--odoo-arg",
        action="append",
        default=[],
        help="an option for the Odoo servers (repeat it), e.g. --odoo-arg=--limit-time-real-cron=0; "
        "without any, Odoo runs with its default time limits",
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    connection = db_connect(args.db)
    ensure_secret(connection)
    key, secret = read_settings(args.db)
    print(f"setup + baseline ({args.subscriptions} subscriptions, {args.baseline} invoices in one process)…")
    shell = run_shell(args)
    subscriptions, baseline = shell["subscriptions"], shell["baseline_per_minute"]
    print(f"  Odoo alone, one process: {baseline:.0f} invoices/min (create + post + register payment)")
    servers = [OdooServer(args, "one")]
    try:
        if "ack" not in skip:
            print(f"a. acknowledgement ({args.acks} requests each, concurrency {args.concurrency})")
            run = ack_scenario(args, servers[0], key, secret)
            wait_handled(connection, run, args.acks, args.timeout)  # an empty queue for the burst
        if "latency" not in skip:
            print("a'. paid invoice latency on the idle server")
            latency_scenario(args, connection, servers[0], key=key, secret=secret, subscriptions=subscriptions)
        one_total = None
        if "burst" not in skip:
            print(f"b. burst ({args.http_workers} HTTP workers, {args.cron_workers} cron workers, one server)")
            rate, one_total, _dup, _lost = burst(
                args, connection, servers, key=key, secret=secret, subscriptions=subscriptions, label="one server"
            )
            print(f"  ratio to Odoo alone: {rate / baseline:.2f}x")
        if "scale" not in skip:
            servers.append(OdooServer(args, "two"))
            print("c. scale-out (two servers on one database, the burst split between them)")
            rate, total, _dup, _lost = burst(
                args, connection, servers, key=key, secret=secret, subscriptions=subscriptions, label="two servers"
            )
            if one_total:
                print(
                    f"  total time against one server: {total / one_total:.2f}x; "
                    f"ratio to Odoo alone {rate / baseline:.2f}x"
                )
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
