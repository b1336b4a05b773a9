"""Pure readers of Stripe objects, across the API versions the addon meets
(the pinned version, events sent with an endpoint's older version, and
localstripe). They take plain dicts as webhooks deliver them or
stripe-python objects (dict subclasses) as the gateway returns them, never
call Stripe, and never touch Odoo: everything that reads a Stripe shape
outside the gateway goes through here."""


def field(stripe_object, key):
    """``stripe_object[key]`` or None, on a dict (webhook payload) as on a
    stripe-python object (which is not a dict and has no ``get``)."""
    if stripe_object is None:
        return None
    if isinstance(stripe_object, dict):
        return stripe_object.get(key)
    try:
        return stripe_object[key]
    except KeyError:
        return None


def stripe_id(value):
    """The id of an expandable field: an id, an expanded object, or None."""
    if isinstance(value, dict):
        value = value.get("id")
    elif value is not None and not isinstance(value, str):
        value = getattr(value, "id", None)
    return value if isinstance(value, str) and value else None


def subscription_items(stripe_subscription):
    """The items of a Stripe subscription (``items.data``), or []."""
    return field(field(stripe_subscription, "items"), "data") or []


def single_item(stripe_subscription):
    """The one item of a one-item subscription, else None."""
    items = subscription_items(stripe_subscription)
    return items[0] if len(items) == 1 else None


def item_price_id(item):
    """The plan/price id of a subscription item (``plan`` or ``price``)."""
    return stripe_id(field(item, "plan")) or stripe_id(field(item, "price"))


def subscription_tax_rate_ids(stripe_subscription, item):
    """The item's tax rates, else the subscription's default ones."""
    rates = field(item, "tax_rates") or field(stripe_subscription, "default_tax_rates") or []
    return [rate_id for rate_id in map(stripe_id, rates) if rate_id]


def invoice_subscription_ref(stripe_invoice):
    """(Stripe subscription id, subscription metadata) of an invoice on
    every API version: ``parent.subscription_details`` since 2025-03-31
    (basil), ``subscription`` and ``subscription_details`` before.
    https://docs.stripe.com/changelog/basil/2025-03-31/adds-new-parent-field-to-invoicing-objects
    """
    details = (stripe_invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = stripe_id(details.get("subscription") or stripe_invoice.get("subscription"))
    metadata = details.get("metadata") or (stripe_invoice.get("subscription_details") or {}).get("metadata") or {}
    return subscription, metadata


def line_price_id(line):
    """Stripe price (plan) id of an invoice line: ``pricing.price_details.price``
    since basil, ``price`` or ``plan`` (ids or objects) before."""
    pricing = (line.get("pricing") or {}).get("price_details") or {}
    for value in (pricing.get("price"), line.get("price"), line.get("plan")):
        if price_id := stripe_id(value):
            return price_id
    return None


def line_tax_rate_ids(line):
    """Tax rate ids of an invoice line: ``taxes[].tax_rate_details`` since
    basil, ``tax_rates`` (ids or objects) or ``tax_amounts[].tax_rate`` before."""
    ids = [
        (tax.get("tax_rate_details") or {}).get("tax_rate")
        for tax in line.get("taxes") or []
        if tax.get("type", "tax_rate_details") == "tax_rate_details"
    ]
    ids += [stripe_id(rate) for rate in line.get("tax_rates") or []]
    if not ids:
        ids = [stripe_id(amount["tax_rate"]) for amount in line.get("tax_amounts") or [] if amount.get("tax_rate")]
    return list(dict.fromkeys(rate_id for rate_id in ids if rate_id))


def credit_note_refunds(credit_note):
    """[(refund id, amount refunded)] of a credit note: ``refunds`` since
    2024 (several refunds per credit note), ``refund`` before."""
    refunds = []
    for row in credit_note.get("refunds") or []:
        refund_id = stripe_id(row.get("refund"))
        if refund_id and isinstance(row.get("amount_refunded"), int):
            refunds.append((refund_id, row["amount_refunded"]))
    if not refunds and credit_note.get("refund"):
        refund_id = stripe_id(credit_note["refund"])
        refunds.append((refund_id, (credit_note.get("amount") or 0) - (credit_note.get("out_of_band_amount") or 0)))
    return refunds
