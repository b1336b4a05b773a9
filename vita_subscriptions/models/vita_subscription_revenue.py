from odoo import api, fields, models

from ..const import MONTHS_PER_INTERVAL, MRR_ZERO_STATES

# Writing one of these may change the MRR: the history then gets a row.
MRR_INPUTS = {"plan_id", "quantity", "state", "tax_rate_ids", "partner_id", "company_id"}


class VitaSubscription(models.Model):
    """Recurring revenue of a subscription (issue 11): MRR, ARR and the
    history of their changes that the revenue report reads."""

    _inherit = "vita.subscription"  # pylint: disable=consider-merging-classes-inherited

    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company currency")
    mrr = fields.Monetary(
        "MRR",
        currency_field="company_currency_id",
        compute="_compute_mrr",
        store=True,
        help="Monthly recurring revenue, tax excluded, in the company's currency at the rate of the day. "
        "Zero unless the subscription is running (past due and unpaid still count).",
    )
    arr = fields.Monetary(
        "ARR",
        currency_field="company_currency_id",
        compute="_compute_mrr",
        store=True,
        help="Annual recurring revenue: twelve times the MRR.",
    )
    mrr_change_ids = fields.One2many("vita.mrr.change", "subscription_id", string="MRR history", readonly=True)

    @api.depends(
        "amount_untaxed",
        "currency_id",
        "plan_id.interval",
        "plan_id.interval_count",
        "state",
        "company_id.currency_id",
    )
    def _compute_mrr(self):
        rates = {}
        for subscription in self:
            mrr = 0.0
            if subscription.state not in MRR_ZERO_STATES:
                mrr = subscription._vita_mrr_if_running(rates)
            subscription.mrr = mrr
            subscription.arr = subscription.company_currency_id.round(mrr * 12)

    def _vita_mrr_if_running(self, rates):
        """Untaxed amount per month in the company's currency; ``rates``
        caches one conversion rate per currency and company."""
        self.ensure_one()
        plan, company = self.plan_id, self.company_id
        if not plan or not self.currency_id:
            return 0.0
        key = (self.currency_id, company)
        if key not in rates:
            rates[key] = self.env["res.currency"]._get_conversion_rate(
                self.currency_id, company.currency_id, company, fields.Date.context_today(self)
            )
        months = MONTHS_PER_INTERVAL[plan.interval] * (plan.interval_count or 1)
        return company.currency_id.round(self.amount_untaxed / months * rates[key])

    # ------------------------------------------------------------------
    # History
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        subscriptions = super().create(vals_list)
        subscriptions.filtered("mrr")._vita_record_mrr_changes()
        return subscriptions

    def write(self, vals):
        result = super().write(vals)
        if MRR_INPUTS.intersection(vals):
            self._vita_record_mrr_changes()
        return result

    def _vita_last_recorded_mrr(self):
        """{subscription id: the MRR after its latest history row}."""
        self.env["vita.mrr.change"].flush_model(["subscription_id", "date", "mrr_after"])
        self.env.cr.execute(
            """SELECT DISTINCT ON (subscription_id) subscription_id, mrr_after
                 FROM vita_mrr_change
                WHERE subscription_id = ANY(%s)
             ORDER BY subscription_id, date DESC, id DESC""",
            [self.ids],
        )
        return dict(self.env.cr.fetchall())

    def _vita_record_mrr_changes(self, between_running=None, date=None):
        """Append a history row for every subscription whose MRR differs
        from its latest row. Comparing with the history, not with the value
        before a write, keeps the chain whole when writes nest (a push to
        Stripe writes the state back inside the user's write)."""
        if not self:
            return
        last = self._vita_last_recorded_mrr()
        changes = self.env["vita.mrr.change"]
        date = date or fields.Date.context_today(self)
        vals_list = []
        for subscription in self:
            mrr_before = last.get(subscription.id, 0.0)
            if subscription.company_currency_id.compare_amounts(subscription.mrr, mrr_before) == 0:
                continue
            movement = changes._vita_movement(mrr_before, subscription.mrr, subscription.id in last, between_running)
            vals_list.append(
                {
                    "subscription_id": subscription.id,
                    "company_id": subscription.company_id.id,
                    "date": date,
                    "mrr_before": mrr_before,
                    "mrr_after": subscription.mrr,
                    "movement": movement,
                    "cancellation_reason_id": movement == "churn" and subscription.cancellation_reason_id.id,
                }
            )
        # The history is the addon's own bookkeeping, not something users edit.
        changes.sudo().create(vals_list)

    @api.model
    def _cron_refresh_foreign_mrr(self):
        """Daily: the MRR of subscriptions billed in another currency than
        their company's follows the rate of the day; the history records the
        difference as an exchange-rate movement. Then any other difference
        between a running subscription and its history (a plan whose amount
        changed under it) is recorded too."""
        running = self.search([("state", "not in", MRR_ZERO_STATES)])
        foreign = running.filtered(lambda s: s.currency_id != s.company_currency_id)
        for field_name in ("mrr", "arr"):
            self.env.add_to_compute(self._fields[field_name], foreign)
        foreign._recompute_recordset(["mrr", "arr"])
        foreign._vita_record_mrr_changes(between_running="fx")
        running._vita_record_mrr_changes()

    @api.model
    def _vita_init_mrr_history(self):
        """Once, on install or upgrade: a history for the subscriptions that
        have none, from what the records tell (started on the first billing
        date or today if that is ahead, cancelled ones churned on their last
        change)."""
        self.env["vita.mrr.change"].flush_model(["subscription_id"])
        self.env.cr.execute("SELECT DISTINCT subscription_id FROM vita_mrr_change")
        recorded = [row[0] for row in self.env.cr.fetchall()]
        subscriptions = self.search([("id", "not in", recorded), ("state", "!=", "not_subscribed")])
        rates = {}
        vals_list = []
        today = fields.Date.context_today(self)
        for subscription in subscriptions:
            # Never after today: a later change would be dated before it and break the chain.
            started = min(subscription.first_billing_date or subscription.create_date.date(), today)
            mrr = subscription.mrr
            if not mrr and subscription.state == "canceled":
                mrr = subscription._vita_mrr_if_running(rates)
            if not mrr:
                continue
            common = {"subscription_id": subscription.id, "company_id": subscription.company_id.id}
            vals_list.append({**common, "date": started, "mrr_before": 0.0, "mrr_after": mrr, "movement": "new"})
            if subscription.state == "canceled":
                churned = max(started, subscription.write_date.date())
                vals_list.append({**common, "date": churned, "mrr_before": mrr, "mrr_after": 0.0, "movement": "churn"})
        self.env["vita.mrr.change"].sudo().create(vals_list)
