from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """Upgrading from 18.0.1.0.x: the subscriptions already there get their
    MRR history (new installs do it in the post-init hook)."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["vita.subscription"]._vita_init_mrr_history()
