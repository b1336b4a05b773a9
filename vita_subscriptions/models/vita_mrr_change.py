from odoo import api, fields, models

from ..const import MRR_MOVEMENTS


class VitaMrrChange(models.Model):
    """One change of a subscription's MRR, recorded when it happens.

    The rows of a subscription form a chain: each row's ``mrr_before`` is the
    previous row's ``mrr_after`` (0 before the first), so the revenue report's
    months tie out by construction.
    """

    _name = "vita.mrr.change"
    _description = "MRR change"
    _order = "date desc, id desc"
    _check_company_auto = True

    subscription_id = fields.Many2one(
        "vita.subscription", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id", string="Company currency")
    date = fields.Date(required=True, index=True, default=fields.Date.context_today)
    mrr_before = fields.Monetary("MRR before", currency_field="currency_id")
    mrr_after = fields.Monetary("MRR after", currency_field="currency_id")
    mrr_change = fields.Monetary("MRR change", currency_field="currency_id", compute="_compute_mrr_change", store=True)
    movement = fields.Selection(MRR_MOVEMENTS, required=True, index=True)
    cancellation_reason_id = fields.Many2one(
        "vita.cancellation.reason",
        string="Cancellation reason",
        ondelete="set null",
        help="The reason given when the subscription churned.",
    )

    _sql_constraints = [
        ("mrr_not_negative", "CHECK(mrr_before >= 0 AND mrr_after >= 0)", "An MRR cannot be negative."),
    ]

    def init(self):
        # The report looks up the last row of a subscription before a date.
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS vita_mrr_change_subscription_date_idx "
            "ON vita_mrr_change (subscription_id, date, id)"
        )

    @api.depends("mrr_before", "mrr_after")
    def _compute_mrr_change(self):
        for change in self:
            change.mrr_change = change.mrr_after - change.mrr_before

    @api.model
    def _vita_movement(self, mrr_before, mrr_after, had_revenue, between_running=None):
        """The movement type of a change; ``between_running`` overrides
        the type of a change between two non-zero values (exchange rates)."""
        if not mrr_before:
            return "reactivation" if had_revenue else "new"
        if not mrr_after:
            return "churn"
        if between_running:
            return between_running
        return "expansion" if mrr_after > mrr_before else "contraction"
