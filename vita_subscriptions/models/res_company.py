from odoo import fields, models

from ..const import PARAM_STRIPE_JS_URL
from ..stripe_gateway import StripeGateway

DEFAULT_STRIPE_JS_URL = "https://js.stripe.com/v3/"


class ResCompany(models.Model):
    _inherit = "res.company"

    vita_terms = fields.Html(
        string="Default subscription terms",
        translate=True,
        help="Terms and conditions proposed on new subscriptions and shown above the Subscribe button.",
    )
    vita_journal_id = fields.Many2one(
        "account.journal",
        string="Stripe payments journal",
        domain="[('type', 'in', ('bank', 'cash')), ('company_id', '=', id)]",
        help="Journal in which the payments of paid Stripe invoices are registered.",
    )

    def _vita_stripe_js_values(self):
        """What a portal page needs to load Stripe.js for this company's
        Stripe account: the script URL and the publishable key."""
        self.ensure_one()
        provider = StripeGateway.provider_of(self.env, self)
        return {
            "stripe_js_url": self.env["ir.config_parameter"].sudo().get_param(PARAM_STRIPE_JS_URL)
            or DEFAULT_STRIPE_JS_URL,
            "stripe_publishable_key": provider.sudo().stripe_publishable_key,
        }
