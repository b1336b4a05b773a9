"""Screenshots of the demo for the README, in English and in French.

Usage: screenshots.py [URL] [--out DIR] [--langs en_US,fr_FR]
(`make screenshots`, against a running `make run`; URL defaults to
http://localhost:8069).

Logs in as the administrator and the demo portal user with requests, then
drives headless Chromium through the DevTools protocol: the session cookie
is set with Network.setCookie, each page is opened with Page.navigate and
captured with Page.captureScreenshot once what it shows is on screen. The
users' languages are switched for the French pictures and put back after.
"""

import argparse
import base64
import json
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
import websocket

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "doc" / "screenshots"
WIDTH, HEIGHT = 1280, 800
# Waits poll what the page shows, up to these many seconds.
START_TIMEOUT = 60
PAGE_TIMEOUT = 90
BACKOFFICE_READY = ".o_action_manager .o_view_controller:not(.o_loading)"

# name, user ("admin", "portal" or None for a visitor), the URL (or how to find
# it), what shows the page is drawn, what to scroll into view (optional).
PAGES = [
    ("subscription_list", "admin", "/odoo/action-vita_subscriptions.vita_subscription_action", ".o_list_view"),
    ("subscription_form", "admin", "backoffice_form", ".o_form_view .o_field_widget[name=plan_id]"),
    ("settings", "admin", "/odoo/action-vita_subscriptions.vita_subscriptions_settings_action", "#vita_terms"),
    (
        "settings_terms",
        "admin",
        "/odoo/action-vita_subscriptions.vita_subscriptions_settings_action",
        "#vita_terms .odoo-editor-editable, #vita_terms .note-editable, #vita_terms [contenteditable]",
        "#vita_terms",
    ),
    ("portal_before_subscribing", "portal", "portal_to_subscribe", ".o_vita_card_element input"),
    ("portal_subscribed", None, "portal_subscribed", ".o_vita_subscription_page"),
    # /my/credit_card exists once the customer has a running subscription:
    # the demo's portal customer has none until they subscribe (its PNGs
    # were taken after subscribing; the page did not change since).
    # The back office's preview of a subscription that ends at period end.
    ("portal_ending", "admin", "portal_ending", ".o_vita_state[data-ending]"),
    ("invoice", "admin", "invoice", "[name=vita_stripe_collection]"),
    ("revenue", "admin", "/odoo/action-vita_subscriptions.vita_mrr_report_action", ".o_pivot"),
    ("event_log", "admin", "/odoo/action-vita_subscriptions.vita_stripe_event_action", ".o_list_view"),
    ("event_form", "admin", "event_form", ".o_form_view .o_field_widget[name=payload] .ace_editor"),
]


class Odoo:
    """A logged-in requests session and the JSON-RPC calls the script needs."""

    def __init__(self, base_url, login, password):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        page = self.session.get(f"{self.base_url}/web/login", timeout=30)
        page.raise_for_status()
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if not match:
            raise RuntimeError(f"No login form at {self.base_url}/web/login")
        answer = self.session.post(
            f"{self.base_url}/web/login",
            data={"login": login, "password": password, "csrf_token": match.group(1)},
            allow_redirects=False,
            timeout=30,
        )
        answer.raise_for_status()
        self.uid = self.rpc("/web/session/get_session_info", {}).get("uid")
        if not self.uid:
            raise RuntimeError(f"Could not log in as {login} on {self.base_url}")

    @property
    def session_id(self):
        return self.session.cookies.get("session_id")

    def rpc(self, path, params):
        answer = self.session.post(
            f"{self.base_url}{path}", json={"jsonrpc": "2.0", "method": "call", "params": params}, timeout=30
        )
        answer.raise_for_status()
        body = answer.json()
        if "error" in body:
            raise RuntimeError(f"{path}: {body['error'].get('data', {}).get('message') or body['error']}")
        return body["result"]

    def call(self, model, method, *args, **kwargs):
        return self.rpc(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )


class Chromium:
    """Headless Chromium driven through the DevTools protocol."""

    def __init__(self, width=WIDTH, height=HEIGHT):
        binary = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
        if not binary:
            raise RuntimeError("Chromium not found (tools/common.sh ensure_chromium installs it).")
        self.profile = tempfile.mkdtemp(prefix="vita-screenshots-")
        port = _free_port()
        self.socket = None
        # Chromium's own messages, shown if it fails to start; closed by close().
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603 the browser found on PATH, fixed arguments
            [
                binary,
                "--headless=new",
                f"--remote-debugging-port={port}",
                "--remote-allow-origins=*",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "--no-sandbox",  # root in containers and CI
                "--no-first-run",
                "--disable-gpu",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            preexec_fn=_without_address_space_limit,  # noqa: PLW1509 only sets a limit, no threads involved
        )
        self.socket = websocket.create_connection(self._page_target(port), timeout=PAGE_TIMEOUT)
        self.next_id = 0
        self.call("Page.enable")
        self.call("Network.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def _page_target(self, port):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                output = self.log.read().decode(errors="replace")[-2000:]
                exit_code = self.process.poll()
                self.close()
                raise RuntimeError(f"Chromium did not start its DevTools endpoint (exit {exit_code}):\n{output}")
            time.sleep(0.1)

    def call(self, method, **params):
        """Send one DevTools command and return its result (events are skipped)."""
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def open(self, url, session_id=None, ready_selector="body", scroll_to=None, lang=None):
        """Open ``url`` as the owner of ``session_id`` (a visitor without
        one) and wait until ``ready_selector`` shows and nothing loads."""
        self.call("Network.clearBrowserCookies")
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}/"
        if session_id:
            self.call("Network.setCookie", name="session_id", value=session_id, url=site, httpOnly=True)
        if lang:
            # Portal pages take their language from this cookie first (the
            # session keeps the language the user had when logging in).
            self.call("Network.setCookie", name="frontend_lang", value=lang, url=site)
        self.call("Page.navigate", url=url)
        busy = ".o_loading_indicator, .o_blockUI"
        ready = (
            f"document.readyState === 'complete' && !!document.querySelector({json.dumps(ready_selector)})"
            f" && !document.querySelector({json.dumps(busy)})"
        )
        deadline = time.monotonic() + PAGE_TIMEOUT
        while not self.evaluate(ready):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url}: {ready_selector} did not show within {PAGE_TIMEOUT} s")
            time.sleep(0.2)
        if scroll_to:
            self.evaluate(f"document.querySelector({json.dumps(scroll_to)}).scrollIntoView({{block: 'start'}})")
        # Web fonts and images of the page, then one frame painted.
        self.evaluate("document.fonts.ready.then(() => true)")
        self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self):
        try:
            if self.socket:
                self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)
            self.log.close()


