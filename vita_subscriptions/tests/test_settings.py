from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..const import HANDLED_EVENT_TYPES, PARAM_WEBHOOK_KEY, PARAM_WEBHOOK_SECRET
from ..stripe_gateway import API_VERSION
from .common import VitaCase

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
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param(PARAM_WEBHOOK_KEY), "GoodKey1234567890")

    def test_webhook_secret_format(self):
        with self.assertRaisesRegex(ValidationError, "whsec_"):
            self.settings(vita_webhook_secret="sk_test_oops")
        self.settings(vita_webhook_secret="whsec_abc123").execute()
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param(PARAM_WEBHOOK_SECRET), "whsec_abc123")

    def test_secret_readable_by_system_admins_only(self):
        settings = self.settings()
        self.assertEqual(settings._fields["vita_webhook_secret"].groups, "base.group_system")
        accountant = new_test_user(self.env, "vita_accountant", groups="account.group_account_manager")
        with self.assertRaises(AccessError):
            settings.with_user(accountant).read(["vita_webhook_secret"])

    def test_portal_toggle(self):
        self.settings(vita_portal_enabled=False).execute()
        self.assertFalse(self.settings().vita_portal_enabled)
        self.settings(vita_portal_enabled=True).execute()
        self.assertTrue(self.settings().vita_portal_enabled)

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
        self.assertEqual(sorted(sent_events), sorted(HANDLED_EVENT_TYPES))
        self.assertEqual(params["api_version"], API_VERSION)
        self.assertTrue(first["headers"]["Idempotency-Key"].startswith("vita-"))
        self.assertEqual(first["headers"]["Idempotency-Key"], second["headers"]["Idempotency-Key"])
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(params.get_param(PARAM_WEBHOOK_SECRET), "whsec_RecordedSecret123")

    def test_create_webhook_refused_by_stripe_keeps_secret(self):
        self.env["ir.config_parameter"].sudo().set_param(PARAM_WEBHOOK_SECRET, "whsec_before")
        refusal = (
            400,
            {"error": {"type": "invalid_request_error", "message": "Invalid URL: must be publicly accessible."}},
        )
        with self.recorded_stripe({("POST", "/v1/webhook_endpoints"): refusal}):
            with self.assertRaisesRegex(UserError, "publicly accessible"):
                self.settings().action_vita_create_webhook()
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param(PARAM_WEBHOOK_SECRET), "whsec_before")
