# Run inside `odoo-bin shell` by tools/run.sh: points the demo database at
# localstripe and localstripe's webhook at the main company's Stripe provider.
import os
import secrets
from datetime import date

import requests

from odoo.addons.vita_subscriptions import post_init_hook
from odoo.addons.vita_subscriptions.const import HANDLED_EVENT_TYPES

STRIPE_URL = os.environ["VITA_STRIPE_URL"]

params = env["ir.config_parameter"].sudo()
params.set_param("web.base.url", os.environ["VITA_ODOO_URL"])
params.set_param("web.base.url.freeze", "True")
params.set_param("vita_subscriptions.stripe_api_base", STRIPE_URL)
params.set_param("vita_subscriptions.stripe_js_url", STRIPE_URL + "/js.stripe.com/v3/")
post_init_hook(env)
provider = env.ref("payment.payment_provider_stripe")
provider.write(
    {
        "state": "test",
        "stripe_secret_key": os.environ["VITA_SECRET_KEY"],
        "stripe_publishable_key": os.environ["VITA_PUBLISHABLE_KEY"],
    }
)
# The webhook of the main company's Stripe account lives on its provider.
if not provider.vita_webhook_secret:
    provider.vita_webhook_secret = "whsec_" + secrets.token_hex(24)
env["vita.stripe.plan"]._vita_sync_catalogue_from_stripe()
# A demo database made before the demo offered a plan change on the portal.
Plan = env["vita.stripe.plan"]
if not Plan.search_count([("offered_in_portal", "=", True)]):
    Plan.search([("stripe_id", "in", ("plan_vita_usd_monthly", "plan_vita_usd_plus_monthly"))]).offered_in_portal = True

# The demo company: a payments journal for Stripe, and its default terms in
# French (fr_FR is loaded by tools/run.sh) when nobody has translated them.
company = env.ref("base.main_company")
if not company.vita_journal_id:
    company.vita_journal_id = env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
    )
FRENCH_TERMS = (
    "L'abonnement se renouvelle automatiquement à chaque période de facturation jusqu'à ce que "
    "vous le résiliiez. Vous pouvez le résilier à tout moment depuis votre portail ; une résiliation "
    "en fin de période de facturation peut être annulée jusqu'à cette date."
)
french = env["res.lang"]._lang_get("fr_FR")
if french.active and company.vita_terms:
    english = company.with_context(lang="en_US").vita_terms
    terms = company._fields["vita_terms"].get_trans_terms(english)
    if len(terms) == 1 and company.with_context(lang="fr_FR").vita_terms == english:
        company.update_field_translations("vita_terms", {"fr_FR": {terms[0]: FRENCH_TERMS}})
env.cr.commit()

# The webhook first, with the event types "Create webhook in Stripe" asks
# for (localstripe forgets it when it stops): the payments below are then
# delivered once Odoo serves (localstripe retries until then).
stripe = requests.Session()
stripe.auth = (os.environ["VITA_SECRET_KEY"], "")
stripe.post(
    f"{STRIPE_URL}/_config/webhooks/vita",
    json={"url": provider._vita_webhook_url(), "secret": provider.vita_webhook_secret, "events": HANDLED_EVENT_TYPES},
    timeout=10,
).raise_for_status()

# Two demo customers subscribe with a test card, so the back office shows
# running subscriptions: Deco Addict's card expires at the end of this month,
# before its next renewal (a renewal at risk); Ready Mat's subscription is
# cancelled at the end of its period. Their first billing date, first
# invoice and MRR history all start today.
today = date.today()
for xmlid, cancel_at_period_end, (exp_month, exp_year) in (
    ("vita_subscriptions.demo_subscription_deco_addict", False, (today.month, today.year)),
    ("vita_subscriptions.demo_subscription_ready_mat", True, (12, 2034)),
):
    subscription = env.ref(xmlid, raise_if_not_found=False)
    if not subscription or subscription.state != "not_subscribed":
        continue
    card_data = {
        "type": "card",
        "card[number]": "4242424242424242",
        "card[exp_month]": exp_month,
        "card[exp_year]": exp_year,
        "card[cvc]": "123",
    }
    card = stripe.post(f"{STRIPE_URL}/v1/payment_methods", data=card_data, timeout=10).json()
    # The customer's path with a new card: the card that paid becomes the
    # default, and its expiry is kept (renewals at risk).
    subscription._vita_portal_subscribe(card["id"])
    if cancel_at_period_end:
        subscription.action_cancel_at_period_end()
    # The paid invoice at once, the way the reconciliation cron would (its
    # webhook only arrives once Odoo serves: booked once either way).
    subscription.action_sync_from_stripe()
    env.cr.commit()
