"""Small helpers shared by models: Stripe amounts, dates and currencies."""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from odoo import fields
from odoo.exceptions import UserError

from .const import (
    STRIPE_THREE_DECIMAL_CURRENCIES,
    STRIPE_WHOLE_UNIT_CHARGE_CURRENCIES,
    STRIPE_ZERO_DECIMAL_CURRENCIES,
)


def stripe_exponent(code):
    """Number of decimals of Stripe's API amounts in currency ``code``."""
    code = (code or "").upper()
    if code in STRIPE_ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in STRIPE_THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def from_stripe_amount(amount, currency):
    """An amount of Stripe's API (integer, minor units by Stripe's table)
    as a value of the Odoo ``currency``.

    Raises UserError when Odoo's rounding of the currency cannot hold it
    (e.g. 12.34 TWD where Odoo rounds TWD to units): a wrong amount in the
    books is worse than a failed event.
    """
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise UserError(currency.env._("Stripe sent %(amount)r where an amount was expected.", amount=amount))
    value = Decimal(amount).scaleb(-stripe_exponent(currency.name))
    if Decimal(str(currency.round(float(value)))) != value:
        raise UserError(
            currency.env._(
                "Stripe billed %(value)s %(currency)s, an amount Odoo rounds to %(rounding)s: "
                "adjust the rounding of the currency in Odoo.",
                value=value,
                currency=currency.name,
                rounding=currency.rounding,
            )
        )
    return float(value)


def to_stripe_amount(value, currency):
    """A value of the Odoo ``currency`` as Stripe's API amount (integer),
    rounded the way Stripe charges it: whole units for ISK, a last digit 0
    for three-decimal currencies."""
    exponent = stripe_exponent(currency.name)
    amount = Decimal(str(currency.round(value))).scaleb(exponent)
    code = currency.name.upper()
    step = 100 if code in STRIPE_WHOLE_UNIT_CHARGE_CURRENCIES else 10 if exponent == 3 else 1
    return int((amount / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step)


def stripe_date(timestamp, record=None):
    """The UTC date of a Stripe timestamp, None when it is not one; with
    ``record``, the date in its user's timezone, the one Odoo's "today"
    (``fields.Date.context_today``) is in: for dates compared with today,
    such as a first billing date."""
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        return None
    try:
        moment = datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    if record is not None:
        return fields.Date.context_today(record, moment.replace(tzinfo=None))
    return moment.date()


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


def reopen_wizard(wizard, title):
    """The action that shows ``wizard`` again (a step done, its dialog
    stays open on the new state)."""
    return {
        "type": "ir.actions.act_window",
        "res_model": wizard._name,
        "res_id": wizard.id,
        "view_mode": "form",
        "target": "new",
        "name": title,
    }
