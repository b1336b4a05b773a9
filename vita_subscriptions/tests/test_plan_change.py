import time
from contextlib import contextmanager
from unittest.mock import patch
from urllib.parse import urlsplit

import stripe

from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools import html2plaintext

from ..const import PARAM_PRORATION
from ..stripe_gateway import StripeGateway
from .common import RecordedStripe
from .test_portal import PortalCase

PREVIEW_PATH = ("POST", "/v1/invoices/create_preview")


def preview_invoice(subscription_id, lines, *, currency="eur"):
    """An invoice preview shaped like Stripe's current API reference: no id,
    the subscription under ``parent``, prorations flagged on each line.
    https://docs.stripe.com/api/invoices/create_preview"""
    now = int(time.time())
    total = sum(amount for _description, amount, _proration in lines)
    return {
        "object": "invoice",
        "id": None,
        "amount_due": total,
        "amount_paid": 0,
        "amount_remaining": total,
        "billing_reason": "upcoming",
        "created": now,
        "currency": currency,
        "customer": "cus_x",
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": f"il_tmp_{index}",
                    "object": "line_item",
                    "amount": amount,
                    "currency": currency,
                    "description": description,
                    "parent": {
                        "type": "subscription_item_details",
                        "subscription_item_details": {
                            "subscription": subscription_id,
                            "subscription_item": "si_x",
                            "proration": proration,
                        },
                    },
                    "period": {"start": now, "end": now + 30 * 86400},
                    "quantity": 1,
                }
                for index, (description, amount, proration) in enumerate(lines)
            ],
            "has_more": False,
            "url": "/v1/invoices/upcoming/lines",
        },
        "livemode": False,
        "next_payment_attempt": now + 30 * 86400,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription_id, "metadata": {}},
        },
        "period_end": now,
        "period_start": now - 86400,
        "status": "draft",
        "subtotal": total,
        "total": total,
    }


class PreviewOnlyStripe(RecordedStripe):
    """localstripe for everything but the recorded calls (the invoice
    preview, which localstripe does not model)."""

    def __init__(self, responses):
        super().__init__(responses)
        self.real = stripe.new_default_http_client()

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        if (method.upper(), urlsplit(url).path) in self.responses:
            return super().request(method, url, headers, post_data)
        return self.real.request(method, url, headers, post_data)


