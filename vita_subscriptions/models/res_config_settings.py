import re

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..const import (
    HANDLED_EVENT_TYPES,
    PARAM_PORTAL_ENABLED,
    PARAM_PRORATION,
    PARAM_WEBHOOK_KEY,
    PARAM_WEBHOOK_SECRET,
    WEBHOOK_ROUTE,
)
from ..stripe_gateway import StripeGateway

WEBHOOK_KEY_PATTERN = re.compile(r"[A-Za-z0-9]{16,128}")


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    vita_webhook_key = fields.Char(
        "Webhook key",
        config_parameter=PARAM_WEBHOOK_KEY,
        help="Secret part of the webhook URL: 16 to 128 letters and digits. Empty switches webhooks off.",
    )
    vita_webhook_url = fields.Char("Webhook URL", compute="_compute_vita_webhook_url")
    vita_webhook_secret = fields.Char(
        "Webhook signing secret",
        config_parameter=PARAM_WEBHOOK_SECRET,
        groups="base.group_system",
        help="The whsec_… secret Stripe signs webhook events with.",
    )
    vita_portal_enabled = fields.Boolean(
        "Show subscriptions in the customer portal",
        config_parameter=PARAM_PORTAL_ENABLED,
    )
    vita_proration = fields.Boolean(
        "Prorate plan and quantity changes",
        config_parameter=PARAM_PRORATION,
        help="Stripe credits the unused time and charges the new price for the rest of the period.",
    )
    vita_terms = fields.Html(related="company_id.vita_terms", readonly=False)
    vita_journal_id = fields.Many2one(related="company_id.vita_journal_id", readonly=False)
    vita_stripe_mode = fields.Char("Stripe mode", compute="_compute_vita_stripe_mode")
    vita_webhook_last_event = fields.Datetime("Last event received", compute="_compute_vita_webhook_health")
    vita_webhook_failed_count = fields.Integer("Failed events", compute="_compute_vita_webhook_health")

    @api.depends("vita_webhook_key")
    def _compute_vita_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for settings in self:
            key = settings.vita_webhook_key or ""
            settings.vita_webhook_url = f"{base_url}{WEBHOOK_ROUTE}/{key}"

    @api.depends("company_id")
    def _compute_vita_stripe_mode(self):
        for settings in self:
            provider = StripeGateway.find_provider(self.env, settings.company_id)
            settings.vita_stripe_mode = (
                dict(provider._fields["state"]._description_selection(self.env)).get(provider.state)
                if provider
                else self.env._("Not configured")
            )

    @api.depends("company_id")  # without a dependency the settings form never computes it
    def _compute_vita_webhook_health(self):
        Event = self.env["vita.stripe.event"].sudo()
        last = Event.search([], order="id desc", limit=1)
        failed = Event.search_count([("state", "=", "failed")])
        for settings in self:
            settings.vita_webhook_last_event = last.create_date
            settings.vita_webhook_failed_count = failed

    @api.constrains("vita_webhook_key")
    def _check_vita_webhook_key(self):
        for settings in self:
            # Empty is allowed: it switches the endpoint off (neutralized databases).
            if settings.vita_webhook_key and not WEBHOOK_KEY_PATTERN.fullmatch(settings.vita_webhook_key):
                raise ValidationError(
                    self.env._(
                        "The webhook key may only contain letters (a-z, A-Z) and digits (0-9), "
                        "16 to 128 of them; spaces, dashes and other characters are refused."
                    )
                )

    @api.constrains("vita_webhook_secret")
    def _check_vita_webhook_secret(self):
        for settings in self.sudo():
            secret = settings.vita_webhook_secret
            if secret and not re.fullmatch(r"whsec_[A-Za-z0-9]+", secret):
                raise ValidationError(
                    self.env._("The webhook signing secret starts with “whsec_” followed by letters and digits.")
                )

    def action_vita_sync_catalogue(self):
        return self.env["vita.stripe.plan"].action_sync_from_stripe()

    def action_vita_view_failed_events(self):
        return self.env["ir.actions.act_window"]._for_xml_id("vita_subscriptions.vita_stripe_event_action_failed")

    def action_vita_reconcile(self):
        """Reconcile every subscription of the company with Stripe now."""
        self.ensure_one()
        counts = self.env["vita.subscription"]._vita_reconcile_company(
            StripeGateway.for_company(self.env, self.company_id)
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._(
                    "%(known)s subscriptions reconciled with Stripe, %(failed)s failed (see their chatter).",
                    known=counts["known"],
                    failed=counts["failed"],
                ),
                "type": "warning" if counts["failed"] else "success",
            },
        }

    def action_vita_create_webhook(self):
        """Register our webhook URL in Stripe and keep the signing secret."""
        self.ensure_one()
        self.execute()  # Save a changed webhook key first: the URL depends on it.
        url = self.vita_webhook_url
        if not url.startswith(("http://", "https://")):
            raise UserError(self.env._("Set the web base URL (Settings > Technical > System parameters) first."))
        gateway = StripeGateway.for_company(self.env, self.company_id)
        endpoint = gateway.create_webhook_endpoint(
            url,
            HANDLED_EVENT_TYPES,
            gateway.idempotency_key(self.company_id, "webhook-endpoint", url, *HANDLED_EVENT_TYPES),
        )
        self.env["ir.config_parameter"].sudo().set_param(PARAM_WEBHOOK_SECRET, endpoint.secret)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._("Webhook created in Stripe; its signing secret is saved."),
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # Kept last: the event log's retention (models/vita_stripe_event.py).
    vita_event_retention_days = fields.Integer(
        "Keep event payloads (days)",
        config_parameter="vita_subscriptions.event_retention_days",
        default=90,
        help="Handled Stripe events lose their payload after this many days (their id, type and dates stay, "
        "so a redelivery is still recognised); failed events keep theirs. 0 keeps every payload.",
    )
