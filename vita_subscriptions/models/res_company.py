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
    # The invoice of record (README, "Invoice of record"). New companies
    # book at finalization; databases upgraded from 18.0.1.2 keep booking at
    # payment (migration 18.0.1.3.0).
    vita_invoice_booking = fields.Selection(
        [
            ("finalized", "When Stripe finalizes the invoice"),
            ("paid", "When Stripe's invoice is paid"),
        ],
        string="Book Stripe invoices",
        default="finalized",
        required=True,
        help="At finalization, Odoo's invoice is the invoice of record: posted when Stripe issues it, open until "
        "Stripe collects it. When paid, Odoo books Stripe's invoices once they are paid (Stripe's invoice is "
        "then the customer's).",
    )
    vita_invoice_email = fields.Boolean(
        "E-mail Odoo's invoice to the customer",
        help="When an invoice is booked, Odoo sends it to the customer with its PDF and, where the customer's "
        "e-invoicing format calls for it, its electronic invoice (e.g. Factur-X).",
    )
    vita_bad_debt_account_id = fields.Many2one(
        "account.account",
        string="Bad debt account",
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost')), ('company_ids', 'parent_of', id)]",
        help="Stripe invoices marked uncollectible are written off to this expense account (the receivable "
        "is closed; a later payment reopens it).",
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
