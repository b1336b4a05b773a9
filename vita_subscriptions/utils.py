"""Small helpers shared by models."""

from datetime import UTC, datetime


def date_from_timestamp(timestamp):
    """The UTC day of a Stripe timestamp, or None."""
    return datetime.fromtimestamp(timestamp, UTC).date() if isinstance(timestamp, int) else None


def from_minor_units(amount, currency):
    """Stripe amounts are integers in the currency's smallest unit."""
    return currency.round(amount / 10**currency.decimal_places)


def stripe_currency(env, code):
    """The Odoo currency of a Stripe currency code, activated if needed
    (Stripe bills in it: Odoo must invoice in it); empty when unknown."""
    currency = (
        env["res.currency"]
        .sudo()
        .with_context(active_test=False)
        .search([("name", "=", (code or "").upper())], limit=1)
    )
    if currency and not currency.active:
        currency.active = True
    return currency
