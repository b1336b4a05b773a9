import json

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import convert_file, mute_logger

from ..const import EVENT_HANDLERS, HANDLED_EVENT_TYPES
from ..stripe_gateway import API_VERSION
from .common import VitaCase
from .webhook_common import event

WEBHOOK_ENDPOINT = {
    "id": "we_1QvitaRecorded",
    "object": "webhook_endpoint",
    "api_version": API_VERSION,
    "application": None,
    "created": 1764000000,
    "description": "Odoo vita_subscriptions",
    "enabled_events": HANDLED_EVENT_TYPES,
    "livemode": False,
    "metadata": {},
    "secret": "whsec_RecordedSecret123",
    "status": "enabled",
    "url": "https://erp.example.com/vita_subscriptions/webhook/Key",
}


@tagged("post_install", "-at_install")
class TestSettings(VitaCase):
    def settings(self, **values):
        return self.env["res.config.settings"].create(values)

    def test_webhook_url_built_from_base_url_and_key(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://erp.example.com")
        settings = self.settings(vita_webhook_key="Abc123Abc123Abc123")
        self.assertEqual(
            settings.vita_webhook_url, "https://erp.example.com/vita_subscriptions/webhook/Abc123Abc123Abc123"
        )

    def test_webhook_key_letters_and_digits_only(self):
        for bad in ["with space 123456789", "dash-dash-dash-dash", "accentué12345678901", "short1", "a/b" * 8]:
            with self.subTest(key=bad), self.assertRaisesRegex(ValidationError, "only contain letters"):
                self.settings(vita_webhook_key=bad)
        self.settings(vita_webhook_key="GoodKey1234567890").execute()
        self.assertEqual(self.provider.vita_webhook_key, "GoodKey1234567890")

    def test_webhook_secret_format(self):
        with self.assertRaisesRegex(ValidationError, "whsec_"):
            self.settings(vita_webhook_secret="sk_test_oops")
        self.settings(vita_webhook_secret="whsec_abc123").execute()
        self.assertEqual(self.provider.vita_webhook_secret, "whsec_abc123")
        self.assertEqual(self.settings().vita_webhook_secret, "whsec_abc123")

    def test_secret_readable_by_system_admins_only(self):
        settings = self.settings()
        self.assertEqual(settings._fields["vita_webhook_secret"].groups, "base.group_system")
        accountant = new_test_user(self.env, "vita_accountant", groups="account.group_account_manager")
        with self.assertRaises(AccessError):
            settings.with_user(accountant).read(["vita_webhook_secret"])
        with self.assertRaises(AccessError):
            self.provider.with_user(accountant).read(["vita_webhook_secret"])
        self.assertNotIn("vita_webhook_secret", self.provider.with_user(accountant).fields_get())

    def test_settings_edit_the_current_company_provider(self):
        """Key and secret are the current company's Stripe provider's: the
        settings read them from it and write them back to it."""
        self.provider.write({"vita_webhook_key": "ProviderKey1234567", "vita_webhook_secret": "whsec_provider1"})
        settings = self.settings()
        self.assertEqual(settings.vita_stripe_provider_id, self.provider)
        self.assertEqual(settings.vita_webhook_key, "ProviderKey1234567")
        self.assertEqual(settings.vita_webhook_secret, "whsec_provider1")
        self.assertTrue(settings.vita_webhook_url.endswith("/vita_subscriptions/webhook/ProviderKey1234567"))
        self.settings(vita_webhook_key="ChangedKey12345678").execute()
        self.assertEqual(self.provider.vita_webhook_key, "ChangedKey12345678")
        self.assertEqual(self.provider.vita_webhook_secret, "whsec_provider1")

    def test_webhook_keys_unique_and_generated(self):
        other = self.provider.copy({"name": "Stripe (copy)", "state": "disabled"})
        self.assertRegex(other.vita_webhook_key, r"^[A-Za-z0-9]{32}$")
        self.assertNotEqual(other.vita_webhook_key, self.provider.vita_webhook_key)
        self.assertFalse(other.vita_webhook_secret)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            other.vita_webhook_key = self.provider.vita_webhook_key
            other.flush_recordset()

    def test_stripe_mode_is_said_once(self):
        """ "Mode: Test", not the provider's "Mode: Test Mode" ("Mode : Mode test")."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["vita_subscriptions"], ["fr_FR"])
        self.assertEqual(self.settings().vita_stripe_mode, "Test")
        self.assertEqual(self.settings().with_context(lang="fr_FR").vita_stripe_mode, "Test")
        self.provider.state = "enabled"
        self.assertEqual(self.settings().with_context(lang="fr_FR").vita_stripe_mode, "Production")

    def test_portal_toggle(self):
        self.settings(vita_portal_enabled=False).execute()
        self.assertFalse(self.settings().vita_portal_enabled)
        self.settings(vita_portal_enabled=True).execute()
        self.assertTrue(self.settings().vita_portal_enabled)

    def test_webhook_health_in_the_settings_form(self):
        """The form computes its values through onchange, as the web client does."""
        Event = self.env["vita.stripe.event"]
        spec = {"company_id": {}, "vita_webhook_last_event": {}, "vita_webhook_failed_count": {}}
        failed_before = self.env["res.config.settings"].onchange({}, [], spec)["value"]["vita_webhook_failed_count"]
        received = event("customer.created", {"id": "cus_health", "object": "customer"}, created=1764000000)
        Event._vita_receive(received, json.dumps(received))
        # An event Odoo cannot read is recorded failed (an unknown type is ignored, never failed).
        malformed = {**event("invoice.paid", {"id": "in_health", "object": "invoice"}), "data": "in_x"}
        failed = Event._vita_receive(malformed, json.dumps(malformed))
        self.assertEqual(failed.state, "failed")
        values = self.env["res.config.settings"].onchange({}, [], spec)["value"]
        self.assertEqual(fields.Datetime.to_datetime(values["vita_webhook_last_event"]), failed.create_date)
        self.assertEqual(values["vita_webhook_failed_count"], failed_before + 1)

    def test_portal_toggle_survives_module_update(self):
        """Off deletes the parameter; on creates it again; a module update
        (every data file loaded again) must not insert it a second time."""
        self.settings(vita_portal_enabled=False, vita_proration=False).execute()
        self.settings(vita_portal_enabled=True, vita_proration=True).execute()
        manifest = self.env["ir.module.module"].get_module_info("vita_subscriptions")
        for path in manifest["data"]:
            if path.startswith("data/"):
                convert_file(self.env, "vita_subscriptions", path, {}, mode="update")
        self.assertTrue(self.settings().vita_portal_enabled)
        self.assertTrue(self.settings().vita_proration)

    def test_create_webhook_in_stripe(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://erp.example.com")
        settings = self.settings(vita_webhook_key="Key1234567890Key")
        responses = {("POST", "/v1/webhook_endpoints"): (200, WEBHOOK_ENDPOINT)}
        with self.recorded_stripe(responses) as recorded:
            settings.action_vita_create_webhook()
            settings.action_vita_create_webhook()
        first, second = recorded.requests
        params = first["params"]
        self.assertEqual(params["url"], "https://erp.example.com/vita_subscriptions/webhook/Key1234567890Key")
        sent_events = [value for name, value in sorted(params.items()) if name.startswith("enabled_events[")]
        # Exactly the types a handler exists for: none Odoo would only ignore, none missing.
        Event = self.env["vita.stripe.event"]
        handled = {
            event_type for event_type, method in EVENT_HANDLERS.items() if callable(getattr(Event, method, None))
        }
        self.assertEqual(len(sent_events), len(set(sent_events)), "each type once")
        self.assertEqual(set(sent_events), handled)
        money_and_status = {
            "invoice.paid",
            "invoice.payment_failed",
            "customer.subscription.updated",
            "charge.refunded",
        }
        self.assertLessEqual(money_and_status, handled)
        self.assertEqual(params["api_version"], API_VERSION)
        self.assertTrue(first["headers"]["Idempotency-Key"].startswith("vita-"))
        self.assertEqual(first["headers"]["Idempotency-Key"], second["headers"]["Idempotency-Key"])
        self.assertEqual(self.provider.vita_webhook_secret, "whsec_RecordedSecret123")

    def test_create_webhook_refused_by_stripe_keeps_secret(self):
        self.provider.vita_webhook_secret = "whsec_before"
        refusal = (
            400,
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "url_invalid",
                    "message": "Invalid URL: must be publicly accessible.",
                }
            },
        )
        with self.recorded_stripe({("POST", "/v1/webhook_endpoints"): refusal}):
            with self.assertRaisesRegex(UserError, "HTTP 400, error code “url_invalid”: Invalid URL") as caught:
                self.settings().action_vita_create_webhook()
        self.assertIn("Stripe dashboard", str(caught.exception))
        self.assertEqual(self.provider.vita_webhook_secret, "whsec_before")

    def test_create_webhook_where_stripe_has_no_such_api(self):
        """A Stripe stand-in (or proxy) answering 404 without a Stripe error
        body: the message says what came back and what to do instead."""
        not_found = (404, "404: Not Found")
        with self.recorded_stripe({("POST", "/v1/webhook_endpoints"): not_found}):
            with self.assertRaises(UserError) as caught:
                self.settings().action_vita_create_webhook()
        message = str(caught.exception)
        self.assertIn("HTTP 404", message)
        self.assertIn("paste its signing secret", message)
        self.assertIn("invoice.payment_failed", message)
        self.assertNotIn("try again later", message)
        self.assertNotIn("sk_test", message)
