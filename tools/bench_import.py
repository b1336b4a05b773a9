"""Benchmark the import of Stripe subscriptions (Settings → Import
subscriptions from Stripe) at scale.

Starts its own localstripe on a free port, seeds N customers each with a
one-item subscription (a plan in the company's currency, in trial), points
the database's Stripe provider at it, then runs the import wizard in
process as the UI and the cron job do: Load (one transaction), Import
(queues the lines and triggers the cron job), then the cron job's batches,
each committed. Prints subscriptions per minute, SQL queries per
subscription and the longest transaction.

    ~/.cache/vita_subscriptions/venv/bin/python tools/bench_import.py --db vita_bench --count 2000

The database must have the addon installed (e.g. ``make test`` leaves its
``$VITA_TEST_DB``, copy it with ``createdb -T``); it gets N partners and
subscriptions and its Stripe provider points at the benchmark's
localstripe afterwards: use a scratch database, never production.
"""

import argparse
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ODOO_SRC = os.environ.get("ODOO_SRC", "/opt/odoo18")
SECRET_KEY = "sk_test_vitabench"  # noqa: S105 - localstripe accepts any sk_test_ key
PARAM_API_BASE = "vita_subscriptions.stripe_api_base"


def say(text):
    print(text, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_localstripe():
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own launcher
        [sys.executable, os.path.join(ROOT, "tools", "localstripe_server.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/v1/plans", auth=(SECRET_KEY, ""), timeout=2).raise_for_status()
            return process, url
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    sys.exit("localstripe did not start")


def seed(url, count, currency, concurrency):
    """N customers with a card and a subscription, as the Stripe dashboard
    (or another CRM) would have made them."""
    session = requests.Session()
    session.auth = (SECRET_KEY, "")

    def post(path, data):
        response = session.post(f"{url}/v1/{path}", data=data, timeout=30)
        response.raise_for_status()
        return response.json()

    run = uuid.uuid4().hex[:8]
    plan = post(
        "plans",
        {
            "id": f"plan_bench_{run}",
            "amount": 2500,
            "currency": currency,
            "interval": "month",
            "product[name]": "Bench",
        },
    )

    # In trial until after the run: localstripe bills a new subscription by
    # scanning its whole store several times (seeding would grow
    # quadratically); the import treats a trialing subscription the same way.
    trial_end = int(time.time()) + 40 * 86400

    def one(index):
        customer = post("customers", {"name": f"Bench {run} {index}", "email": f"bench-{run}-{index}@example.com"})
        post(
            "subscriptions",
            {"customer": customer["id"], "items[0][plan]": plan["id"], "items[0][quantity]": 1, "trial_end": trial_end},
        )

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(count)))


def odoo_environment(dbname):
    sys.path.insert(0, ODOO_SRC)
    import odoo  # noqa: PLC0415 - Odoo is not importable before the path is set

    odoo.tools.config.parse_config(
        [f"--addons-path={ODOO_SRC}/addons,{ROOT}", "-d", dbname, "--log-level=warn", "--max-cron-threads=0"]
    )
    logging.getLogger("stripe").setLevel(logging.WARNING)  # one INFO line per request
    return odoo, odoo.modules.registry.Registry(dbname)


class Transactions:
    """The injected ``commit``: commits, and measures each transaction."""

    def __init__(self, odoo, cr):
        self.odoo, self.cr = odoo, cr
        self.durations, self.queries = [], 0
        self.start()

    def start(self):
        self.began, self.sql = time.perf_counter(), self.odoo.sql_db.sql_counter

    def __call__(self):
        self.cr.commit()
        self.durations.append(time.perf_counter() - self.began)
        self.queries += self.odoo.sql_db.sql_counter - self.sql
        self.start()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="scratch database with vita_subscriptions installed")
    parser.add_argument("--count", type=int, default=2000, help="Stripe subscriptions to seed and import")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel requests while seeding")
    args = parser.parse_args()

    odoo, registry = odoo_environment(args.db)
    localstripe, url = start_localstripe()
    try:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            currency = env.company.currency_id.name.lower()
        started = time.perf_counter()
        seed(url, args.count, currency, args.concurrency)
        say(f"seeded:       {args.count} subscriptions in localstripe in {time.perf_counter() - started:.0f} s")
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            run(odoo, env, url)
    finally:
        localstripe.kill()


def run(odoo, env, url):
    env["ir.config_parameter"].sudo().set_param(PARAM_API_BASE, url)
    env.ref("payment.payment_provider_stripe").write(
        {
            "state": "test",
            "stripe_secret_key": SECRET_KEY,
            "stripe_publishable_key": SECRET_KEY.replace("sk_", "pk_"),
            "company_id": env.company.id,
        }
    )
    env.cr.commit()
    wizard = env["vita.stripe.import"].create({})
    transactions = Transactions(odoo, env.cr)
    wizard.action_load()
    transactions()
    say(
        f"load:         {len(wizard.line_ids)} lines in {transactions.durations[-1]:.1f} s, "
        f"{transactions.queries} queries (one transaction)"
    )

    transactions = Transactions(odoo, env.cr)
    started = time.perf_counter()
    wizard.action_import()
    transactions()
    env["vita.stripe.import"]._cron_import(commit=transactions, time_budget=float("inf"))
    elapsed = time.perf_counter() - started
    wizard.invalidate_recordset()
    imported = len(wizard.line_ids.filtered("subscription_id"))
    batch_size = odoo.addons.vita_subscriptions.wizards.vita_stripe_import.BATCH_SIZE
    say(f"import:       {wizard.summary}")
    say(f"              {imported} in {elapsed:.0f} s: {imported / elapsed * 60:.0f} subscriptions/minute")
    say(f"queries:      {transactions.queries / max(imported, 1):.1f} per subscription")
    say(
        f"transactions: {len(transactions.durations)}, longest {max(transactions.durations):.1f} s "
        f"(batches of {batch_size})"
    )


if __name__ == "__main__":
    main()
