from odoo import fields, models

from ..const import STRIPE_CANCELLATION_FEEDBACK


class VitaCancellationReason(models.Model):
    """Why a customer cancels: asked when cancelling, sent to Stripe as the
    cancellation feedback, and used by the churn report."""

    _name = "vita.cancellation.reason"
    _description = "Cancellation reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    stripe_feedback = fields.Selection(
        STRIPE_CANCELLATION_FEEDBACK,
        string="Stripe feedback",
        required=True,
        default="other",
        help="The cancellation feedback code Stripe receives for this reason.",
    )
