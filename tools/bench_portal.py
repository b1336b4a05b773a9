"""Benchmark the customer portal's subscription pages on a running Odoo.

For each size N, gives the portal user's customer N subscriptions (through
XML-RPC as admin, removed afterwards), then fetches /my/subscriptions and one
subscription page R times and prints throughput, latency percentiles and,
with Odoo's log file, the SQL queries per request (werkzeug INFO lines).

    python tools/bench_portal.py --db vita_demo --sizes 1,20,200 --requests 50 \
        --odoo-log /tmp/odoo.log

Run Odoo with `--logfile=/tmp/odoo.log --log-handler=werkzeug:INFO`. Use a
demo or scratch database: it creates and deletes records.
"""

import argparse
import re
import statistics
import time
import xmlrpc.client

import requests

LOG_LINE = re.compile(r'"GET (/my/subscriptions\S*) HTTP/[\d.]+" 200 - (\d+) ')


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def queries_since(log_path, offset, path_prefix):
    if not log_path:
        return None
    with open(log_path, encoding="utf-8", errors="replace") as log:
        log.seek(offset)
        counts = [int(m.group(2)) for m in LOG_LINE.finditer(log.read()) if m.group(1).startswith(path_prefix)]
    return statistics.median(counts) if counts else None


def log_offset(log_path):
    if not log_path:
        return 0
    with open(log_path, "rb") as log:
        return log.seek(0, 2)


def measure(session, url, count, log_path, label):
    session.get(url)  # warm caches
    offset = log_offset(log_path)
    latencies = []
    start = time.perf_counter()
    for _ in range(count):
        began = time.perf_counter()
        response = session.get(url)
        response.raise_for_status()
        latencies.append((time.perf_counter() - began) * 1000)
    elapsed = time.perf_counter() - start
    time.sleep(0.5)  # let Odoo flush its log line
    path = url.split("//", 1)[1].split("/", 1)[1]
    queries = queries_since(log_path, offset, "/" + path.split("?")[0])
    print(
        f"  {label:<22} {count / elapsed:7.1f} req/s  p50 {percentile(latencies, 0.5):6.1f} ms  "
        f"p90 {percentile(latencies, 0.9):6.1f} ms  queries/request {queries if queries is not None else 'n/a'}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="vita_demo")
    parser.add_argument("--admin", default="admin:admin", help="login:password of an administrator")
    parser.add_argument("--portal", default="portal:portal", help="login:password of a portal user")
    parser.add_argument("--sizes", default="1,20,200", help="subscriptions of the customer, comma separated")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--odoo-log")
    args = parser.parse_args()

    admin_login, admin_password = args.admin.split(":", 1)
    portal_login, portal_password = args.portal.split(":", 1)
    uid = xmlrpc.client.ServerProxy(f"{args.url}/xmlrpc/2/common").authenticate(
        args.db, admin_login, admin_password, {}
    )
    models = xmlrpc.client.ServerProxy(f"{args.url}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *call_args, **kwargs):
        return models.execute_kw(args.db, uid, admin_password, model, method, list(call_args), kwargs)

    portal_partner = call("res.users", "search_read", [("login", "=", portal_login)], fields=["partner_id"])[0]
    partner_id = portal_partner["partner_id"][0]
    template = call("vita.subscription", "search_read", [("contact_id", "=", partner_id)], fields=["plan_id"], limit=1)
    plan_id = template[0]["plan_id"][0]

    session = requests.Session()
    login_page = session.get(f"{args.url}/web/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    session.post(
        f"{args.url}/web/login",
        data={"login": portal_login, "password": portal_password, "csrf_token": csrf, "db": args.db},
    )

    created = []
    try:
        for size in (int(value) for value in args.sizes.split(",")):
            have = call("vita.subscription", "search_count", [("commercial_partner_id", "=", partner_id)])
            if size > have:
                created += call(
                    "vita.subscription",
                    "create",
                    [
                        {
                            "name": f"bench {index}",
                            "partner_id": partner_id,
                            "contact_id": partner_id,
                            "plan_id": plan_id,
                        }
                        for index in range(size - have)
                    ],
                )
            total = call("vita.subscription", "search_count", [("commercial_partner_id", "=", partner_id)])
            print(f"customer with {total} subscriptions:")
            measure(session, f"{args.url}/my/subscriptions", args.requests, args.odoo_log, "/my/subscriptions")
            detail = f"{args.url}/my/subscriptions/{created[0] if created else template[0]['id']}"
            measure(session, detail, args.requests, args.odoo_log, "/my/subscriptions/<id>")
    finally:
        if created:
            call("vita.subscription", "unlink", created)


if __name__ == "__main__":
    main()
