# Run inside `odoo-bin shell` by tools/run.sh: points the demo database at
# localstripe and prints "<webhook url> <signing secret>" on its last line.
import os
import secrets

from odoo.addons.vita_subscriptions import post_init_hook

params = env["ir.config_parameter"].sudo()
params.set_param("web.base.url", os.environ["VITA_ODOO_URL"])
params.set_param("web.base.url.freeze", "True")
params.set_param("vita_subscriptions.stripe_api_base", os.environ["VITA_STRIPE_URL"])
params.set_param("vita_subscriptions.stripe_js_url", os.environ["VITA_STRIPE_URL"] + "/js.stripe.com/v3/")
post_init_hook(env)
if not params.get_param("vita_subscriptions.webhook_secret"):
    params.set_param("vita_subscriptions.webhook_secret", "whsec_" + secrets.token_hex(24))
provider = env.ref("payment.payment_provider_stripe")
provider.write(
    {
        "state": "test",
        "stripe_secret_key": os.environ["VITA_SECRET_KEY"],
        "stripe_publishable_key": os.environ["VITA_PUBLISHABLE_KEY"],
    }
)
env["vita.stripe.plan"]._sync_catalogue_from_stripe()
env.cr.commit()
key = params.get_param("vita_subscriptions.webhook_key")
print(
    f"{params.get_param('web.base.url')}/vita_subscriptions/webhook/{key}",
    params.get_param("vita_subscriptions.webhook_secret"),
)