class PlanChangeCase(PortalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(PARAM_PRORATION, True)
        (cls.plan_yearly | cls.plan_usd).sudo().offered_in_portal = True

    @contextmanager
    def stripe_with_preview(self, subscription, lines):
        client = PreviewOnlyStripe({PREVIEW_PATH: (200, preview_invoice(subscription.stripe_subscription_id, lines))})
        with patch.object(StripeGateway, "http_client", client):
            yield client


@tagged("post_install", "-at_install")
class TestPlanChange(PlanChangeCase):
    def test_preview_asks_stripe_with_the_proration_setting(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        lines = [
            ("Unused time on 1 × Care", -2400, True),
            ("Remaining time on 2 × Care", 48000, True),
            ("2 × Care", 50000, False),
        ]
        with self.stripe_with_preview(subscription, lines) as client:
            preview = subscription._vita_preview_plan_change(self.plan_yearly, 2, portal=True)
        params = client.requests[0]["params"]
        self.assertEqual(params["subscription"], subscription.stripe_subscription_id)
        self.assertEqual(params["subscription_details[items][0][id]"], subscription.stripe_item_id)
        self.assertEqual(params["subscription_details[items][0][price]"], self.plan_yearly.stripe_id)
        self.assertEqual(params["subscription_details[items][0][quantity]"], "2")
        self.assertEqual(params["subscription_details[proration_behavior]"], "create_prorations")
        self.assertEqual(params["subscription_details[proration_date]"], str(preview["proration_date"]))
        self.assertEqual(len(client.requests), 1, "one Stripe call")
        self.assertEqual(preview["amount_now"], 0.0)
        self.assertEqual(preview["amount_proration"], 456.0)
        self.assertEqual(preview["amount_next"], 956.0)
        self.assertEqual(preview["next_date"], subscription.next_billing_date)

    def test_preview_without_proration(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        self.env["ir.config_parameter"].sudo().set_param(PARAM_PRORATION, False)
        with self.stripe_with_preview(subscription, [("3 × Care", 7500, False)]) as client:
            preview = subscription._vita_preview_plan_change(self.plan_monthly, 3)
        params = client.requests[0]["params"]
        self.assertEqual(params["subscription_details[proration_behavior]"], "none")
        self.assertNotIn("subscription_details[proration_date]", params)
        self.assertEqual((preview["amount_proration"], preview["amount_next"]), (0.0, 75.0))

    def test_change_applied_in_stripe_and_told_in_the_chatter(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        subscription._vita_change_plan(self.plan_yearly, 2, proration_date=int(time.time()), portal=True)
        self.assertEqual((subscription.plan_id, subscription.quantity), (self.plan_yearly, 2))
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        item = stripe_subscription["items"]["data"][0]
        self.assertEqual(item["plan"]["id"], self.plan_yearly.stripe_id)
        self.assertEqual(item["quantity"], 2)
        self.assertEqual(stripe_subscription["proration_behavior"], "create_prorations")
        self.assertEqual(subscription.stripe_item_id, item["id"])
        note = subscription.message_ids[:1]
        text = html2plaintext(note.body)
        self.assertIn("from the customer portal", text)
        self.assertIn(f"1 × {self.plan_monthly.display_name}", text)
        self.assertIn(f"2 × {self.plan_yearly.display_name}", text)
        self.assertEqual(note.author_id, self.env.user.partner_id)

    def test_portal_offers_only_offered_plans_of_the_same_currency(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        self.assertEqual(subscription._vita_portal_plans(), self.plan_yearly)
        with self.assertRaisesRegex(UserError, "not offered"):
            subscription._vita_check_plan_change(self.plan_monthly, 3, portal=True)
        with self.assertRaisesRegex(UserError, "must be in EUR"):
            subscription._vita_check_plan_change(self.plan_usd, 1)
        with self.assertRaisesRegex(UserError, "already the current plan"):
            subscription._vita_check_plan_change(self.plan_monthly, 1)
        with self.assertRaisesRegex(UserError, "at least 1"):
            subscription._vita_check_plan_change(self.plan_yearly, 0, portal=True)
        subscription.action_cancel_at_period_end()
        with self.assertRaisesRegex(UserError, "not being cancelled"):
            subscription._vita_check_plan_change(self.plan_yearly, 1, portal=True)

    def test_only_the_primary_contact_changes_the_plan(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        self.authenticate("vita_colleague", "vita_colleague")
        self.assertNotIn("o_vita_change_plan", self.url_open(self.url(subscription)).text)
        csrf_token = self.csrf_token()
        with self.recorded_stripe({}) as client:
            answer = self.json_call(
                self.url(subscription, "/plan_preview"),
                {"csrf_token": csrf_token, "plan_id": self.plan_yearly.id, "quantity": 2},
            )
            self.url_open(
                self.url(subscription, "/change_plan"),
                data={"csrf_token": csrf_token, "plan_id": self.plan_yearly.id, "quantity": 2},
            )
        self.assertIn("primary contact", answer["error"])
        # Only the page the refusal redirects to reads the card.
        self.assertFalse([r for r in client.requests if r["method"] == "POST"], "nothing asked of Stripe")
        self.assertEqual(subscription.plan_id, self.plan_monthly)
        self.authenticate("vita_owner", "vita_owner")
        self.assertIn("o_vita_change_plan", self.url_open(self.url(subscription)).text)

    def test_change_needs_the_csrf_token(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        self.authenticate("vita_owner", "vita_owner")
        response = self.url_open(
            self.url(subscription, "/change_plan"), data={"plan_id": self.plan_yearly.id, "quantity": 2}
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(subscription.plan_id, self.plan_monthly)
        answer = self.json_call(
            self.url(subscription, "/plan_preview"), {"plan_id": self.plan_yearly.id, "quantity": 2}
        )
        self.assertIn("session expired", answer["error"])

    def test_dialog_starts_at_the_current_plan_and_quantity(self):
        subscription = self.subscribed(quantity=3)
        action = subscription.action_change_plan()
        # As the web client opens it: default_get then onchange.
        with Form(self.env[action["res_model"]].with_context(**action["context"])) as dialog:
            self.assertEqual((dialog.plan_id, dialog.quantity), (self.plan_monthly, 3))

    def test_back_office_previews_then_applies(self):
        subscription = self.subscribed()
        action = subscription.action_change_plan()
        wizard = self.env[action["res_model"]].with_context(**action["context"]).create({})
        self.assertEqual((wizard.plan_id, wizard.quantity), (self.plan_monthly, 1))
        wizard.write({"plan_id": self.plan_monthly.id, "quantity": 4})
        with self.assertRaisesRegex(UserError, "Preview the change first"):
            wizard.action_apply()
        with self.stripe_with_preview(
            subscription, [("Remaining time on 4 × Care", 6000, True), ("4 × Care", 10000, False)]
        ):
            wizard.action_preview()
        self.assertTrue(wizard.previewed)
        self.assertEqual((wizard.amount_now, wizard.amount_proration, wizard.amount_next), (0.0, 60.0, 160.0))
        wizard.action_apply()
        self.assertEqual(subscription.quantity, 4)
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        self.assertEqual(stripe_subscription["items"]["data"][0]["quantity"], 4)
        self.assertIn("changed the plan", subscription.message_ids[:1].body)
        self.assertNotIn("portal", subscription.message_ids[:1].body)
