"""Shared test set-up: a Stripe provider pointed at localstripe, helpers to
put objects into localstripe, and a recording Stripe HTTP client for what
localstripe cannot model."""

import json
import os
from contextlib import contextmanager
from unittest.mock import patch
from urllib.parse import parse_qsl, urlsplit

import requests
import stripe

from odoo.tests import TransactionCase

from ..const import PARAM_STRIPE_API_BASE
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
