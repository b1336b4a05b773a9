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

from ..const import WEBHOOK_ROUTE
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


def invoice_line(
    unit_amount,
    quantity=1,
    *,
    tax_rates=(),
    inclusive=False,
    amount=None,
    description="1 × Care",
    discounts=(),
    proration=False,
):
    """A current-API invoice line; ``tax_rates`` is [(tax rate id, tax
    amount)], ``discounts`` [(discount id, amount)] (Stripe taxes the line
    after its discounts: ``taxable_amount``)."""
    amount = unit_amount * quantity if amount is None else amount
    discounted = amount - sum(discount for _id, discount in discounts)
    now = int(time.time())
    return {
        "id": unique("il"),
        "object": "line_item",
        "amount": amount,
        "currency": "eur",
        "description": description,
        "discount_amounts": [{"amount": discount, "discount": discount_id} for discount_id, discount in discounts],
        "discountable": True,
        "discounts": [discount_id for discount_id, _amount in discounts],
        "parent": {
            "type": "subscription_item_details",
            "subscription_item_details": {"subscription_item": "si_1", "proration": proration},
        },
        "period": {"start": now, "end": now + 30 * 86400},
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
                "taxable_amount": discounted - tax_amount if inclusive else discounted,
                "type": "tax_rate_details",
            }
            for rate_id, tax_amount in tax_rates
        ],
    }


def _sum_by(rows, key):
    sums = {}
    for row in rows:
        sums[row[key]] = sums.get(row[key], 0) + row["amount"]
    return sums


def invoice(
    subscription_id,
    lines,
    *,
    total=None,
    currency="eur",
    status="paid",
    invoice_id=None,
    metadata=None,
    starting_balance=0,
    invoice_discounts=(),
    pre_payment_credit=0,
    **extra,
):
    """A current-API invoice: the subscription under ``parent``; totals
    computed from the lines the way Stripe does (``total`` may be forced).
    ``starting_balance`` < 0 is a customer credit Stripe applies first;
    ``invoice_discounts`` [(discount id, amount)] are invoice-level discount
    amounts no line carries; ``pre_payment_credit`` what credit notes took
    off before payment."""
    now = int(time.time())
    invoice_id = invoice_id or unique("in")
    subtotal = sum(line["amount"] for line in lines)
    discount_rows = [row for line in lines for row in line.get("discount_amounts", [])]
    discount_rows += [{"amount": amount, "discount": discount_id} for discount_id, amount in invoice_discounts]
    tax_rows = [
        {**tax, "rate": tax["tax_rate_details"]["tax_rate"], "behavior": tax["tax_behavior"]}
        for line in lines
        for tax in line.get("taxes", [])
    ]
    discount_total = sum(row["amount"] for row in discount_rows)
    inclusive_tax = sum(row["amount"] for row in tax_rows if row["behavior"] == "inclusive")
    exclusive_tax = sum(row["amount"] for row in tax_rows if row["behavior"] == "exclusive")
    total = subtotal - discount_total + exclusive_tax if total is None else total
    applied = min(-starting_balance, total) if starting_balance < 0 else 0
    amount_due = total - applied - pre_payment_credit
    paid = status == "paid"
    behaviors = {row["rate"]: row["behavior"] for row in tax_rows}
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": amount_due,
        "amount_paid": amount_due if paid else 0,
        "amount_remaining": 0 if paid else amount_due,
        "billing_reason": "subscription_cycle",
        "created": now,
        "currency": currency,
        "customer": "cus_x",
        "ending_balance": starting_balance + applied,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_x/{invoice_id}",
        "lines": {"object": "list", "data": [{**line, "currency": currency} for line in lines], "has_more": False},
        "livemode": False,
        "number": f"VITA-{invoice_id[-6:].upper()}",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription_id, "metadata": metadata or {}},
        },
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": pre_payment_credit,
        "starting_balance": starting_balance,
        "status": status,
        "status_transitions": {"finalized_at": now, "paid_at": now if paid else None},
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal - inclusive_tax,
        "total": total,
        "total_discount_amounts": [
            {"amount": amount, "discount": discount_id}
            for discount_id, amount in _sum_by(discount_rows, "discount").items()
        ],
        "total_excluding_tax": subtotal - discount_total - inclusive_tax,
        "total_taxes": [
            {
                "amount": amount,
                "tax_behavior": behaviors[rate_id],
                "tax_rate_details": {"tax_rate": rate_id},
                "taxability_reason": "standard_rated",
                "type": "tax_rate_details",
            }
            for rate_id, amount in _sum_by(tax_rows, "rate").items()
        ],
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


