import pathlib
import re

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import TranslationModuleReader

from .. import generate_webhook_key, post_init_hook
from ..const import PARAM_PORTAL_ENABLED, PARAM_WEBHOOK_KEY, PARAM_WEBHOOK_SECRET


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_installed_with_webhook_key_and_portal_on(self):
        module = self.env["ir.module.module"].search([("name", "=", "vita_subscriptions")])
        self.assertEqual(module.state, "installed")
        params = self.env["ir.config_parameter"].sudo()
        self.assertRegex(self.stripe_provider().vita_webhook_key, r"^[A-Za-z0-9]{32}$")
        self.assertFalse(params.get_param(PARAM_WEBHOOK_KEY), "keys live on the Stripe providers")
        self.assertEqual(params.get_param(PARAM_PORTAL_ENABLED), "True")

    def stripe_provider(self):
        return self.env.ref("payment.payment_provider_stripe")

    def test_post_init_hook_keeps_an_existing_key(self):
        provider = self.stripe_provider()
        provider.vita_webhook_key = "KeepMe1234567890"
        post_init_hook(self.env)
        self.assertEqual(provider.vita_webhook_key, "KeepMe1234567890")
        provider.vita_webhook_key = False
        post_init_hook(self.env)
        self.assertRegex(provider.vita_webhook_key, r"^[A-Za-z0-9]{32}$")

    def test_generated_keys_differ(self):
        self.assertEqual(len({generate_webhook_key() for _ in range(50)}), 50)

    def test_neutralize_blanks_webhook_secrets(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(PARAM_WEBHOOK_SECRET, "whsec_secret")  # as left by 18.0.1.1
        provider = self.stripe_provider()
        provider.vita_webhook_secret = "whsec_secret"
        other = provider.copy({"name": "Stripe (other)", "state": "disabled", "vita_webhook_secret": "whsec_other"})
        self.env.flush_all()
        path = file_path("vita_subscriptions/data/neutralize.sql")
        with open(path) as sql:
            self.env.cr.execute(sql.read())
        self.env.invalidate_all()
        self.assertFalse(params.get_param(PARAM_WEBHOOK_SECRET))
        self.assertFalse(params.get_param(PARAM_WEBHOOK_KEY))
        for record in provider | other:
            self.assertFalse(record.vita_webhook_key)
            self.assertFalse(record.vita_webhook_secret)

    def test_manifest(self):
        manifest = self.env["ir.module.module"].get_module_info("vita_subscriptions")
        self.assertRegex(manifest["version"], r"^18\.0\.\d+\.\d+\.\d+$")
        self.assertEqual(manifest["external_dependencies"], {"python": ["stripe"]})
        self.assertTrue({"account", "portal", "mail", "payment_stripe"} <= set(manifest["depends"]))

    def test_french_translation_is_complete(self):
        """Every term the addon exports has a French translation (run
        `make i18n` after changing strings, then translate fr.po)."""
        reader = TranslationModuleReader(self.env.cr, modules=["vita_subscriptions"])
        sources = {
            source
            for module, _type, _name, _res_id, source, _value, _comments in reader
            if module == "vita_subscriptions"
        }
        self.assertGreater(len(sources), 100)
        po = polib.pofile(file_path("vita_subscriptions/i18n/fr.po"))
        translated = {entry.msgid for entry in po.translated_entries() if not entry.obsolete}
        missing = sorted(sources - translated)
        self.assertFalse(missing, f"{len(missing)} terms without French translation, e.g. {missing[:5]}")

    def test_only_the_gateway_imports_stripe(self):
        root = pathlib.Path(file_path("vita_subscriptions/__init__.py")).parent
        importers = {
            str(path.relative_to(root))
            for path in root.rglob("*.py")
            if "tests" not in path.parts and re.search(r"^\s*(import|from)\s+stripe\b", path.read_text(), re.M)
        }
        self.assertEqual(importers, {"stripe_gateway.py"})
