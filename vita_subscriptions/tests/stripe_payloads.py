"""Stripe objects shaped like the current API reference (2025+ versions:
billing periods live on subscription items), for what localstripe cannot
model. https://docs.stripe.com/api/subscriptions/object"""

import time

DAY = 86400


def customer(customer_id="cus_Recorded1", **extra):
    return {
        "id": customer_id,
        "object": "customer",
        "created": int(time.time()),
        "email": None,
        "invoice_settings": {"default_payment_method": None, "custom_fields": None, "footer": None},
        "livemode": False,
        "metadata": {},
        "name": "Recorded customer",
        **extra,
    }


def subscription_item(plan_id, *, quantity=1, period_start=None, period_end=None, item_id="si_Recorded1", tax_rates=()):
    period_start = period_start or int(time.time())
    period_end = period_end or period_start + 30 * DAY
    plan = {
        "id": plan_id,
        "object": "plan",
        "active": True,
        "amount": 2500,
        "billing_scheme": "per_unit",
        "currency": "eur",
        "interval": "month",
        "interval_count": 1,
        "usage_type": "licensed",
    }
    return {
        "id": item_id,
        "object": "subscription_item",
        "created": period_start,
        "current_period_start": period_start,
        "current_period_end": period_end,
        "metadata": {},
        "plan": plan,
        "price": {**plan, "object": "price", "type": "recurring", "unit_amount": 2500},
        "quantity": quantity,
        "subscription": "sub_Recorded1",
        "tax_rates": [{"id": rate, "object": "tax_rate"} for rate in tax_rates],
    }


def subscription(
    *,
    status="active",
    items=None,
    subscription_id="sub_Recorded1",
    customer_id="cus_Recorded1",
    billing_cycle_anchor=None,
    trial_end=None,
    cancel_at_period_end=False,
    **extra,
):
    now = int(time.time())
    items = items if items is not None else [subscription_item("plan_recorded")]
    return {
        "id": subscription_id,
        "object": "subscription",
        "billing_cycle_anchor": billing_cycle_anchor or now,
        "cancel_at": None,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": "eur",
        "customer": customer_id,
        "default_payment_method": None,
        "ended_at": None,
        "items": {
            "object": "list",
            "data": items,
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "latest_invoice": "in_Recorded1",
        "livemode": False,
        "metadata": {},
        "start_date": now,
        "status": status,
        "trial_end": trial_end,
        "trial_start": now if trial_end else None,
        **extra,
    }


def error(http_status, message, error_type="invalid_request_error", code=None):
    return (http_status, {"error": {"type": error_type, "message": message, "code": code}})