def credit_note(stripe_invoice_id, lines, *, refunds=(), currency="eur", out_of_band=0, pre_payment=False):
    """A current-API credit note: ``lines`` are built by invoice_line
    (same amount, discount and tax fields as credit note lines);
    ``refunds`` [(refund id, amount refunded)]."""
    summary = invoice("sub_x", lines, currency=currency)
    note_lines = [
        {
            **{key: line[key] for key in ("amount", "description", "discount_amounts", "quantity", "taxes")},
            "id": unique("cnli"),
            "object": "credit_note_line_item",
            "type": "custom_line_item",
            "unit_amount": line["amount"] // (line["quantity"] or 1),
            "unit_amount_decimal": str(line["amount"] // (line["quantity"] or 1)),
        }
        for line in lines
    ]
    credit_note_id = unique("cn")
    return {
        "id": credit_note_id,
        "object": "credit_note",
        "amount": summary["total"],
        "created": int(time.time()),
        "currency": currency,
        "customer": "cus_x",
        "discount_amounts": summary["total_discount_amounts"],
        "invoice": stripe_invoice_id,
        "lines": {"object": "list", "data": note_lines, "has_more": False},
        "livemode": False,
        "number": f"CN-{credit_note_id[-6:].upper()}",
        "out_of_band_amount": out_of_band or None,
        "post_payment_amount": 0 if pre_payment else summary["total"],
        "pre_payment_amount": summary["total"] if pre_payment else 0,
        "reason": "requested_by_customer",
        "refunds": [
            {"amount_refunded": amount, "refund": refund_id, "type": "refund"} for refund_id, amount in refunds
        ],
        "status": "issued",
        "subtotal": summary["subtotal"],
        "subtotal_excluding_tax": summary["subtotal_excluding_tax"],
        "total": summary["total"],
        "total_excluding_tax": summary["total_excluding_tax"],
        "total_taxes": summary["total_taxes"],
        "type": "pre_payment" if pre_payment else "post_payment",
    }


def refund(amount, *, payment_intent="pi_x", refund_id=None, status="succeeded", currency="eur"):
    """https://docs.stripe.com/api/refunds/object"""
    return {
        "id": refund_id or unique("re"),
        "object": "refund",
        "amount": amount,
        "charge": "ch_x",
        "created": int(time.time()),
        "currency": currency,
        "metadata": {},
        "payment_intent": payment_intent,
        "reason": "requested_by_customer",
        "status": status,
    }


def charge(amount, refunds, *, payment_intent="pi_x", currency="eur"):
    """A refunded charge: since 2022-11-15 its refunds are not embedded."""
    return {
        "id": unique("ch"),
        "object": "charge",
        "amount": amount,
        "amount_refunded": sum(refund["amount"] for refund in refunds),
        "currency": currency,
        "payment_intent": payment_intent,
        "refunded": sum(refund["amount"] for refund in refunds) == amount,
        "status": "succeeded",
    }


def dispute(amount, *, status="needs_response", payment_intent="pi_x", currency="eur"):
    """https://docs.stripe.com/api/disputes/object"""
    return {
        "id": unique("du"),
        "object": "dispute",
        "amount": amount,
        "charge": "ch_x",
        "created": int(time.time()),
        "currency": currency,
        "evidence_details": {"due_by": int(time.time()) + 7 * 86400, "has_evidence": False},
        "payment_intent": payment_intent,
        "reason": "fraudulent",
        "status": status,
    }


def listed(path, objects):
    """A Stripe list answer for a recorded response."""
    return (200, {"object": "list", "data": objects, "has_more": False, "url": path})


class WebhookCase(SubscriptionCase):
    """Subscriptions linked to (recorded) Stripe subscriptions, and events
    handed to the event log the way the controller does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.vita_webhook_secret = WEBHOOK_SECRET
        cls.Event = cls.env["vita.stripe.event"]

    def linked(self, state="active", **values):
        """A subscription Odoo believes subscribed as ``sub_…`` in Stripe."""
        subscription = self.prepare(**values)
        subscription.with_context(vita_from_stripe=True).write(
            {"stripe_subscription_id": unique("sub"), "stripe_item_id": unique("si"), "state": state}
        )
        return subscription

    def receive(self, stripe_event):
        """Record the event as the endpoint does, then run the queue as its
        cron lanes would (in this test's transaction): the event's record,
        handled."""
        record = self.Event._vita_receive(stripe_event, json.dumps(stripe_event))
        self.run_queue()
        return record

    def run_queue(self):
        """Handle every pending event now, as a queue lane does (no commit:
        tests may not). After an HTTP delivery, invalidate the cache first
        (the request wrote through another environment)."""
        return self.Event._vita_process_queue()

    def webhook_path(self, key=None):
        key = key or self.provider.vita_webhook_key
        return f"{WEBHOOK_ROUTE}/{key}"
