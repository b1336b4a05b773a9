import logging

import stripe

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..const import PARAM_STRIPE_API_BASE
from ..stripe_gateway import API_VERSION, MAX_NETWORK_RETRIES, StripeGateway
from .common import TEST_SECRET_KEY, VitaCase

RATE_LIMITED = (429, {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many"}})
EMPTY_LIST = (200, {"object": "list", "data": [], "has_more": False, "url": "/v1/plans"})


@tagged("post_install", "-at_install")
class TestGateway(VitaCase):
    def assert_plain_error(self, expected_fragment):
        """The sync fails with our message; neither it nor the log shows the key."""
        with self.assertLogs("odoo.addons.vita_subscriptions", level=logging.WARNING) as logs:
            with self.assertRaises(UserError) as caught:
                self.env["vita.stripe.plan"]._vita_sync_catalogue_from_stripe()
        message = str(caught.exception)
        self.assertIn(expected_fragment, message)
        for text in [message, *logs.output]:
            self.assertNotIn(TEST_SECRET_KEY[8:], text)
            self.assertNotIn("sk_", text)
        return message

    def test_client_uses_provider_key_pinned_version_retries_and_api_base(self):
        gateway = self.gateway()
        self.assertEqual(gateway.mode, "test")
        options = gateway.client._requestor._options
        self.assertEqual(options.api_key, TEST_SECRET_KEY)
        self.assertEqual(options.stripe_version, API_VERSION)
        self.assertEqual(options.base_addresses["api"], self.stripe_url)
        self.assertGreaterEqual(MAX_NETWORK_RETRIES, 1)
        self.assertEqual(options.max_network_retries, MAX_NETWORK_RETRIES)

    def test_live_mode_when_provider_enabled(self):
        self.provider.state = "enabled"
        self.assertEqual(self.gateway().mode, "live")

    def test_disabled_provider_is_a_clear_error(self):
        self.provider.state = "disabled"
        with self.assertRaisesRegex(UserError, "Stripe payment provider .* is not enabled"):
            self.gateway()

    def test_missing_key_is_a_clear_error(self):
        # The provider form refuses an empty key in test mode; a neutralized
        # database has one all the same.
        self.env.cr.execute("UPDATE payment_provider SET stripe_secret_key = NULL WHERE id = %s", [self.provider.id])
        self.provider.invalidate_recordset()
        with self.assertRaisesRegex(UserError, "secret key"):
            self.gateway()

    def test_bad_key_against_localstripe(self):
        # localstripe refuses any key that is not sk_… of more than 5 characters.
        self.provider.stripe_secret_key = "bad"
        message = self.assert_plain_error("Stripe refused the API key")
        self.assertNotIn("bad", message.replace("Stripe refused", ""))

    def test_unreachable_api_base(self):
        self.env["ir.config_parameter"].sudo().set_param(PARAM_STRIPE_API_BASE, "http://127.0.0.1:9")
        self.patch(StripeGateway, "http_client", stripe.RequestsClient(timeout=2))
        self.patch(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
        self.assert_plain_error("Stripe could not be reached")

    def test_rate_limited(self):
        with self.recorded_stripe({("GET", "/v1/plans"): RATE_LIMITED}):
            self.assert_plain_error("too many requests")

    def test_network_error_is_retried(self):
        responses = {
            ("GET", "/v1/plans"): [stripe.APIConnectionError("reset", should_retry=True), EMPTY_LIST],
            ("GET", "/v1/tax_rates"): EMPTY_LIST,
        }
        with self.recorded_stripe(responses) as recorded:
            self.patch(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
            self.env["vita.stripe.plan"]._vita_sync_catalogue_from_stripe()
        paths = [r["path"] for r in recorded.requests]
        self.assertEqual(paths, ["/v1/plans", "/v1/plans", "/v1/tax_rates"])
        headers = recorded.requests[0]["headers"]
        self.assertEqual(headers["Stripe-Version"], API_VERSION)

    def test_idempotency_key_is_stable_and_specific(self):
        gateway = self.gateway()
        partner_a, partner_b = self.env["res.partner"].create([{"name": "A"}, {"name": "B"}])
        key = gateway.idempotency_key(partner_a, "customer")
        self.assertEqual(key, gateway.idempotency_key(partner_a, "customer"))
        self.assertEqual(key, self.gateway().idempotency_key(partner_a.with_context(x=1), "customer"))
        self.assertNotEqual(key, gateway.idempotency_key(partner_b, "customer"))
        self.assertNotEqual(key, gateway.idempotency_key(partner_a, "subscription"))
        self.assertNotEqual(
            gateway.idempotency_key(partner_a, "webhook", "http://a"),
            gateway.idempotency_key(partner_a, "webhook", "http://b"),
        )
        self.assertIn(self.env["ir.config_parameter"].sudo().get_param("database.uuid"), key)
        self.assertIn(str(partner_a.id), key)
        self.assertLessEqual(len(gateway.idempotency_key(partner_a, "webhook", "x" * 500)), 255)

    def test_first_payment_maps_every_stripe_error(self):
        """A Stripe error on the first read of the invoice (not only an older
        API's InvalidRequestError) reaches the user as our message."""
        with self.recorded_stripe({("GET", "/v1/invoices/in_first"): RATE_LIMITED}):
            self.patch(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
            with self.assertRaisesRegex(UserError, "too many requests"):
                self.gateway().first_payment("in_first")
