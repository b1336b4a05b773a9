from odoo import fields, models


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
