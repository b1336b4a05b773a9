"""Webhook test helpers: Stripe event and invoice payloads in both the
current API shape (https://docs.stripe.com/api/invoices/object, basil and
later: ``parent.subscription_details``, ``pricing``, ``taxes``) and the
older one (``subscription``, ``plan``/``price``, ``tax_rates``,
``tax_amounts``), the signature Stripe puts on a delivery, and base classes."""

import hashlib
import hmac
import json
import time
import uuid

from ..const import PARAM_WEBHOOK_SECRET, WEBHOOK_ROUTE
from .common import SubscriptionCase

WEBHOOK_SECRET = "whsec_vitaWebhookTests"


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:14]}"


def sign(payload, secret=WEBHOOK_SECRET, timestamp=None):
    """The ``Stripe-Signature`` header Stripe sends with ``payload``.
    https://docs.stripe.com/webhooks#verify-manually"""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def event(event_type, data_object, *, event_id=None, created=None, api_version="2026-10-28.endive", livemode=False):
    return {
        "id": event_id or unique("evt"),
        "object": "event",
        "api_version": api_version,
        "created": created or int(time.time()),
        "data": {"object": data_object},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def invoice_line(unit_amount, quantity=1, *, tax_rates=(), inclusive=False, amount=None, description="1 × Care"):
    """A current-API invoice line; ``tax_rates`` is [(tax rate id, tax amount)]."""
    amount = unit_amount * quantity if amount is None else amount
    return {
        "id": unique("il"),
        "object": "line_item",
        "amount": amount,
        "currency": "eur",
        "description": description,
        "parent": {"type": "subscription_item_details", "subscription_item_details": {"subscription_item": "si_1"}},
        "period": {"start": int(time.time()), "end": int(time.time()) + 30 * 86400},
        "pricing": {
            "type": "price_details",
            "price_details": {"price": "plan_x", "product": "prod_x"},
            "unit_amount_decimal": str(unit_amount),
        },
        "quantity": quantity,
        "taxes": [
            {
                "amount": tax_amount,
                "tax_behavior": "inclusive" if inclusive else "exclusive",
                "tax_rate_details": {"tax_rate": rate_id},
                "taxability_reason": "standard_rated",
                "taxable_amount": amount,
                "type": "tax_rate_details",
            }
            for rate_id, tax_amount in tax_rates
        ],
    }


def invoice(subscription_id, lines, *, total, currency="eur", status="paid", invoice_id=None, metadata=None, **extra):
    """A current-API invoice: the subscription under ``parent``."""
    now = int(time.time())
    invoice_id = invoice_id or unique("in")
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": total,
        "amount_paid": total if status == "paid" else 0,
        "amount_remaining": 0 if status == "paid" else total,
        "billing_reason": "subscription_cycle",
        "created": now,
        "currency": currency,
        "customer": "cus_x",
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_x/{invoice_id}",
        "lines": {"object": "list", "data": [{**line, "currency": currency} for line in lines], "has_more": False},
        "livemode": False,
        "number": f"VITA-{invoice_id[-6:].upper()}",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription_id, "metadata": metadata or {}},
        },
        "status": status,
        "status_transitions": {"finalized_at": now, "paid_at": now if status == "paid" else None},
        "subtotal": sum(line["amount"] for line in lines),
        "total": total,
        **extra,
    }


def old_invoice(subscription_id, unit_amount, quantity, *, total, tax_rates=(), inclusive=False, currency="eur"):
    """The same invoice as an older API version (and localstripe) sends it:
    ``subscription`` at the top, ``plan``/``price`` and ``tax_rates`` on lines."""
    now = int(time.time())
    invoice_id = unique("in")
    amount = unit_amount * quantity
    line = {
        "id": unique("il"),
        "object": "line_item",
        "amount": amount,
        "currency": currency,
        "description": None,
        "plan": {"id": "plan_x", "object": "plan", "amount": unit_amount, "currency": currency},
        "price": {"id": "plan_x", "object": "price", "unit_amount": unit_amount, "currency": currency},
        "quantity": quantity,
        "subscription": subscription_id,
        "tax_rates": [{"id": rate_id, "object": "tax_rate", "inclusive": inclusive} for rate_id, _ in tax_rates],
        "tax_amounts": [
            {"amount": tax_amount, "inclusive": inclusive, "tax_rate": rate_id} for rate_id, tax_amount in tax_rates
        ],
        "type": "subscription",
    }
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": total,
        "amount_paid": total,
        "currency": currency,
        "date": now,
        "hosted_invoice_url": None,
        "lines": {"object": "list", "data": [line], "has_more": False},
        "number": None,
        "status": "paid",
        "status_transitions": {"finalized_at": now, "paid_at": now},
        "subscription": subscription_id,
        "total": total,
    }


class WebhookCase(SubscriptionCase):
    """Subscriptions linked to (recorded) Stripe subscriptions, and events
    handed to the event log the way the controller does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(PARAM_WEBHOOK_SECRET, WEBHOOK_SECRET)
        cls.Event = cls.env["vita.stripe.event"]

    def linked(self, state="active", **values):
        """A subscription Odoo believes subscribed as ``sub_…`` in Stripe."""
        subscription = self.prepare(**values)
        subscription.with_context(vita_from_stripe=True).write(
            {"stripe_subscription_id": unique("sub"), "stripe_item_id": unique("si"), "state": state}
        )
        return subscription

    def receive(self, stripe_event):
        return self.Event._receive(stripe_event, json.dumps(stripe_event))

    def webhook_path(self, key=None):
        key = key or self.env["ir.config_parameter"].sudo().get_param("vita_subscriptions.webhook_key")
        return f"{WEBHOOK_ROUTE}/{key}"
