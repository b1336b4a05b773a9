"""Seed localstripe with the demo billing plans and tax rates (idempotent).

Usage: seed_localstripe.py API_BASE SECRET_KEY
"""

import sys

import requests

PLANS = [
    # id, product name, nickname, amount in cents, currency, interval
    ("plan_vita_eur_monthly", "Vita Care", "Monthly", 2900, "eur", "month"),
    ("plan_vita_eur_yearly", "Vita Care", "Yearly", 29000, "eur", "year"),
    ("plan_vita_usd_monthly", "Vita Care US", "Monthly", 3200, "usd", "month"),
    # What a portal customer of the demo (billed in USD) can change to.
    ("plan_vita_usd_plus_monthly", "Vita Care US Plus", "Monthly", 4900, "usd", "month"),
]
TAX_RATES = [
    ("FR VAT", 20.0, False),
    ("DE VAT incl.", 19.0, True),
]


def main(api_base, secret_key):
    session = requests.Session()
    session.auth = (secret_key, "")
    existing = {p["id"] for p in session.get(f"{api_base}/v1/plans?limit=100").json()["data"]}
    for plan_id, product, nickname, amount, currency, interval in PLANS:
        if plan_id in existing:
            continue
        session.post(
            f"{api_base}/v1/plans",
            data={
                "id": plan_id,
                "product[name]": product,
                "nickname": nickname,
                "amount": amount,
                "currency": currency,
                "interval": interval,
            },
        ).raise_for_status()
    rates = session.get(f"{api_base}/v1/tax_rates?limit=100").json()["data"]
    known = {r["display_name"] for r in rates}
    for name, percentage, inclusive in TAX_RATES:
        if name in known:
            continue
        session.post(
            f"{api_base}/v1/tax_rates",
            data={"display_name": name, "percentage": percentage, "inclusive": str(inclusive).lower()},
        ).raise_for_status()


if __name__ == "__main__":
    main(*sys.argv[1:3])
