from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """Plan names no longer embed the price and period in the language of
    whoever ran the sync: recompute the stored ones (display adds them)."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    plans = env["vita.stripe.plan"].with_context(active_test=False).search([])
    env.add_to_compute(plans._fields["name"], plans)
    env.flush_all()
