from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """Upgrading from 18.0.1.1.x: the database-wide webhook key and signing
    secret move onto the Stripe provider of the main company (one Stripe
    account per company), every other Stripe provider gets a key of its
    own, and the two system parameters are deleted."""
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["payment.provider"]._vita_adopt_webhook_params()
