"""Constants shared by the addon: Stripe event types, parameter names."""

PARAM_WEBHOOK_KEY = "vita_subscriptions.webhook_key"
PARAM_WEBHOOK_SECRET = "vita_subscriptions.webhook_secret"  # noqa: S105 - a parameter name
PARAM_PORTAL_ENABLED = "vita_subscriptions.portal_enabled"
PARAM_STRIPE_API_BASE = "vita_subscriptions.stripe_api_base"
PARAM_STRIPE_JS_URL = "vita_subscriptions.stripe_js_url"
PARAM_PRORATION = "vita_subscriptions.proration"

WEBHOOK_ROUTE = "/vita_subscriptions/webhook"

# The one table from Stripe event type to handler (a method of
# vita.stripe.event taking the event's ``data.object`` and returning the
# final state). "Create webhook in Stripe" subscribes exactly these types.
EVENT_HANDLERS = {
    "customer.subscription.created": "_handle_subscription",
    "customer.subscription.updated": "_handle_subscription",
    "customer.subscription.deleted": "_handle_subscription",
    "invoice.paid": "_handle_invoice_paid",
    "invoice.payment_succeeded": "_handle_invoice_paid",
    "invoice.payment_failed": "_handle_invoice_payment_failed",
    "invoice.payment_action_required": "_handle_invoice_action_required",
    # The invoice of record (issue 22): vita_stripe_event_invoice.py.
    "invoice.finalized": "_handle_invoice_finalized",
    "invoice_payment.paid": "_handle_invoice_payment_paid",
    "invoice.voided": "_handle_invoice_voided",
    "invoice.marked_uncollectible": "_handle_invoice_marked_uncollectible",
    "credit_note.created": "_handle_credit_note",
    "refund.created": "_handle_refund",
    "charge.refunded": "_handle_charge_refunded",
    "charge.dispute.created": "_handle_dispute_created",
    "charge.dispute.closed": "_handle_dispute_closed",
    "setup_intent.succeeded": "_handle_nothing_to_do",
    # Renewals at risk (issue 11): the card's expiry kept on subscriptions.
    "payment_method.automatically_updated": "_handle_payment_method_card",
    "payment_method.updated": "_handle_payment_method_card",
}
HANDLED_EVENT_TYPES = list(EVENT_HANDLERS)

# Stripe's own currency table: the exponent of API amounts is not always
# the currency's (nor Odoo's) number of decimals.
# https://docs.stripe.com/currencies#zero-decimal
STRIPE_ZERO_DECIMAL_CURRENCIES = frozenset(
    ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]
)
# https://docs.stripe.com/currencies#three-decimal (charged amounts end in 0)
STRIPE_THREE_DECIMAL_CURRENCIES = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
# https://docs.stripe.com/currencies#special-cases: two decimals in the API,
# but charges must be whole units (ISK since 2023-04-14). HUF and TWD are
# charged with two decimals (only their payouts are whole units).
STRIPE_WHOLE_UNIT_CHARGE_CURRENCIES = frozenset({"ISK"})

# Stripe intervals, as Odoo selections.
PLAN_INTERVALS = [
    ("day", "Day"),
    ("week", "Week"),
    ("month", "Month"),
    ("year", "Year"),
]

MODES = [("test", "Test"), ("live", "Live")]

STATE_SELECTION = [
    ("not_subscribed", "Not subscribed"),
    ("future", "Future"),
    ("active", "Active"),
    ("past_due", "Past due"),
    ("unpaid", "Unpaid"),
    ("incomplete", "Incomplete"),
    ("incomplete_expired", "Incomplete expired"),
    ("canceled", "Cancelled"),
]

# The one table from Stripe subscription status to Odoo state:
# status -> (state while the first billing date is ahead, state after it).
# https://docs.stripe.com/api/subscriptions/object#subscription_object-status
# A future first billing date is a trial (trial_end) or a billing cycle
# anchor without proration (Stripe says "active", nothing charged yet).
# Statuses missing here ("paused", new ones) keep the current state and are
# flagged for the responsible user.
STRIPE_STATUS_STATES = {
    "trialing": ("future", "active"),
    "active": ("future", "active"),
    "past_due": ("past_due", "past_due"),
    "unpaid": ("unpaid", "unpaid"),
    "incomplete": ("incomplete", "incomplete"),
    "incomplete_expired": ("incomplete_expired", "incomplete_expired"),
    "canceled": ("canceled", "canceled"),
}


# Every status Stripe documents for a subscription, as users read it (the
# import wizard lists Stripe subscriptions before Odoo has a state for them).
# https://docs.stripe.com/api/subscriptions/object#subscription_object-status
STRIPE_SUBSCRIPTION_STATUSES = [
    ("incomplete", "Incomplete (first payment pending)"),
    ("incomplete_expired", "Expired before the first payment"),
    ("trialing", "Trial"),
    ("active", "Active"),
    ("past_due", "Past due"),
    ("canceled", "Cancelled"),
    ("unpaid", "Unpaid"),
    ("paused", "Paused (trial ended without a card)"),
]


def state_from_stripe(status, first_billing_ahead):
    """Odoo state for a Stripe status, or None when the status is unknown."""
    states = STRIPE_STATUS_STATES.get(status)
    if states is None:
        return None
    return states[0] if first_billing_ahead else states[1]


# Revenue (issue 11): states whose subscription brings no recurring revenue.
# past_due and unpaid still count (at risk, not lost) until Stripe cancels.
MRR_ZERO_STATES = ("not_subscribed", "incomplete", "incomplete_expired", "canceled")

# How one plan interval becomes a month: months per interval.
MONTHS_PER_INTERVAL = {"day": 12 / 365, "week": 12 / 52, "month": 1, "year": 12}

MRR_MOVEMENTS = [
    ("new", "New"),
    ("expansion", "Expansion"),
    ("contraction", "Contraction"),
    ("churn", "Churn"),
    ("reactivation", "Reactivation"),
    ("fx", "Exchange-rate effect"),
]

# Stripe's cancellation feedback codes.
# https://docs.stripe.com/api/subscriptions/cancel#cancel_subscription-cancellation_details-feedback
STRIPE_CANCELLATION_FEEDBACK = [
    ("customer_service", "Customer service was less than expected"),
    ("low_quality", "Quality was less than expected"),
    ("missing_features", "Some features are missing"),
    ("other", "Other reason"),
    ("switched_service", "Switched to a different service"),
    ("too_complex", "Ease of use was less than expected"),
    ("too_expensive", "It's too expensive"),
    ("unused", "Not using the service enough"),
]
