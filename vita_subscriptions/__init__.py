from . import controllers
from . import models
from . import report
from . import wizards
from .models.payment_provider import generate_webhook_key


# Switched on at install. Not data records: a settings checkbox switched off
# deletes its parameter (and would delete an XML id with it), and the next
# module update would then insert the parameter a second time.
PARAMS_ON_AT_INSTALL = ("vita_subscriptions.portal_enabled", "vita_subscriptions.proration")


def post_init_hook(env):
    """Give every Stripe provider its own unguessable webhook URL; switch
    the customer portal and proration on; give every subscription already
    there its MRR history."""
    env["payment.provider"]._vita_ensure_webhook_keys()
    params = env["ir.config_parameter"].sudo()
    for key in PARAMS_ON_AT_INSTALL:
        if not params.get_param(key):
            params.set_param(key, "True")
    env["vita.subscription"]._vita_init_mrr_history()


def uninstall_hook(env):
    """Leave no parameter behind (the providers' webhook keys and secrets
    go with their columns)."""
    env["ir.config_parameter"].sudo().search([("key", "=like", "vita_subscriptions.%")]).unlink()
