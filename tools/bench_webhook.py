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
"""

import argparse
import hashlib
import hmac
import json
import re
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

LOG_LINE = re.compile(r'"POST /vita_subscriptions/webhook/\S+ HTTP/[\d.]+" (\d{3}) - (\d+) ([\d.]+) ([\d.]+)')


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


if __name__ == "__main__":
    main()
