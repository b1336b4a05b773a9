"""Constants shared by the addon: Stripe event types, parameter names."""

PARAM_WEBHOOK_KEY = "vita_subscriptions.webhook_key"
PARAM_WEBHOOK_SECRET = "vita_subscriptions.webhook_secret"  # noqa: S105 - a parameter name
PARAM_WEBHOOK_ENDPOINT_ID = "vita_subscriptions.webhook_endpoint_id"
PARAM_PORTAL_ENABLED = "vita_subscriptions.portal_enabled"
PARAM_STRIPE_API_BASE = "vita_subscriptions.stripe_api_base"
PARAM_STRIPE_JS_URL = "vita_subscriptions.stripe_js_url"

WEBHOOK_ROUTE = "/vita_subscriptions/webhook"

# The event types the webhook endpoint handles: "Create webhook in Stripe"
# subscribes exactly these.
HANDLED_EVENT_TYPES = [
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "invoice.payment_action_required",
    "setup_intent.succeeded",
    "payment_method.automatically_updated",
]

# Stripe intervals, as Odoo selections.
PLAN_INTERVALS = [
    ("day", "Day"),
    ("week", "Week"),
    ("month", "Month"),
    ("year", "Year"),
]

MODES = [("test", "Test"), ("live", "Live")]
