import json
import re

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from ..const import PARAM_PORTAL_ENABLED
from .common import SubscriptionCase
from .webhook_common import invoice, invoice_line


class PortalCase(SubscriptionCase, HttpCase):
    """Portal users around one customer: its primary contact (owner), a
    colleague of the same customer, and a stranger from another customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.vita_terms = "<p>Terms for the tour</p>"
        cls.owner = new_test_user(cls.env, "vita_owner", groups="base.group_portal", partner_id=cls.contact.id)
        colleague_partner = cls.env["res.partner"].create({"name": "Bob Colleague", "parent_id": cls.customer.id})
        cls.colleague = new_test_user(
            cls.env, "vita_colleague", groups="base.group_portal", partner_id=colleague_partner.id
        )
        stranger_company = cls.env["res.partner"].create({"name": "Other customer", "is_company": True})
        stranger_partner = cls.env["res.partner"].create({"name": "Eve Stranger", "parent_id": stranger_company.id})
        cls.stranger = new_test_user(
            cls.env, "vita_stranger", groups="base.group_portal", partner_id=stranger_partner.id
        )
        cls.back_office = new_test_user(cls.env, "vita_backoffice", groups="vita_subscriptions.group_subscription_user")

    def prepare(self, **values):
        values.setdefault("contact_id", self.contact.id)
        return super().prepare(**values)

    def url(self, subscription, suffix="", token=None):
        url = f"/my/subscriptions/{subscription.id}{suffix}"
        return f"{url}?access_token={token}" if token else url

    def json_call(self, route, params):
        """A JSON-RPC call as the page makes it; returns the result or the error."""
        response = self.url_open(
            route,
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}),
            headers={"Content-Type": "application/json"},
        )
        body = response.json()
        return body.get("result", body.get("error"))

    def csrf_token(self):
        """The CSRF token of the current session, read from a portal page."""
        session = getattr(self, "session", None)
        page = self.url_open("/my/home" if session and session.uid else "/web/login").text
        marker = 'csrf_token: "'
        start = page.index(marker) + len(marker)
        return page[start : page.index('"', start)]


@tagged("post_install", "-at_install")
class TestPortalTours(PortalCase):
    """The customer's side in a real browser, against localstripe's Stripe.js."""

    def test_subscribe_with_a_new_card(self):
        subscription = self.prepare()
        self.start_tour(self.url(subscription), "vita_portal_subscribe_tour", login="vita_owner")
        self.assertEqual(subscription.state, "active")
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        self.assertEqual(stripe_subscription["status"], "active")

    def test_declined_card(self):
        subscription = self.prepare()
        self.start_tour(self.url(subscription), "vita_portal_declined_tour", login="vita_owner")
        self.assertEqual(subscription.state, "not_subscribed")
        self.assertFalse(subscription.stripe_subscription_id)
        self.assertEqual(self.gateway().default_card(self.stripe_customer_id)["last4"], "4242", "not the declined card")
        running = self.localstripe.get("subscriptions", customer=self.stripe_customer_id)["data"]
        self.assertFalse(
            [s for s in running if s["metadata"].get("odoo_subscription_id") == str(subscription.id)],
            "the abandoned Stripe subscription was cancelled",
        )

    def test_empty_card_form_gets_a_plain_message(self):
        subscription = self.prepare()
        self.start_tour(self.url(subscription), "vita_portal_empty_card_tour", login="vita_owner")
        self.assertEqual(subscription.state, "not_subscribed")

    def test_3d_secure_confirmed(self):
        subscription = self.prepare()
        self.start_tour(self.url(subscription), "vita_portal_3ds_tour", login="vita_owner")
        self.assertEqual(subscription.state, "active")

    def test_3d_secure_abandoned(self):
        subscription = self.prepare()
        self.start_tour(self.url(subscription), "vita_portal_3ds_abandoned_tour", login="vita_owner")
        self.assertEqual(subscription.state, "not_subscribed")

    def test_3d_secure_left_then_confirmed_from_the_page(self):
        subscription = self.prepare()
        self.start_tour(self.url(subscription), "vita_portal_3ds_left_then_confirmed_tour", login="vita_owner")
        self.assertEqual(subscription.state, "active")
        # The day it started for the customer who subscribed (their timezone).
        customer_today = fields.Date.context_today(subscription.with_user(self.owner).with_context(tz=self.owner.tz))
        self.assertEqual(subscription.first_billing_date, customer_today)
        self.assertTrue(subscription.message_ids.filtered(lambda m: "3-D Secure authentication" in (m.body or "")))
        self.assertFalse(subscription.activity_ids, "the reminder is done once the customer subscribed")
        self.assertEqual(self.gateway().default_card(self.stripe_customer_id)["last4"], "3155", "it paid: default now")

    def test_incomplete_paid_with_another_card(self):
        subscription = self.prepare()
        card_3ds = self.localstripe.attach_card(self.stripe_customer_id, "4000002500003155")
        subscription._vita_portal_subscribe(card_3ds["id"])
        self.assertEqual(subscription.state, "incomplete")
        self.assertEqual(len(subscription.activity_ids), 1)
        abandoned_id = subscription.stripe_subscription_id
        self.start_tour(self.url(subscription), "vita_portal_incomplete_other_card_tour", login="vita_owner")
        self.assertEqual(subscription.state, "active")
        self.assertEqual(self.localstripe.get(f"subscriptions/{abandoned_id}")["status"], "canceled")

    def test_visitor_with_the_emailed_link_subscribes(self):
        subscription = self.prepare()
        url = self.url(subscription, token=subscription._portal_ensure_token())
        self.start_tour(url, "vita_portal_saved_card_tour")
        self.assertEqual(subscription.state, "active")

    def test_saved_card_one_click_on_a_second_subscription(self):
        self.subscribed(contact_id=self.contact.id)
        second = self.prepare(name="Second")
        self.start_tour(self.url(second), "vita_portal_saved_card_tour", login="vita_owner")
        self.assertEqual(second.state, "active")

    def test_cancel_at_period_end_then_reactivate(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        self.start_tour(self.url(subscription), "vita_portal_cancel_reactivate_tour", login="vita_owner")
        self.assertFalse(subscription.cancel_at_period_end)
        self.assertEqual(subscription.state, "active")

    def test_cancel_now(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        self.start_tour(self.url(subscription), "vita_portal_cancel_now_tour", login="vita_owner")
        self.assertEqual(subscription.state, "canceled")

    def test_update_card(self):
        self.subscribed(contact_id=self.contact.id)
        self.start_tour("/my/credit_card", "vita_portal_credit_card_tour", login="vita_owner")
        card = self.gateway().default_card(self.stripe_customer_id)
        self.assertEqual(card["last4"], "4444")


@tagged("post_install", "-at_install")
class TestPortalAccess(PortalCase):
    """Every route and action, for every kind of visitor."""

    def test_list_shows_only_the_customers_subscriptions(self):
        mine = self.prepare(name="Mine to see")
        self.authenticate("vita_colleague", "vita_colleague")
        self.assertIn("Mine to see", self.url_open("/my/subscriptions").text)
        self.authenticate("vita_stranger", "vita_stranger")
        page = self.url_open("/my/subscriptions")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("Mine to see", page.text)
        self.assertNotIn(self.url(mine), page.text)

    def test_list_needs_a_login(self):
        response = self.url_open("/my/subscriptions", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])

    def test_portal_setting_off_hides_the_list(self):
        self.env["ir.config_parameter"].sudo().set_param(PARAM_PORTAL_ENABLED, False)
        self.prepare()
        self.authenticate("vita_owner", "vita_owner")
        self.assertEqual(self.url_open("/my/subscriptions").status_code, 404)
        counters = self.json_call("/my/counters", {"counters": ["vita_subscription_count"]})
        self.assertEqual(counters["vita_subscription_count"], 0)

    def test_home_counter(self):
        self.prepare()
        self.prepare(name="Two")
        self.authenticate("vita_owner", "vita_owner")
        counters = self.json_call("/my/counters", {"counters": ["vita_subscription_count"]})
        self.assertEqual(counters["vita_subscription_count"], 2)
        self.assertNotIn("/my/credit_card", self.url_open("/my/home").text, "no card pays a subscription yet")
        self.subscribed(name="Three", contact_id=self.contact.id)
        self.assertIn("/my/credit_card", self.url_open("/my/home").text)

    def test_detail_page_by_visitor(self):
        subscription = self.prepare(description="Weekly visits")
        token = subscription._portal_ensure_token()
        cases = [
            # (login, token, status, sees the Subscribe form)
            ("vita_owner", None, 200, True),
            ("vita_colleague", None, 200, False),
            ("vita_stranger", None, 404, False),
            ("vita_backoffice", None, 200, False),
            (None, token, 200, True),
            (None, "wrong-token", 404, False),
            ("vita_stranger", token, 200, True),
        ]
        for login, access_token, status, subscribe in cases:
            with self.subTest(login=login, token=access_token):
                if login:
                    self.authenticate(login, login)
                else:
                    self.logout()
                response = self.url_open(self.url(subscription, token=access_token))
                self.assertEqual(response.status_code, status)
                self.assertEqual("Weekly visits" in response.text, status == 200)
                self.assertEqual("o_vita_card_form" in response.text, subscribe)
                self.assertEqual("o_vita_cancel" in response.text, False)

    def test_emailed_link_opens_the_page_without_login(self):
        subscription = self.prepare(description="From the e-mail")
        action = subscription.action_send_email()
        composer = self.env["mail.compose.message"].with_context(**action["context"]).create({})
        composer._action_send_mail()
        mail = self.env["mail.mail"].search([("model", "=", subscription._name), ("res_id", "=", subscription.id)])
        link = re.search(r'href="([^"]*/my/subscriptions/[^"]*)"', mail.body_html).group(1).replace("&amp;", "&")
        page = self.url_open(link.replace(subscription.get_base_url(), ""))  # anonymous
        self.assertEqual(page.status_code, 200)
        self.assertIn("From the e-mail", page.text)
        self.assertIn("o_vita_card_form", page.text, "the recipient may subscribe from the link")

    def test_anonymous_without_token_goes_to_login(self):
        subscription = self.prepare()
        response = self.url_open(self.url(subscription), allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])

    def test_missing_record_is_the_same_404(self):
        self.authenticate("vita_owner", "vita_owner")
        self.assertEqual(self.url_open("/my/subscriptions/999999").status_code, 404)

    def breadcrumb(self, page):
        start = page.index("o_portal_submenu")
        return page[start : page.index("</ol>", start)]

    def test_breadcrumb_of_a_page_with_invoices(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        move = subscription._vita_invoice_from_stripe(
            invoice(subscription.stripe_subscription_id, [invoice_line(2500)], total=2500)
        )
        self.authenticate("vita_owner", "vita_owner")
        page = self.url_open(self.url(subscription)).text
        self.assertIn(move.name, page, "the invoice is listed")
        breadcrumb = self.breadcrumb(page)
        self.assertNotIn(move.name, breadcrumb)
        self.assertIn('href="/my/subscriptions"', breadcrumb)
        self.assertIn(subscription.name, breadcrumb)
        self.env["ir.config_parameter"].sudo().set_param(PARAM_PORTAL_ENABLED, False)
        breadcrumb = self.breadcrumb(self.url_open(self.url(subscription)).text)
        self.assertNotIn("/my/subscriptions", breadcrumb, "no link to a list that answers 404")
        self.assertIn(subscription.name, breadcrumb)

    def test_page_has_a_sidebar_with_amount_state_next_step_and_card(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        self.authenticate("vita_owner", "vita_owner")
        page = self.url_open(self.url(subscription)).text
        sidebar = page[page.index("o_portal_sidebar_content") : page.index("vita_subscription_content")]
        for expected in ("25.00", "per month", "o_vita_state", "Next billing on", "•••• 4242", "/my/credit_card"):
            self.assertIn(expected, sidebar)
        self.assertIn("Next billing date", page)
        subscription.action_cancel_at_period_end()
        page = self.url_open(self.url(subscription)).text
        self.assertNotIn("Next billing date", page, "a subscription that ends is not billed again")
        self.assertNotIn("Next billing on", page)
        self.assertIn("Ends on", page)
        self.assertIn("Ends on", self.url_open("/my/subscriptions").text)
        self.authenticate("vita_colleague", "vita_colleague")
        page = self.url_open(self.url(subscription)).text
        self.assertIn("•••• 4242", page)
        self.assertNotIn("o_vita_change_card", page, "only the primary contact changes the card")

    def test_cancel_and_reactivate_say_what_happened(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        self.authenticate("vita_owner", "vita_owner")
        page = self.url_open(
            self.url(subscription, "/cancel"), data={"csrf_token": self.csrf_token(), "when": "period_end"}
        ).text
        self.assertIn("it ends at the end of the billing period", page)
        page = self.url_open(self.url(subscription, "/reactivate"), data={"csrf_token": self.csrf_token()}).text
        self.assertIn("Your subscription is active again.", page)
        self.assertNotIn("active again", self.url_open(self.url(subscription)).text, "told once")

    def test_preview_from_the_back_office(self):
        subscription = self.prepare(description="Seen by the customer")
        url = subscription.action_preview()["url"]
        self.assertIn("access_token=", url)
        self.authenticate("vita_backoffice", "vita_backoffice")
        page = self.url_open(url).text
        self.assertIn("Preview: this is the page your customer sees.", page)
        self.assertIn(f"/odoo/action-vita_subscriptions.vita_subscription_action/{subscription.id}", page)
        self.assertIn("Seen by the customer", page)
        self.assertIn("Terms for the tour", page)
        self.assertIn("o_vita_preview_subscribe", page)
        self.assertNotIn("o_vita_card_form", page, "no live Subscribe button")

    def test_detail_shows_prices_and_terms(self):
        subscription = self.prepare(quantity=2, tax_rate_ids=[self.vat.id])
        self.authenticate("vita_owner", "vita_owner")
        page = self.url_open(self.url(subscription)).text
        for expected in ("Terms for the tour", "60.00", "Care", "EUR", "Subscribe"):
            self.assertIn(expected, page)
        self.assertLess(page.index("Terms for the tour"), page.index("o_vita_submit"))

    def test_only_owner_or_token_may_subscribe(self):
        subscription = self.prepare()
        for login in ("vita_colleague", "vita_backoffice"):
            with self.subTest(login=login):
                self.authenticate(login, login)
                answer = self.json_call(self.url(subscription, "/subscribe"), {"csrf_token": self.csrf_token()})
                self.assertIn("Only the primary contact", answer["error"])
        self.authenticate("vita_stranger", "vita_stranger")
        answer = self.json_call(self.url(subscription, "/subscribe"), {"csrf_token": self.csrf_token()})
        self.assertEqual(answer["data"]["name"], "werkzeug.exceptions.NotFound")
        self.assertEqual(subscription.state, "not_subscribed")
        self.assertFalse(subscription.stripe_subscription_id)

    def test_json_actions_refuse_outsiders_without_touching_stripe(self):
        subscription = self.prepare()
        token = subscription._portal_ensure_token()
        setup_intents_before = self.localstripe.get("setup_intents", limit=100)["data"]
        routes = ("/setup_intent", "/subscribe", "/authenticated")
        visitors = [("vita_stranger", None), (None, "wrong-token"), (None, None), ("vita_stranger", "wrong-token")]
        for login, access_token in visitors:
            if login:
                self.authenticate(login, login)
            else:
                self.logout()
            for route in routes:
                with self.subTest(login=login, token=access_token, route=route):
                    params = {"csrf_token": self.csrf_token(), "access_token": access_token, "attempt": "a1"}
                    answer = self.json_call(self.url(subscription, route), params)
                    self.assertEqual(answer["data"]["name"], "werkzeug.exceptions.NotFound")
        self.assertEqual(len(self.localstripe.get("setup_intents", limit=100)["data"]), len(setup_intents_before))
        self.assertEqual(subscription.state, "not_subscribed")
        self.logout()
        answer = self.json_call(
            self.url(subscription, "/setup_intent"), {"csrf_token": self.csrf_token(), "access_token": token}
        )
        self.assertTrue(answer["client_secret"].startswith("seti_"), "the e-mailed token may start a card set-up")

    def test_declined_attempts_leave_the_default_card_and_tell_the_back_office_once(self):
        subscription = self.prepare()
        self.authenticate("vita_owner", "vita_owner")
        for _attempt in range(2):
            declined = self.localstripe.attach_card(self.stripe_customer_id, "4000000000000341")
            answer = self.json_call(
                self.url(subscription, "/subscribe"),
                {"csrf_token": self.csrf_token(), "payment_method_id": declined["id"]},
            )
            self.assertIn("Please try another card", answer["error"])
        self.assertEqual(subscription.state, "not_subscribed")
        self.assertFalse(subscription.first_billing_date, "a failed attempt does not set the first billing date")
        self.assertEqual(self.gateway().default_card(self.stripe_customer_id)["last4"], "4242")
        notes = subscription.message_ids.filtered(lambda m: "subscribe attempt failed" in (m.body or ""))
        self.assertEqual(len(notes), 2, "one note per attempt")
        self.assertEqual(len(subscription.activity_ids), 1, "one activity for all attempts")
        self.assertIn("not completed", subscription.activity_ids.summary)

    def test_stripe_failure_tells_the_customer_what_to_do_and_the_back_office_why(self):
        """Stripe failing (HTTP 500) is not "Stripe refused the request",
        and a customer is never sent to the Stripe dashboard: they read
        "try again later"; the subscription's chatter keeps the detail."""
        subscription = self.prepare()
        self.authenticate("vita_owner", "vita_owner")
        csrf_token = self.csrf_token()
        failure = (500, {"error": {"type": "api_error", "message": "An unknown error occurred"}})
        with self.recorded_stripe({("POST", "/v1/setup_intents"): failure}):
            answer = self.json_call(
                self.url(subscription, "/setup_intent"), {"csrf_token": csrf_token, "attempt": "a1"}
            )
        self.assertIn("Please try again in a few minutes", answer["error"])
        for technical in ("HTTP", "refused", "dashboard", "Stripe answered"):
            self.assertNotIn(technical, answer["error"])
        note = subscription.message_ids.filtered(lambda m: "on the portal failed" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("HTTP 500", note.body)
        self.assertNotIn("refused", note.body, "a 5xx is Stripe's failure, not a refusal")
        self.assertIn("not completed", subscription.activity_ids.summary)

    def test_declined_attempt_of_a_visitor_with_the_emailed_link(self):
        """The public user leaves the note and the activity too (sudo, no login)."""
        subscription = self.prepare()
        token = subscription._portal_ensure_token()
        self.url_open("/web/login")
        declined = self.localstripe.attach_card(self.stripe_customer_id, "4000000000000341")
        answer = self.json_call(
            self.url(subscription, "/subscribe"),
            {"csrf_token": self.csrf_token(), "access_token": token, "payment_method_id": declined["id"]},
        )
        self.assertIn("the card was declined", answer["error"])
        self.assertEqual(len(subscription.activity_ids), 1)
        self.assertEqual(self.gateway().default_card(self.stripe_customer_id)["last4"], "4242")

    def test_token_holder_subscribes_but_cannot_cancel(self):
        subscription = self.prepare()
        token = subscription._portal_ensure_token()
        self.url_open("/web/login")
        answer = self.json_call(
            self.url(subscription, "/subscribe"), {"csrf_token": self.csrf_token(), "access_token": token}
        )
        self.assertEqual(answer, {"state": "active"})
        response = self.url_open(
            self.url(subscription, "/cancel"),
            data={"csrf_token": self.csrf_token(), "when": "now"},
            allow_redirects=False,
        )
        self.assertIn("/web/login", response.headers["Location"])
        self.assertEqual(subscription.state, "active")

    def test_colleague_cannot_cancel_or_reactivate(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        self.authenticate("vita_colleague", "vita_colleague")
        for suffix in ("/cancel", "/reactivate"):
            self.url_open(self.url(subscription, suffix), data={"csrf_token": self.csrf_token(), "when": "now"})
        self.assertEqual(subscription.state, "active")
        self.assertFalse(subscription.cancel_at_period_end)
        self.authenticate("vita_stranger", "vita_stranger")
        response = self.url_open(
            self.url(subscription, "/cancel"), data={"csrf_token": self.csrf_token(), "when": "now"}
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(subscription.state, "active")

    def test_owner_cancels_with_a_post(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        self.authenticate("vita_owner", "vita_owner")
        self.assertEqual(self.url_open(self.url(subscription, "/cancel")).status_code, 405, "GET is refused")
        self.url_open(self.url(subscription, "/cancel"), data={"csrf_token": self.csrf_token(), "when": "period_end"})
        self.assertTrue(subscription.cancel_at_period_end)

    def test_csrf_refused(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        self.authenticate("vita_owner", "vita_owner")
        response = self.url_open(self.url(subscription, "/cancel"), data={"when": "now"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(subscription.state, "active")
        second = self.prepare(name="Second")
        answer = self.json_call(self.url(second, "/subscribe"), {})
        self.assertIn("session expired", answer["error"])
        answer = self.json_call("/my/credit_card/update", {"payment_method_id": "pm_x", "csrf_token": "forged"})
        self.assertIn("session expired", answer["error"])
        self.assertEqual(second.state, "not_subscribed")

    def test_credit_card_page(self):
        self.subscribed(contact_id=self.contact.id)
        self.authenticate("vita_owner", "vita_owner")
        page = self.url_open("/my/credit_card").text
        self.assertIn("4242", page)
        self.assertIn("o_vita_card_form", page)
        self.assertNotIn("sk_test", page)
        self.authenticate("vita_colleague", "vita_colleague")
        page = self.url_open("/my/credit_card").text
        self.assertIn("4242", page)
        self.assertNotIn("o_vita_card_form", page, "only a primary contact replaces the card")
        answer = self.json_call("/my/credit_card/setup_intent", {"csrf_token": self.csrf_token()})
        self.assertIn("Only the primary contact", answer["error"])

    def test_credit_card_page_without_a_card(self):
        self.subscribed(contact_id=self.contact.id)
        # The card removed in Stripe: no default card left.
        self.localstripe._post(
            f"customers/{self.stripe_customer_id}", json={"invoice_settings": {"default_payment_method": ""}}
        )
        self.authenticate("vita_owner", "vita_owner")
        page = self.url_open("/my/credit_card").text
        self.assertIn("No card is saved yet", page)
        self.assertIn("Add a card", page, "nothing to replace")
        self.assertNotIn("Replace the card", page)
        self.assertIn("o_vita_card_form", page)

    def test_card_of_another_customer_is_refused(self):
        self.subscribed(contact_id=self.contact.id)
        other = self.localstripe._post("customers", {"name": "Someone else"})
        their_card = self.localstripe.give_card(other["id"], "4000056655665556")
        self.authenticate("vita_owner", "vita_owner")
        answer = self.json_call(
            "/my/credit_card/update", {"csrf_token": self.csrf_token(), "payment_method_id": their_card["id"]}
        )
        self.assertIn("cannot be used", answer["error"])
        self.assertEqual(self.gateway().default_card(self.stripe_customer_id)["last4"], "4242")

    def test_list_query_count_does_not_grow(self):
        self.authenticate("vita_owner", "vita_owner")

        def queries_for_list():
            self.url_open("/my/subscriptions")  # warm caches
            before = self.cr.sql_log_count
            self.url_open("/my/subscriptions")
            return self.cr.sql_log_count - before

        self.prepare(tax_rate_ids=[self.vat.id])
        few = queries_for_list()
        for index in range(12):
            self.prepare(name=f"More {index}", quantity=index + 1, tax_rate_ids=[self.vat.id])
        self.assertEqual(queries_for_list(), few)
