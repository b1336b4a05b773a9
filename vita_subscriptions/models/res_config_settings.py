from odoo import api, fields, models
from odoo.exceptions import UserError

from ..const import HANDLED_EVENT_TYPES, PARAM_PORTAL_ENABLED, PARAM_PRORATION, WEBHOOK_ROUTE
from ..stripe_gateway import StripeGateway


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # The webhook of the current company's Stripe account (its provider).
    vita_stripe_provider_id = fields.Many2one(
        "payment.provider", "Stripe payment provider", compute="_compute_vita_stripe_provider_id"
    )
    vita_webhook_key = fields.Char(related="vita_stripe_provider_id.vita_webhook_key", readonly=False)
    vita_webhook_url = fields.Char("Webhook URL", compute="_compute_vita_webhook_url")
    vita_webhook_secret = fields.Char(
        related="vita_stripe_provider_id.vita_webhook_secret", readonly=False, groups="base.group_system"
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
    vita_invoice_booking = fields.Selection(related="company_id.vita_invoice_booking", readonly=False)
    vita_invoice_email = fields.Boolean(related="company_id.vita_invoice_email", readonly=False)
    vita_bad_debt_account_id = fields.Many2one(related="company_id.vita_bad_debt_account_id", readonly=False)
    vita_stripe_mode = fields.Char("Stripe mode", compute="_compute_vita_stripe_mode")
    vita_webhook_last_event = fields.Datetime("Last event received", compute="_compute_vita_webhook_health")
    vita_webhook_failed_count = fields.Integer("Failed events", compute="_compute_vita_webhook_health")

    @api.depends("company_id")
    def _compute_vita_stripe_provider_id(self):
        for settings in self:
            settings.vita_stripe_provider_id = StripeGateway.find_provider(self.env, settings.company_id)

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
            # Our words, not the provider's state labels ("Mode: Test Mode").
            labels = {"test": self.env._("Test"), "enabled": self.env._("Live"), "disabled": self.env._("Disabled")}
            settings.vita_stripe_mode = labels.get(provider.state) if provider else self.env._("Not configured")

    @api.depends("company_id")  # without a dependency the settings form never computes it
    def _compute_vita_webhook_health(self):
        Event = self.env["vita.stripe.event"].sudo()
        for settings in self:
            # The company's Stripe account, and events recorded before
            # webhooks were per provider (they name none).
            domain = [("provider_id", "in", [settings.vita_stripe_provider_id.id, False])]
            settings.vita_webhook_last_event = Event.search(domain, order="id desc", limit=1).create_date
            settings.vita_webhook_failed_count = Event.search_count([*domain, ("state", "=", "failed")])

    def action_vita_sync_catalogue(self):
        return self.env["vita.stripe.plan"].action_sync_from_stripe()

    def action_vita_view_failed_events(self):
        return self.env["ir.actions.act_window"]._for_xml_id("vita_subscriptions.vita_stripe_event_action_failed")

    def action_vita_reconcile(self):
        """Reconcile every subscription of the company with Stripe now."""
        self.ensure_one()
        self.check_access("write")  # administrators: it writes every subscription in sudo
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
        """Register the webhook URL of the current company's Stripe
        provider in its Stripe account and keep the signing secret."""
        self.ensure_one()
        self.check_access("write")  # administrators, before Stripe is called
        self.execute()  # Save a changed webhook key first: the URL depends on it.
        provider = StripeGateway.provider_of(self.env, self.company_id)
        if not provider.vita_webhook_key:
            raise UserError(self.env._("Set a webhook key first: it is the secret part of the webhook URL."))
        url = provider._vita_webhook_url()
        if not url.startswith(("http://", "https://")):
            raise UserError(self.env._("Set the web base URL (Settings > Technical > System parameters) first."))
        gateway = StripeGateway(provider)
        endpoint = gateway.create_webhook_endpoint(
            url,
            HANDLED_EVENT_TYPES,
            gateway.idempotency_key(provider, "webhook-endpoint", url, *HANDLED_EVENT_TYPES),
        )
        provider.vita_webhook_secret = endpoint.secret
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
