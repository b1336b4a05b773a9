from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from . import stripe_payloads as payloads
from .common import SubscriptionCase, VitaCase


def stripe_state(subscription, state):
    """Set a state the way the Stripe sync does."""
    subscription.with_context(vita_from_stripe=True).write({"state": state})


class RevenueCase(VitaCase):
    """Plans of every interval in the company's currency and in a foreign
    currency worth 1.25 company units today, created as the sync would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company_currency = cls.company.currency_id
        foreign = (
            cls.env.ref("base.EUR") if cls.company_currency != cls.env.ref("base.EUR") else cls.env.ref("base.USD")
        )
        foreign.active = True
        cls.foreign = foreign
        # 1 company unit = 0.8 foreign units: 1 foreign unit = 1.25 company units.
        cls.env["res.currency.rate"].create(
            {"currency_id": foreign.id, "company_id": cls.company.id, "name": fields.Date.today(), "rate": 0.8}
        )
        cls.customer = cls.customer_in(cls.company_currency, "Revenue customer")
        cls.foreign_customer = cls.customer_in(foreign, "Foreign revenue customer")
        cls.plans = {
            key: cls.plan(amount, interval, count)
            for key, (amount, interval, count) in {
                "day": (10.0, "day", 1),
                "week": (7.0, "week", 2),
                "month": (30.0, "month", 3),
                "year": (1200.0, "year", 2),
                "monthly": (100.0, "month", 1),
                "cheap": (40.0, "month", 1),
            }.items()
        }
        cls.foreign_plan = cls.plan(100.0, "month", 1, currency=foreign)

    @classmethod
    def customer_in(cls, currency, name):
        pricelist = cls.env["product.pricelist"].create({"name": f"{name} pricelist", "currency_id": currency.id})
        customer = cls.env["res.partner"].create({"name": name, "is_company": True})
        customer.property_product_pricelist = pricelist
        return customer

    @classmethod
    def plan(cls, amount, interval, count, currency=None):
        return (
            cls.env["vita.stripe.plan"]
            .sudo()
            .create(
                {
                    "stripe_id": f"plan_revenue_{interval}_{count}_{amount}_{(currency or cls.company_currency).name}",
                    "product_name": "Revenue",
                    "amount": amount,
                    "currency_id": (currency or cls.company_currency).id,
                    "interval": interval,
                    "interval_count": count,
                    "mode": "test",
                    "company_id": cls.company.id,
                }
            )
        )

    def running(self, plan_key="monthly", quantity=1, customer=None, plan=None):
        subscription = self.env["vita.subscription"].create(
            {
                "name": "Revenue",
                "partner_id": (customer or self.customer).id,
                "plan_id": (plan or self.plans[plan_key]).id,
                "quantity": quantity,
            }
        )
        stripe_state(subscription, "active")
        return subscription


@tagged("post_install", "-at_install")
class TestMrr(RevenueCase):
    def test_normalised_to_a_month_for_every_interval(self):
        # Per month: day * 365/12, week * 52/12, month / count, year / (12 * count); quantity 2.
        expected = {"day": 608.33, "week": 30.33, "month": 20.0, "year": 100.0}
        for key, mrr in expected.items():
            with self.subTest(interval=key):
                subscription = self.running(key, quantity=2)
                self.assertAlmostEqual(subscription.mrr, mrr, places=2)
                self.assertAlmostEqual(subscription.arr, self.company_currency.round(mrr * 12), places=2)

    def test_foreign_currency_at_the_rate_of_the_day(self):
        subscription = self.running(customer=self.foreign_customer, plan=self.foreign_plan, quantity=2)
        self.assertEqual(subscription.company_currency_id, self.company_currency)
        self.assertAlmostEqual(subscription.mrr, 250.0, places=2)
        self.assertAlmostEqual(subscription.arr, 3000.0, places=2)

    def test_tax_excluded(self):
        tax = self.env["account.tax"].create(
            {"name": "Included 25 %", "amount": 25.0, "price_include_override": "tax_included"}
        )
        rate = (
            self.env["vita.stripe.tax.rate"]
            .sudo()
            .create(
                {
                    "stripe_id": "txr_revenue_included",
                    "name": "Included 25 %",
                    "percentage": 25.0,
                    "inclusive": True,
                    "tax_id": tax.id,
                    "mode": "test",
                    "company_id": self.company.id,
                }
            )
        )
        subscription = self.running()
        subscription.tax_rate_ids = rate
        self.assertAlmostEqual(subscription.mrr, 80.0, places=2)

    def test_zero_unless_running_and_past_due_unpaid_counted(self):
        # Each state as Stripe's status first brings it onto a prepared subscription.
        expected = {
            "future": 100.0,
            "active": 100.0,
            "past_due": 100.0,
            "unpaid": 100.0,
            "incomplete": 0.0,
            "incomplete_expired": 0.0,
            "canceled": 0.0,
        }
        for state, mrr in expected.items():
            with self.subTest(state=state):
                subscription = self.env["vita.subscription"].create(
                    {"name": state, "partner_id": self.customer.id, "plan_id": self.plans["monthly"].id}
                )
                self.assertEqual(subscription.mrr, 0.0, "not subscribed")
                stripe_state(subscription, state)
                self.assertEqual(subscription.mrr, mrr)

    def test_stored_and_searchable_follows_plan_quantity_state(self):
        subscription = self.running()
        Subscription = self.env["vita.subscription"]
        subscription.quantity = 3
        self.assertEqual(subscription.mrr, 300.0)
        self.assertIn(subscription, Subscription.search([("mrr", "=", 300.0)]))
        subscription.plan_id = self.plans["cheap"]
        self.assertIn(subscription, Subscription.search([("mrr", "=", 120.0)]))
        stripe_state(subscription, "past_due")
        at_risk = Subscription.search([("state", "in", ("past_due", "unpaid")), ("mrr", ">", 0)])
        self.assertIn(subscription, at_risk)
        stripe_state(subscription, "canceled")
        self.assertIn(subscription, Subscription.search([("mrr", "=", 0)]))

    def test_history_records_each_movement_in_a_chain(self):
        subscription = self.running()
        subscription.quantity = 3
        subscription.plan_id = self.plans["cheap"]
        stripe_state(subscription, "past_due")  # still counted: no movement
        stripe_state(subscription, "canceled")
        stripe_state(subscription, "active")
        history = subscription.mrr_change_ids.sorted("id")
        self.assertEqual(
            [(c.movement, c.mrr_before, c.mrr_after) for c in history],
            [
                ("new", 0.0, 100.0),
                ("expansion", 100.0, 300.0),
                ("contraction", 300.0, 120.0),
                ("churn", 120.0, 0.0),
                ("reactivation", 0.0, 120.0),
            ],
        )
        self.assertEqual(set(history.mapped("date")), {fields.Date.context_today(subscription)})

    def test_prepared_subscription_has_no_history(self):
        subscription = self.env["vita.subscription"].create(
            {"name": "Prepared", "partner_id": self.customer.id, "plan_id": self.plans["monthly"].id}
        )
        self.assertEqual(subscription.mrr, 0.0)
        self.assertFalse(subscription.mrr_change_ids)

    def test_rate_change_recorded_by_the_daily_cron(self):
        subscription = self.running(customer=self.foreign_customer, plan=self.foreign_plan)
        self.assertAlmostEqual(subscription.mrr, 125.0, places=2)
        self.env["res.currency.rate"].search(
            [
                ("currency_id", "=", self.foreign.id),
                ("name", "=", fields.Date.today()),
                ("company_id", "=", self.company.id),
            ]
        ).rate = 0.5
        self.env["vita.subscription"]._cron_refresh_foreign_mrr()
        self.assertAlmostEqual(subscription.mrr, 200.0, places=2)
        last = subscription.mrr_change_ids.sorted("id")[-1]
        self.assertEqual((last.movement, last.mrr_before, last.mrr_after), ("fx", 125.0, 200.0))

    def test_cron_recompute_query_count_does_not_grow(self):
        def cron_queries(count):
            for _i in range(count):
                self.running(customer=self.foreign_customer, plan=self.foreign_plan)
            rate = self.env["res.currency.rate"].search(
                [("currency_id", "=", self.foreign.id), ("company_id", "=", self.company.id)], limit=1
            )
            rate.rate = rate.rate + 0.01
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.env["vita.subscription"]._cron_refresh_foreign_mrr()
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

        few = cron_queries(2)
        many = cron_queries(10)
        self.assertEqual(few, many)

    def test_plan_amount_changed_under_a_subscription_is_recorded_by_the_cron(self):
        subscription = self.running()
        self.plans["monthly"].sudo().amount = 110.0
        self.assertEqual(subscription.mrr, 110.0)
        self.env["vita.subscription"]._cron_refresh_foreign_mrr()
        last = subscription.mrr_change_ids.sorted("id")[-1]
        self.assertEqual((last.movement, last.mrr_before, last.mrr_after), ("expansion", 100.0, 110.0))

    def test_init_history_from_existing_records(self):
        subscription = self.running()
        stripe_state(subscription, "canceled")
        subscription.mrr_change_ids.unlink()
        self.env["vita.subscription"]._vita_init_mrr_history()
        self.assertEqual(
            [(c.movement, c.mrr_before, c.mrr_after) for c in subscription.mrr_change_ids.sorted("id")],
            [("new", 0.0, 100.0), ("churn", 100.0, 0.0)],
        )
        self.env["vita.subscription"]._vita_init_mrr_history()
        self.assertEqual(len(subscription.mrr_change_ids), 2, "run twice, recorded once")

    def test_init_history_of_a_future_subscription_is_not_dated_ahead(self):
        subscription = self.running()
        subscription.with_context(vita_from_stripe=True).write(
            {"first_billing_date": fields.Date.context_today(subscription) + relativedelta(months=1), "state": "future"}
        )
        subscription.mrr_change_ids.unlink()
        self.env["vita.subscription"]._vita_init_mrr_history()
        self.assertEqual(subscription.mrr_change_ids.date, fields.Date.context_today(subscription))


@tagged("post_install", "-at_install")
class TestRevenueReport(RevenueCase):
    """A hand-computed fixture over the five last months (M-5 … M-1):

    A: new 100 (M-5), +50 (M-4), churn 150 "Too expensive" (M-2), reactivated at 120 (M-1)
    B: new 200 (M-5), down to 80 then up to 100 (M-3)
    C: new 50 and churned (M-4)
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.this_month = fields.Date.today().replace(day=1)
        cls.too_expensive = cls.env.ref("vita_subscriptions.cancellation_reason_too_expensive")
        Subscription = cls.env["vita.subscription"]
        cls.subscriptions = a, b, c = Subscription.create(
            [{"name": name, "partner_id": cls.customer.id, "plan_id": cls.plans["monthly"].id} for name in "ABC"]
        )
        rows = [
            (a, -5, 3, 0, 100, "new"),
            (a, -4, 10, 100, 150, "expansion"),
            (a, -2, 20, 150, 0, "churn"),
            (a, -1, 5, 0, 120, "reactivation"),
            (b, -5, 15, 0, 200, "new"),
            (b, -3, 1, 200, 80, "contraction"),
            (b, -3, 28, 80, 100, "expansion"),
            (c, -4, 1, 0, 50, "new"),
            (c, -4, 25, 50, 0, "churn"),
        ]
        cls.env["vita.mrr.change"].sudo().create(
            [
                {
                    "subscription_id": subscription.id,
                    "company_id": cls.company.id,
                    "date": cls.month(offset) + relativedelta(day=day),
                    "mrr_before": before,
                    "mrr_after": after,
                    "movement": movement,
                    "cancellation_reason_id": subscription == a and movement == "churn" and cls.too_expensive.id,
                }
                for subscription, offset, day, before, after, movement in rows
            ]
        )

    @classmethod
    def month(cls, offset):
        return cls.this_month + relativedelta(months=offset)

    def by_month(self, measures, domain=()):
        groups = self.env["vita.mrr.report"]._read_group(
            [("subscription_id", "in", self.subscriptions.ids), *domain], ["month:month"], measures
        )
        return {month: values for month, *values in groups}

    def total(self, measures, domain=()):
        """One group over every row of the domain, as the pivot's Total."""
        [values] = self.env["vita.mrr.report"]._read_group(
            [("subscription_id", "in", self.subscriptions.ids), *domain], [], measures
        )
        return [float(value) for value in values]

    def test_months_tie_out_on_the_fixture(self):
        measures = ["mrr_start:sum", "new:sum", "expansion:sum", "contraction:sum", "churn:sum"]
        measures += ["reactivation:sum", "fx:sum", "mrr_end:sum", "churned_count:sum"]
        expected = {
            -5: [0, 300, 0, 0, 0, 0, 0, 300, 0],
            -4: [300, 50, 50, 0, -50, 0, 0, 350, 1],
            -3: [350, 0, 20, -120, 0, 0, 0, 250, 0],
            -2: [250, 0, 0, 0, -150, 0, 0, 100, 1],
            -1: [100, 0, 0, 0, 0, 120, 0, 220, 0],
            0: [220, 0, 0, 0, 0, 0, 0, 220, 0],
        }
        report = self.by_month(measures)
        self.assertEqual(sorted(report), [self.month(offset) for offset in sorted(expected)])
        for offset, values in expected.items():
            with self.subTest(month=offset):
                self.assertEqual([float(v) for v in report[self.month(offset)]], [float(v) for v in values])
        for month, (start, *movements, end, _churned) in report.items():
            with self.subTest(month=month):
                self.assertAlmostEqual(start + sum(movements), end, places=2)

    def test_snapshots_of_a_group_are_its_first_and_last_months(self):
        """MRR at start is the first month's, MRR at end the last month's,
        movements are summed: start + movements = end for any group."""
        measures = ["mrr_start:sum", "new:sum", "expansion:sum", "contraction:sum", "churn:sum"]
        measures += ["reactivation:sum", "fx:sum", "mrr_end:sum", "subscriptions_start:sum"]
        # Every month (M-5 … M): starts at M-5 with nothing, ends at M with 220, not six times 220.
        self.assertEqual(self.total(measures), [0, 350, 70, -120, -200, 120, 0, 220, 0])
        # M-4 … M-2: starts at M-4 (A 100 + B 200), ends at M-2 (B 100).
        window = [("month", ">=", self.month(-4)), ("month", "<=", self.month(-2))]
        self.assertEqual(self.total(measures, window), [300, 50, 70, -120, -200, 0, 0, 100, 2])
        # By subscription, every month: each its own first and last month (C's is M-4).
        groups = self.env["vita.mrr.report"]._read_group(
            [("subscription_id", "in", self.subscriptions.ids)], ["subscription_id"], ["mrr_start:sum", "mrr_end:sum"]
        )
        a, b, c = self.subscriptions
        self.assertEqual({s: (start, end) for s, start, end in groups}, {a: (0, 120), b: (0, 100), c: (0, 0)})

    def test_pivot_shows_the_currency_and_names_the_exchange_rate_effect(self):
        report = self.env["vita.mrr.report"]
        arch = report.get_views([(False, "pivot")])["views"]["pivot"]["arch"]
        self.assertIn('<field name="currency_id" type="col"/>', arch)
        groups = report._read_group(
            [("subscription_id", "in", self.subscriptions.ids)], ["currency_id"], ["mrr_end:sum"]
        )
        self.assertEqual(groups, [(self.company_currency, 220.0)])
        self.assertEqual(report._fields["fx"].string, "Exchange-rate effect")
        for name in ("mrr_start", "fx", "mrr_end"):
            self.assertEqual(report._fields[name].type, "monetary", name)

    def test_churn_rates_are_ratios_of_the_month(self):
        report = self.by_month(["revenue_churn_rate:avg", "logo_churn_rate:avg"])
        self.assertAlmostEqual(report[self.month(-4)][0], 100 * 50 / 300, places=2)
        self.assertAlmostEqual(report[self.month(-3)][0], 100 * 120 / 350, places=2)
        self.assertAlmostEqual(report[self.month(-2)][0], 100 * 150 / 250, places=2)
        self.assertAlmostEqual(report[self.month(-2)][1], 50.0, places=2)  # A of A and B
        self.assertAlmostEqual(report[self.month(-1)][0], 0.0, places=2)

    def test_churn_by_reason(self):
        groups = self.env["vita.mrr.report"]._read_group(
            [("subscription_id", "in", self.subscriptions.ids), ("churned_count", ">", 0)],
            ["cancellation_reason_id"],
            ["churn:sum", "churned_count:sum"],
        )
        self.assertEqual(
            {reason: (churn, count) for reason, churn, count in groups},
            {self.too_expensive: (-150.0, 1), self.env["vita.cancellation.reason"]: (-50.0, 1)},
        )

    def test_views_and_public_read_group_for_a_subscription_user(self):
        user = new_test_user(self.env, "revenue_user", groups="vita_subscriptions.group_subscription_user")
        report = self.env["vita.mrr.report"].with_user(user)
        views = report.get_views([(False, "pivot"), (False, "graph"), (False, "list"), (False, "search")])
        self.assertEqual(set(views["views"]), {"pivot", "graph", "list", "search"})
        groups = report.read_group(
            [("subscription_id", "in", self.subscriptions.ids)],
            ["mrr_end:sum", "revenue_churn_rate:avg"],
            ["month:month"],
            orderby="month:month",
        )
        self.assertEqual(groups[-1]["mrr_end"], 220.0)
        self.assertAlmostEqual(groups[-3]["revenue_churn_rate"], 60.0, places=2)
        with self.assertRaises(AccessError):
            self.env["vita.cancellation.reason"].with_user(user).create({"name": "Not mine to add"})

    def test_report_outside_24_months_is_left_out(self):
        old = date(2000, 1, 1)
        self.env["vita.mrr.change"].sudo().create(
            {
                "subscription_id": self.subscriptions[0].id,
                "company_id": self.company.id,
                "date": old,
                "mrr_before": 0,
                "mrr_after": 1,
                "movement": "new",
            }
        )
        months = self.by_month(["__count"])
        self.assertEqual(min(months), self.month(-23))


