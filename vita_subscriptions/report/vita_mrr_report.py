from odoo import fields, models, tools
from odoo.tools import SQL

from ..const import MRR_MOVEMENTS

REPORT_MONTHS = 24
# Snapshots, not flows: a group of months starts with the MRR (and the
# subscriptions) at the start of its first month and ends with the MRR at
# the end of its last month; summing them over months would count the same
# revenue once per month.
FIRST_MONTH_SNAPSHOTS = ("mrr_start", "subscriptions_start")
LAST_MONTH_SNAPSHOTS = ("mrr_end",)


class VitaMrrReport(models.Model):
    """MRR per subscription and month over the last 24 months, read from the
    MRR history: start, movements by type, end. For every row, and for every
    group (its first month's start + its movements = its last month's end),
    MRR at start + movements = MRR at end."""

    _name = "vita.mrr.report"
    _description = "Recurring revenue report"
    _auto = False
    _order = "month desc, subscription_id"
    _rec_name = "month"

    month = fields.Date(readonly=True)
    subscription_id = fields.Many2one("vita.subscription", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    plan_id = fields.Many2one("vita.stripe.plan", string="Billing plan", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    mrr_start = fields.Monetary("MRR at start", readonly=True)
    new = fields.Monetary(readonly=True)
    expansion = fields.Monetary(readonly=True)
    contraction = fields.Monetary(readonly=True)
    churn = fields.Monetary(readonly=True)
    reactivation = fields.Monetary(readonly=True)
    fx = fields.Monetary("Exchange-rate effect", readonly=True)
    mrr_end = fields.Monetary("MRR at end", readonly=True)
    subscriptions_start = fields.Integer("Subscriptions at start", readonly=True)
    churned_count = fields.Integer("Logo churn", readonly=True, help="Subscriptions that stopped bringing revenue.")
    logo_churn_rate = fields.Float(
        "Logo churn (%)", readonly=True, aggregator="avg", help="Logo churn / subscriptions at start of the month."
    )
    revenue_churn_rate = fields.Float(
        "Revenue churn (%)",
        readonly=True,
        aggregator="avg",
        help="MRR lost to churn and contraction / MRR at start of the month.",
    )
    cancellation_reason_id = fields.Many2one("vita.cancellation.reason", string="Cancellation reason", readonly=True)

    def _vita_movement_columns(self):
        return SQL(", ").join(
            SQL(
                "COALESCE(SUM(c.mrr_after - c.mrr_before) FILTER (WHERE c.movement = %s), 0) AS %s",
                movement,
                SQL.identifier(movement),
            )
            for movement, _label in MRR_MOVEMENTS
        )

    def _query(self):
        return SQL(
            """
            WITH months AS (
                SELECT generate_series(
                    date_trunc('month', CURRENT_DATE) - %(span)s * INTERVAL '1 month',
                    date_trunc('month', CURRENT_DATE),
                    INTERVAL '1 month'
                )::date AS month
            ),
            rows AS (
                SELECT m.month, s.id AS subscription_id, s.commercial_partner_id AS partner_id, s.plan_id,
                       s.company_id, company.currency_id,
                       COALESCE((SELECT c.mrr_after FROM vita_mrr_change c
                                  WHERE c.subscription_id = s.id AND c.date < m.month
                               ORDER BY c.date DESC, c.id DESC LIMIT 1), 0) AS mrr_start,
                       COALESCE((SELECT c.mrr_after FROM vita_mrr_change c
                                  WHERE c.subscription_id = s.id AND c.date < m.month + INTERVAL '1 month'
                               ORDER BY c.date DESC, c.id DESC LIMIT 1), 0) AS mrr_end,
                       movements.*
                  FROM months m
                  JOIN vita_subscription s
                    ON EXISTS (SELECT 1 FROM vita_mrr_change c
                                WHERE c.subscription_id = s.id AND c.date < m.month + INTERVAL '1 month')
                  JOIN res_company company ON company.id = s.company_id
                  CROSS JOIN LATERAL (
                      SELECT %(movements)s,
                             COUNT(*) AS change_count,
                             COUNT(*) FILTER (WHERE c.movement = 'churn') AS churned_count,
                             (ARRAY_AGG(c.cancellation_reason_id ORDER BY c.date DESC, c.id DESC)
                                 FILTER (WHERE c.movement = 'churn'))[1] AS cancellation_reason_id
                        FROM vita_mrr_change c
                       WHERE c.subscription_id = s.id
                         AND c.date >= m.month AND c.date < m.month + INTERVAL '1 month'
                  ) movements
            )
            SELECT ROW_NUMBER() OVER (ORDER BY month, subscription_id) AS id,
                   month, subscription_id, partner_id, plan_id, company_id, currency_id,
                   mrr_start, new, expansion, contraction, churn, reactivation, fx, mrr_end,
                   CASE WHEN mrr_start > 0 THEN 1 ELSE 0 END AS subscriptions_start,
                   churned_count, cancellation_reason_id,
                   CASE WHEN mrr_start > 0 THEN 100.0 * churned_count ELSE 0 END AS logo_churn_rate,
                   CASE WHEN mrr_start > 0 THEN -100.0 * (churn + contraction) / mrr_start ELSE 0 END
                       AS revenue_churn_rate
              FROM rows
             WHERE mrr_start <> 0 OR mrr_end <> 0 OR change_count > 0
            """,
            span=REPORT_MONTHS - 1,
            movements=self._vita_movement_columns(),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))

    def _read_group_select(self, aggregate_spec, query):
        """Snapshots of a group are those of its first or last month; churn
        rates of a group are ratios of the group's totals."""
        fname, _sep, func = aggregate_spec.partition(":")
        if func == "sum" and fname in FIRST_MONTH_SNAPSHOTS + LAST_MONTH_SNAPSHOTS:
            return self._vita_snapshot_sql(fname, query, last=fname in LAST_MONTH_SNAPSHOTS)

        def total(*names):
            return SQL("SUM(%s)", SQL(" + ").join(self._field_to_sql(self._table, name, query) for name in names))

        if aggregate_spec == "revenue_churn_rate:avg":
            lost, base = SQL("-%s", total("churn", "contraction")), total("mrr_start")
        elif aggregate_spec == "logo_churn_rate:avg":
            lost, base = total("churned_count"), total("subscriptions_start")
        else:
            return super()._read_group_select(aggregate_spec, query)
        return SQL("COALESCE(100.0 * %s / NULLIF(%s, 0), 0)", lost, base)

    def _vita_snapshot_sql(self, fname, query, last):
        """The sum of ``fname`` over the group's rows of its first (or last)
        month. The aggregates inside the subquery take only the outer
        query's columns, so PostgreSQL computes them over the group."""
        month = self._field_to_sql(self._table, "month", query)
        value = self._field_to_sql(self._table, fname, query)
        return SQL(
            """(SELECT COALESCE(SUM(snapshot.value), 0)
                  FROM UNNEST(ARRAY_AGG(%s), ARRAY_AGG(%s)) AS snapshot(month, value)
                 WHERE snapshot.month = %s)""",
            month,
            value,
            SQL("MAX(%s)", month) if last else SQL("MIN(%s)", month),
        )
