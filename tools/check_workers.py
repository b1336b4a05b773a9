"""Checks a running prefork Odoo (see tools/check_workers.sh).

Within ``--seconds`` of the server answering /web/health:
- ``/websocket`` (through the front door, as a browser reaches it) upgrades
  to a websocket and answers a ``subscribe`` message the way Odoo's bus does
  (no error close);
- signed ``setup_intent.succeeded`` webhooks are accepted (HTTP 200) by at
  least two distinct worker processes (the pid of each request is read from
  Odoo's log);
then Odoo's log must hold no traceback at all (the gevent process used to
crash-loop on ``DistributionNotFound``).
"""

import argparse
import hashlib
import hmac
import json
import re
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
import websocket

WEBHOOK_LINE = re.compile(r"^\S+ \S+ (\d+) INFO \S+ werkzeug: .*\"POST /vita_subscriptions/webhook/\S+ [^\"]*\" 200 ")


def wait_until(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    sys.exit(f"FAILED: {what} (waited {seconds} s)")


def health(url):
    try:
        return requests.get(f"{url}/web/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def open_websocket(url):
    try:
        return websocket.create_connection(
            url.replace("http", "ws", 1) + "/websocket?version=18.0-1", origin=url, timeout=10
        )
    except (OSError, websocket.WebSocketException):
        return None  # the gevent process starts after the HTTP workers


def check_websocket(url):
    ws = wait_until(lambda: open_websocket(url), 60, "/websocket did not upgrade to a websocket")
    try:
        assert ws.status == 101, f"/websocket answered {ws.status}, not 101 Switching Protocols"
        ws.send(json.dumps({"event_name": "subscribe", "data": {"channels": [], "last": 0}}))
        ws.settimeout(1)
        try:
            frame = ws.recv()
            sys.exit(f"FAILED: /websocket answered an empty subscribe with {frame!r}")
        except websocket.WebSocketTimeoutException:
            pass  # Odoo's bus stays silent until a notification: the connection lives
        assert ws.connected, "/websocket closed the connection after subscribe"
    finally:
        ws.close()


def signed_delivery(url, key, secret):
    body = json.dumps(
        {
            "id": f"evt_check_{uuid.uuid4().hex}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "livemode": False,
            "type": "setup_intent.succeeded",
            "data": {"object": {"id": f"seti_check_{uuid.uuid4().hex[:12]}", "object": "setup_intent"}},
        }
    ).encode()
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    response = requests.post(
        f"{url}/vita_subscriptions/webhook/{key}",
        data=body,
        headers={"Stripe-Signature": f"t={timestamp},v1={digest}", "Content-Type": "application/json"},
        timeout=30,
    )
    return response.status_code


def webhook_pids(log_path):
    with open(log_path, encoding="utf-8", errors="replace") as log:
        return {match.group(1) for line in log if (match := WEBHOOK_LINE.match(line))}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()

    wait_until(lambda: health(args.url), 120, "Odoo did not answer /web/health")
    started = time.monotonic()
    check_websocket(args.url)
    print("websocket: 101 Switching Protocols, subscribe accepted")

    def both_workers_answered():
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = set(pool.map(lambda _i: signed_delivery(args.url, args.key, args.secret), range(16)))
        if statuses != {200}:
            sys.exit(f"FAILED: signed webhooks answered {sorted(statuses)}")
        return len(webhook_pids(args.log)) >= 2

    wait_until(both_workers_answered, args.seconds, "signed webhooks were not accepted by two workers")
    print(f"webhooks: accepted by workers {sorted(webhook_pids(args.log))}")
    time.sleep(max(0.0, args.seconds - (time.monotonic() - started)))  # the 20 s the server must run clean

    with open(args.log, encoding="utf-8", errors="replace") as log:
        text = log.read()
    tracebacks = text.count("Traceback (most recent call last)")
    if tracebacks:
        print(text[text.index("Traceback (most recent call last)") - 300 :][:4000])
        sys.exit(f"FAILED: {tracebacks} traceback(s) in Odoo's log")
    print(f"log: no traceback in {args.seconds} s")


if __name__ == "__main__":
    main()
