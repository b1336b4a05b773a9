"""One Stripe account per company: the webhook of each Stripe payment
provider (its URL key and signing secret) lives on the provider, as
payment_stripe keeps its own webhook secret there."""

import logging
import re
import secrets
import string

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import SQL, consteq

from ..const import PARAM_WEBHOOK_KEY, PARAM_WEBHOOK_SECRET, WEBHOOK_ROUTE
from ..stripe_gateway import WebhookRejected, verify_webhook

_logger = logging.getLogger(__name__)

WEBHOOK_KEY_ALPHABET = string.ascii_letters + string.digits
WEBHOOK_KEY_PATTERN = re.compile(r"[A-Za-z0-9]{16,128}")
WEBHOOK_SECRET_PATTERN = re.compile(r"whsec_[A-Za-z0-9]+")


def generate_webhook_key(length=32):
    return "".join(secrets.choice(WEBHOOK_KEY_ALPHABET) for _ in range(length))


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    vita_webhook_key = fields.Char(
        "Webhook key",
        copy=False,
        help="Secret part of the webhook URL: 16 to 128 letters and digits. Empty switches webhooks off.",
    )
    vita_webhook_secret = fields.Char(
        "Webhook signing secret",
        copy=False,
        groups="base.group_system",
        help="The whsec_… secret Stripe signs this account's webhook events with.",
    )
    vita_stripe_api_base = fields.Char(
        "Stripe API address",
        groups="base.group_system",
        help="Technical: another address for Stripe's API (a Stripe emulator); "
        "empty uses the database-wide parameter, or Stripe itself.",
    )

    _sql_constraints = [
        ("vita_webhook_key_unique", "UNIQUE(vita_webhook_key)", "Each payment provider has its own webhook key."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        # Not a field default: Odoo would give every existing row the same one.
        for vals in vals_list:
            vals.setdefault("vita_webhook_key", generate_webhook_key())
        providers = super().create(vals_list)
        self.env.registry.clear_cache()  # _vita_webhook_accounts
        return providers

    def write(self, vals):
        result = super().write(vals)
        if {"code", "vita_webhook_key", "vita_webhook_secret"} & vals.keys():
            self.env.registry.clear_cache()  # _vita_webhook_accounts, in every worker
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    @api.constrains("vita_webhook_key")
    def _check_vita_webhook_key(self):
        for provider in self:
            # Empty is allowed: it switches the endpoint off (neutralized databases).
            if provider.vita_webhook_key and not WEBHOOK_KEY_PATTERN.fullmatch(provider.vita_webhook_key):
                raise ValidationError(
                    self.env._(
                        "The webhook key may only contain letters (a-z, A-Z) and digits (0-9), "
                        "16 to 128 of them; spaces, dashes and other characters are refused."
                    )
                )

    @api.constrains("vita_webhook_secret")
    def _check_vita_webhook_secret(self):
        for provider in self.sudo():
            secret = provider.vita_webhook_secret
            if secret and not WEBHOOK_SECRET_PATTERN.fullmatch(secret):
                raise ValidationError(
                    self.env._("The webhook signing secret starts with “whsec_” followed by letters and digits.")
                )

    # ------------------------------------------------------------------
    # Webhook
    # ------------------------------------------------------------------

    def _vita_webhook_url(self):
        self.ensure_one()
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        return f"{base_url}{WEBHOOK_ROUTE}/{self.vita_webhook_key or ''}"

    @api.model
    def _vita_find_by_webhook_key(self, key):
        """The Stripe provider (sudo) whose webhook key is ``key``, or an
        empty recordset. Keys are compared in constant time, each of them:
        the answer's timing tells nothing of how close a guess was."""
        found = self.browse()
        if not key:
            return found
        for provider_key, provider_id, _secret in self._vita_webhook_accounts():
            if consteq(key, provider_key) and not found:
                found = self.sudo().browse(provider_id)
        return found

    @api.model
    @tools.ormcache()
    def _vita_webhook_accounts(self):
        """(webhook key, provider id, signing secret) of each Stripe provider
        with a key: read once per worker, not once per delivery (cleared
        in every worker when a key or secret changes)."""
        self.env.cr.execute(
            SQL(
                "SELECT vita_webhook_key, id, vita_webhook_secret FROM payment_provider"
                " WHERE code = 'stripe' AND vita_webhook_key IS NOT NULL ORDER BY id"
            )
        )
        return tuple(self.env.cr.fetchall())

    def _vita_webhook_signing_secret(self):
        self.ensure_one()
        return next((secret for _key, id_, secret in self._vita_webhook_accounts() if id_ == self.id), None)

    def _vita_verify_webhook(self, payload, signature):
        """The event (a dict) of a request body signed with this provider's
        secret, or None when the signature (or the body) does not hold."""
        self.ensure_one()
        try:
            return verify_webhook(payload, signature, self._vita_webhook_signing_secret())
        except WebhookRejected as error:
            _logger.warning("Stripe webhook refused (provider %s): %s", self.id, error)
            return None

    @api.model
    def _vita_ensure_webhook_keys(self):
        """Every Stripe provider gets a webhook key (install, upgrade)."""
        providers = (
            self.sudo()
            .with_context(active_test=False)
            .search([("code", "=", "stripe"), ("vita_webhook_key", "=", False)])
        )
        for provider in providers:
            provider.vita_webhook_key = generate_webhook_key()

    @api.model
    def _vita_adopt_webhook_params(self):
        """Upgrade from the database-wide parameters (18.0.1.1.x): their key
        and secret move onto the Stripe provider of the main company, other
        Stripe providers get a key of their own, and the parameters go."""
        params = self.env["ir.config_parameter"].sudo()
        key = params.get_param(PARAM_WEBHOOK_KEY)
        secret = params.get_param(PARAM_WEBHOOK_SECRET)
        main_company = self.env.ref("base.main_company", raise_if_not_found=False) or self.env["res.company"].search(
            [], order="id", limit=1
        )
        provider = (
            self.sudo()
            .with_context(active_test=False)
            .search([("code", "=", "stripe"), ("company_id", "=", main_company.id)], order="state desc, id", limit=1)
        )
        if provider:
            vals = {}
            if key and WEBHOOK_KEY_PATTERN.fullmatch(key):
                vals["vita_webhook_key"] = key
            if secret and WEBHOOK_SECRET_PATTERN.fullmatch(secret):
                vals["vita_webhook_secret"] = secret
            provider.write(vals)
        params.search([("key", "in", (PARAM_WEBHOOK_KEY, PARAM_WEBHOOK_SECRET))]).unlink()
        self._vita_ensure_webhook_keys()
