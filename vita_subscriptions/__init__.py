import secrets
import string

from . import controllers
from . import models
from . import report
from . import wizards

WEBHOOK_KEY_ALPHABET = string.ascii_letters + string.digits


def generate_webhook_key(length=32):
    return "".join(secrets.choice(WEBHOOK_KEY_ALPHABET) for _ in range(length))


def post_init_hook(env):
    """Give every database its own unguessable webhook URL, and every
    subscription already there its MRR history."""
    params = env["ir.config_parameter"].sudo()
    if not params.get_param("vita_subscriptions.webhook_key"):
        params.set_param("vita_subscriptions.webhook_key", generate_webhook_key())
    env["vita.subscription"]._init_mrr_history()


def uninstall_hook(env):
    """Leave no webhook key or signing secret behind."""
    env["ir.config_parameter"].sudo().search([("key", "=like", "vita_subscriptions.%")]).unlink()