@tagged("post_install", "-at_install")
class TestCancellationReason(SubscriptionCase):
    def cancel(self, subscription, when, reason, comment=False):
        action = subscription.action_cancel()
        wizard = (
            self.env[action["res_model"]]
            .with_context(**action["context"])
            .create({"when": when, "reason_id": reason.id, "comment": comment})
        )
        wizard.action_confirm()

    def fake_subscribed(self):
        subscription = self.prepare()
        subscription.with_context(vita_from_stripe=True).write(
            {"stripe_subscription_id": "sub_Recorded1", "stripe_item_id": "si_Recorded1", "state": "active"}
        )
        return subscription

    def test_every_reason_maps_to_a_stripe_feedback_code(self):
        reasons = self.env["vita.cancellation.reason"].search([])
        self.assertGreaterEqual(len(reasons), 5)
        self.assertEqual(
            self.env.ref("vita_subscriptions.cancellation_reason_switched_service").stripe_feedback, "switched_service"
        )

    def test_reason_sent_when_cancelling_now(self):
        subscription = self.fake_subscribed()
        reason = self.env.ref("vita_subscriptions.cancellation_reason_too_expensive")
        answer = (200, payloads.subscription(status="canceled"))
        with self.recorded_stripe({("DELETE", "/v1/subscriptions/sub_Recorded1"): answer}) as recorded:
            self.cancel(subscription, "now", reason, "Half the price elsewhere")
        params = recorded.requests[0]["params"]
        self.assertEqual(params["cancellation_details[feedback]"], "too_expensive")
        self.assertEqual(params["cancellation_details[comment]"], "Half the price elsewhere")
        self.assertEqual(subscription.state, "canceled")
        self.assertEqual(subscription.cancellation_reason_id, reason)
        churn = subscription.mrr_change_ids.filtered(lambda c: c.movement == "churn")
        self.assertEqual(churn.cancellation_reason_id, reason)

    def test_reason_sent_when_cancelling_at_period_end(self):
        subscription = self.fake_subscribed()
        reason = self.env.ref("vita_subscriptions.cancellation_reason_missing_features")
        answer = (200, payloads.subscription(cancel_at_period_end=True))
        with self.recorded_stripe({("POST", "/v1/subscriptions/sub_Recorded1"): answer}) as recorded:
            self.cancel(subscription, "period_end", reason)
        params = recorded.requests[0]["params"]
        self.assertEqual(params["cancel_at_period_end"], "true")
        self.assertEqual(params["cancellation_details[feedback]"], "missing_features")
        self.assertNotIn("cancellation_details[comment]", params)

    def test_reason_kept_by_stripe_and_forgotten_on_reactivation(self):
        subscription = self.subscribed()
        reason = self.env.ref("vita_subscriptions.cancellation_reason_unused")
        self.cancel(subscription, "period_end", reason, "Team moved on")
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        self.assertEqual(
            stripe_subscription["cancellation_details"], {"feedback": "unused", "comment": "Team moved on"}
        )
        subscription.action_reactivate()
        self.assertFalse(subscription.cancellation_reason_id)
        self.assertFalse(subscription.cancellation_comment)
