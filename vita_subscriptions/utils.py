"""Small helpers shared by models."""


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