def capture(
    base_url, path, out_file, *, session_id=None, ready_selector="body", scroll_to=None, lang=None, browser=None
):
    """One screenshot of ``base_url + path`` (as the owner of
    ``session_id``) written to ``out_file``; returns its path."""
    own = browser is None
    browser = browser or Chromium()
    try:
        browser.open(base_url.rstrip("/") + path, session_id, ready_selector, scroll_to, lang)
        return browser.screenshot(out_file)
    finally:
        if own:
            browser.close()


def _without_address_space_limit():
    """Odoo caps its address space (RLIMIT_AS, ``limit_memory_hard``) and a
    child inherits the cap: Chromium reserves far more than it uses and
    dies of it (SIGTRAP) when the script runs inside Odoo's test server."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _demo_urls(admin):
    """The URLs of the demo records the pages show."""
    subscriptions = admin.call(
        "vita.subscription",
        "search_read",
        [],
        fields=["id", "state", "partner_id"],
        order="id",
    )
    portal_partner = admin.call("res.users", "search_read", [("login", "=", "portal")], fields=["partner_id"])
    portal_partner_id = portal_partner[0]["partner_id"][0] if portal_partner else None
    to_subscribe = next(
        (s for s in subscriptions if s["state"] == "not_subscribed" and s["partner_id"][0] == portal_partner_id),
        None,
    ) or next((s for s in subscriptions if s["state"] == "not_subscribed"), None)
    subscribed = next((s for s in subscriptions if s["state"] == "active"), None) or subscriptions[0]
    form = next((s for s in subscriptions if s["state"] == "active"), subscribed)
    ending = admin.call("vita.subscription", "search_read", [("cancel_at_period_end", "=", True)], fields=["id"])
    invoices = admin.call("account.move", "search_read", [("vita_stripe_invoice_id", "!=", False)], fields=["id"])
    events = admin.call("vita.stripe.event", "search_read", [], fields=["id"], limit=1)
    return {
        "portal_ending": f"/my/subscriptions/{ending[0]['id']}" if ending else "/my/subscriptions",
        "invoice": f"/report/html/account.report_invoice/{invoices[0]['id']}" if invoices else "/odoo",
        "event_form": f"/odoo/action-vita_subscriptions.vita_stripe_event_action/{events[0]['id']}"
        if events
        else "/odoo",
        "backoffice_form": f"/odoo/action-vita_subscriptions.vita_subscription_action/{form['id']}",
        "portal_to_subscribe": f"/my/subscriptions/{to_subscribe['id']}" if to_subscribe else "/my/subscriptions",
        # As the customer opens it from the e-mail: the link carries its access token.
        "portal_subscribed": admin.call("vita.subscription", "get_portal_url", [subscribed["id"]]),
    }


def take_all(base_url, out_dir, langs):
    admin = Odoo(base_url, "admin", "admin")
    portal = Odoo(base_url, "portal", "portal")
    sessions = {"admin": admin.session_id, "portal": portal.session_id, None: None}
    users = {"admin": admin.uid, "portal": portal.uid}
    saved = {row["id"]: row["lang"] for row in admin.call("res.users", "read", list(users.values()), ["lang"])}
    urls = _demo_urls(admin)
    browser = Chromium()
    written = []
    try:
        for lang in langs:
            admin.call("res.users", "write", list(users.values()), {"lang": lang})
            for name, user, where, ready, *scroll_to in PAGES:
                path = urls.get(where, where)
                out_file = Path(out_dir) / f"{name}_{lang.split('_')[0]}.png"
                written.append(
                    capture(
                        base_url,
                        path,
                        out_file,
                        session_id=sessions[user],
                        ready_selector=ready,
                        scroll_to=scroll_to[0] if scroll_to else None,
                        lang=lang,
                        browser=browser,
                    )
                )
                print(f"{out_file}  ({path})")
    finally:
        browser.close()
        for uid, lang in saved.items():
            admin.call("res.users", "write", [uid], {"lang": lang})
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="http://localhost:8069")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder of the PNGs (default: doc/screenshots)")
    parser.add_argument("--langs", default="en_US,fr_FR", help="comma-separated languages (default: en_US,fr_FR)")
    args = parser.parse_args(argv)
    take_all(args.url, args.out, args.langs.split(","))


if __name__ == "__main__":
    sys.exit(main())
