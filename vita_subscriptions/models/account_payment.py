from odoo import fields, models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    vita_stripe_refund_id = fields.Char(
        "Stripe refund",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The Stripe refund (re_…) or lost dispute (du_…) this outgoing payment books.",
    )
    vita_stripe_payment_id = fields.Char(
        "Stripe invoice payment",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The Stripe invoice payment (inpay_…) this incoming payment books: one per payment Stripe received "
        "for the invoice, partial or whole.",
    )

    _sql_constraints = [
        (
            "vita_stripe_refund_unique",
            "UNIQUE(company_id, vita_stripe_refund_id)",
            "This Stripe refund is already booked.",
        ),
        (
            "vita_stripe_payment_unique",
            "UNIQUE(company_id, vita_stripe_payment_id)",
            "This Stripe invoice payment is already booked.",
        ),
    ]
