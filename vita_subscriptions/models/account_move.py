from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    vita_subscription_id = fields.Many2one(
        "vita.subscription", string="Subscription", index="btree_not_null", copy=False, readonly=True
    )
    vita_stripe_invoice_id = fields.Char("Stripe invoice", copy=False, readonly=True, index="btree_not_null")
    vita_stripe_invoice_url = fields.Char("Stripe invoice link", copy=False, readonly=True)

    _sql_constraints = [
        (
            "vita_stripe_invoice_unique",
            "UNIQUE(company_id, vita_stripe_invoice_id)",
            "This Stripe invoice already has an Odoo invoice.",
        ),
    ]
