"""Shared test set-up: a Stripe provider pointed at localstripe, helpers to
put objects into localstripe, and a recording Stripe HTTP client for what
localstripe cannot model."""

import json
import os
import uuid
from contextlib import contextmanager
from unittest.mock import patch
from urllib.parse import parse_qsl, urlsplit

import requests
import stripe

from odoo.tests import TransactionCase

from ..const import PARAM_STRIPE_API_BASE, PARAM_STRIPE_JS_URL
from ..stripe_gateway import StripeGateway

TEST_SECRET_KEY = "sk_test_vitatests4242"
TEST_PUBLISHABLE_KEY = "pk_test_vitatests4242"


def localstripe_url():
    url = os.environ.get("VITA_LOCALSTRIPE_URL")
    if not url:
        # A missing Stripe peer is a broken rig, not a reason to skip.
        raise RuntimeError("VITA_LOCALSTRIPE_URL is not set: run the tests with `make test`.")
    return url


class LocalStripe:
    """Puts fixtures into localstripe the way the Stripe dashboard would."""

    def __init__(self, url, secret_key=TEST_SECRET_KEY):
        self.url = url
        self.session = requests.Session()
        self.session.auth = (secret_key, "")

    def _post(self, path, data=None, json=None):
        # Updates go as JSON: localstripe keeps form-encoded "false" as a string.
        response = self.session.post(f"{self.url}/v1/{path}", data=data, json=json, timeout=10)
        response.raise_for_status()
        return response.json()

    def create_plan(self, plan_id, amount, currency="eur", interval="month", product="Test product", **extra):
        data = {
            "id": plan_id,
            "amount": amount,
            "currency": currency,
            "interval": interval,
            "product[name]": product,
            **extra,
        }
        return self._post("plans", data)

    def update_plan(self, plan_id, **values):
        return self._post(f"plans/{plan_id}", json=values)

    def delete_plan(self, plan_id):
        self.session.delete(f"{self.url}/v1/plans/{plan_id}", timeout=10).raise_for_status()

    def create_tax_rate(self, display_name, percentage, inclusive=False, **extra):
        data = {
            "display_name": display_name,
            "percentage": percentage,
            "inclusive": str(inclusive).lower(),
            **extra,
        }
        return self._post("tax_rates", data)

    def update_tax_rate(self, tax_rate_id, **values):
        return self._post(f"tax_rates/{tax_rate_id}", json=values)

    def attach_card(self, customer_id, number="4242424242424242"):
        """A card attached to the customer, as a confirmed SetupIntent leaves it."""
        card = self._post(
            "payment_methods",
            {
                "type": "card",
                "card[number]": number,
                "card[exp_month]": 12,
                "card[exp_year]": 2034,
                "card[cvc]": "123",
            },
        )
        self._post(f"payment_methods/{card['id']}/attach", {"customer": customer_id})
        return card

    def give_card(self, customer_id, number="4242424242424242"):
        """Attach a card and make it the customer's default."""
        card = self.attach_card(customer_id, number)
        self._post(f"customers/{customer_id}", json={"invoice_settings": {"default_payment_method": card["id"]}})
        return card

    def get(self, path, **params):
        response = self.session.get(f"{self.url}/v1/{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()


class RecordedStripe(stripe.HTTPClient):
    """A Stripe HTTP client answering from recorded responses.

    ``responses`` maps ``(METHOD, path)`` to ``(status, body dict)`` or to a
    list of them (consumed in order; an exception instance is raised).
    Every request is kept in ``requests`` with its decoded parameters.
    """

    name = "recorded"

    def __init__(self, responses):
        super().__init__()
        self.responses = {key: list(value) if isinstance(value, list) else [value] for key, value in responses.items()}
        self.requests = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        params = dict(parse_qsl(post_data or parts.query, keep_blank_values=True))
        self.requests.append(
            {"method": method.upper(), "path": parts.path, "headers": dict(headers or {}), "params": params}
        )
        answers = self.responses.get((method.upper(), parts.path))
        if not answers:
            return json.dumps({"error": {"type": "invalid_request_error", "message": "Unrecorded"}}), 404, {}
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        return json.dumps(body), status, {"Request-Id": "req_recorded"}

    def close(self):
        pass


class VitaCase(TransactionCase):
    """Base class: the company's Stripe provider in test mode on localstripe."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stripe_url = localstripe_url()
        cls.localstripe = LocalStripe(cls.stripe_url)
        cls.env["ir.config_parameter"].sudo().set_param(PARAM_STRIPE_API_BASE, cls.stripe_url)
        cls.env["ir.config_parameter"].sudo().set_param(PARAM_STRIPE_JS_URL, f"{cls.stripe_url}/js.stripe.com/v3/")
        cls.provider = cls.env.ref("payment.payment_provider_stripe")
        cls.provider.write(
            {
                "state": "test",
                "stripe_secret_key": TEST_SECRET_KEY,
                "stripe_publishable_key": TEST_PUBLISHABLE_KEY,
                "company_id": cls.env.company.id,
            }
        )

    @contextmanager
    def recorded_stripe(self, responses):
        """Route the gateway's HTTP through recorded responses."""
        client = RecordedStripe(responses)
        with patch.object(StripeGateway, "http_client", client):
            yield client

    def gateway(self):
        return StripeGateway.for_company(self.env)

    def start_tour(self, url_path, tour_name, **kwargs):
        """Browser tours get a deadline that holds on a loaded 2-core
        machine (Odoo's default is 60 s for the whole tour); the steps that
        wait on the server say so themselves (SERVER_WAIT in the tours)."""
        kwargs.setdefault("timeout", 180)
        return super().start_tour(url_path, tour_name, **kwargs)


class SubscriptionCase(VitaCase):
    """A synced EUR catalogue, an EUR customer with a contact, and helpers
    to prepare and subscribe subscriptions against localstripe."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        run = uuid.uuid4().hex[:8]
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.localstripe.create_plan(f"plan_{run}_m", 2500, "eur", "month", product="Care", nickname="Monthly")
        cls.localstripe.create_plan(f"plan_{run}_y", 25000, "eur", "year", product="Care", nickname="Yearly")
        cls.localstripe.create_plan(f"plan_{run}_usd", 3000, "usd", "month", product="Care US")
        stripe_vat = cls.localstripe.create_tax_rate(f"VAT {run}", 20.0)
        cls.env["vita.stripe.plan"]._vita_sync_catalogue_from_stripe()
        Plan = cls.env["vita.stripe.plan"]
        cls.plan_monthly = Plan.search([("stripe_id", "=", f"plan_{run}_m")])
        cls.plan_yearly = Plan.search([("stripe_id", "=", f"plan_{run}_y")])
        cls.plan_usd = Plan.search([("stripe_id", "=", f"plan_{run}_usd")])
        cls.vat = cls.env["vita.stripe.tax.rate"].search([("stripe_id", "=", stripe_vat["id"])])
        cls.eur_pricelist = cls.env["product.pricelist"].create({"name": "EUR", "currency_id": cls.eur.id})
        cls.customer = cls.env["res.partner"].create(
            {"name": f"Customer {run}", "is_company": True, "email": f"billing-{run}@example.com"}
        )
        cls.customer.property_product_pricelist = cls.eur_pricelist
        cls.contact = cls.env["res.partner"].create(
            {"name": "Alice Contact", "parent_id": cls.customer.id, "email": f"alice-{run}@example.com"}
        )
        # One Stripe customer per test class, holding a card that pays.
        cls.stripe_customer_id = cls.customer._vita_stripe_customer(StripeGateway.for_company(cls.env))
        cls.card = cls.localstripe.give_card(cls.stripe_customer_id)

    def setUp(self):
        super().setUp()
        # The Stripe customer outlives each test's rollback: give it back the
        # class's working card in case a test made another card the default.
        self.localstripe._post(
            f"customers/{self.stripe_customer_id}",
            json={"invoice_settings": {"default_payment_method": self.card["id"]}},
        )

    def prepare(self, **values):
        vals = {"name": "Care for the team", "partner_id": self.customer.id, "plan_id": self.plan_monthly.id}
        vals.update(values)
        return self.env["vita.subscription"].create(vals)

    def subscribed(self, **values):
        subscription = self.prepare(**values)
        subscription._vita_stripe_subscribe()
        return subscription
