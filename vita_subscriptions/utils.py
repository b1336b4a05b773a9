"""Small helpers shared by models."""


def from_minor_units(amount, currency):
    """Stripe amounts are integers in the currency's smallest unit."""
    return currency.round(amount / 10**currency.decimal_places)


def to_minor_units(amount, currency):
    return round(currency.round(amount) * 10**currency.decimal_places)
