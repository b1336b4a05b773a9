import re
from datetime import UTC, date, datetime, timedelta

import stripe
from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..const import PARAM_PRORATION, state_from_stripe
from . import stripe_payloads as payloads
from .common import SubscriptionCase


def noon_utc(day):
    return int(datetime.combine(day, datetime.min.time().replace(hour=12), tzinfo=UTC).timestamp())


@tagged("post_install", "-at_install")
class TestSubscriptionRules(SubscriptionCase):
    """What a back-office user may and may not prepare."""

    def test_defaults(self):
        self.env.company.vita_terms = "<p>Pay monthly.</p>"
        subscription = self.prepare()
        self.assertEqual(subscription.state, "not_subscribed")
        self.assertEqual(subscription.quantity, 1)
        self.assertEqual(subscription.contact_id, self.customer)
        self.assertEqual(subscription.currency_id, self.eur)
        self.assertEqual(subscription.mode, "test")
        self.assertEqual(subscription.user_id, self.env.user)
        self.assertIn("Pay monthly", subscription.terms)
        self.assertEqual(subscription.access_url, f"/my/subscriptions/{subscription.id}")

    def test_chatter_does_not_claim_a_stripe_subscription(self):
        subscription = self.prepare()
        bodies = subscription.message_ids.mapped("body")
        self.assertFalse([body for body in bodies if "Stripe subscription created" in body])
        self.assertTrue([body for body in bodies if "not subscribed yet" in body])

    def test_default_terms_in_every_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        company = self.env.company
        company.vita_terms = "<p>Pay monthly.</p>"
        company.update_field_translations("vita_terms", {"fr_FR": {"Pay monthly.": "Paiement mensuel."}})
        subscription = self.prepare()
        self.assertIn("Pay monthly", subscription.terms)
        self.assertIn("Paiement mensuel", subscription.with_context(lang="fr_FR").terms)
        typed = self.prepare(terms="<p>Only for them.</p>")
        self.assertIn("Only for them", typed.with_context(lang="fr_FR").terms)

    def test_default_name_follows_the_plan_until_typed(self):
        subscription = self.env["vita.subscription"].new({"partner_id": self.customer.id})
        self.assertEqual(subscription.name, "New subscription")
        subscription.plan_id = self.plan_monthly
        subscription._onchange_plan_id_name()
        self.assertEqual(subscription.name, "Care")
        subscription.name = "Typed by hand"
        subscription.plan_id = self.plan_yearly
        subscription._onchange_plan_id_name()
        self.assertEqual(subscription.name, "Typed by hand")

    def test_customer_in_another_currency_clears_the_plan_with_a_warning(self):
        usd_customer = self.env["res.partner"].create({"name": "Dollar customer", "is_company": True})
        usd_customer.property_product_pricelist = self.env["product.pricelist"].create(
            {"name": "USD", "currency_id": self.plan_usd.currency_id.id}
        )
        subscription = self.env["vita.subscription"].new(
            {"partner_id": self.customer.id, "plan_id": self.plan_monthly.id, "name": "Care"}
        )
        subscription.partner_id = usd_customer
        result = subscription._onchange_partner_id_currency()
        self.assertFalse(subscription.plan_id)
        self.assertIn("billed in USD, the plan was in EUR", result["warning"]["message"])

    def test_invoices_button_opens_the_only_invoice(self):
        subscription = self.subscribed()
        self.assertEqual(subscription.action_view_invoices().get("view_mode", "list").split(",")[0], "list")
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "vita_subscription_id": subscription.id,
                "invoice_line_ids": [(0, 0, {"name": "Care", "quantity": 1, "price_unit": 25})],
            }
        )
        action = subscription.action_view_invoices()
        self.assertEqual((action["view_mode"], action["res_id"]), ("form", move.id))

    def test_form_buttons_need_a_saved_record(self):
        arch = self.env["vita.subscription"].get_views([(False, "form")])["views"]["form"]["arch"]
        for button in ("action_send_email", "action_preview"):
            tags = re.findall(rf'<button name="{button}"[^>]*>', arch)
            self.assertTrue(tags, f"{button} is on the form")
            for tag in tags:
                self.assertIn('invisible="not id', tag)

    def test_currency_of_the_pricelist_else_of_the_company(self):
        self.assertEqual(self.prepare().currency_id, self.eur, "the customer's pricelist")
        francs = self.env["res.company"].create({"name": "Francs only", "currency_id": self.env.ref("base.CHF").id})
        self.env["product.pricelist"].search([]).active = False
        partner = self.env["res.partner"].create({"name": "No pricelist"})
        subscription = self.env["vita.subscription"].new({"partner_id": partner.id, "company_id": francs.id})
        self.assertEqual(subscription.currency_id.name, "CHF")

    def test_plan_currency_must_match_and_message_names_both(self):
        with self.assertRaisesRegex(ValidationError, "in USD but the customer is billed in EUR"):
            self.prepare(plan_id=self.plan_usd.id)

    def test_quantity_must_be_positive(self):
        for quantity in (0, -2):
            with self.subTest(quantity=quantity), self.assertRaisesRegex(ValidationError, "greater than zero"):
                self.prepare(quantity=quantity)

    def test_first_billing_date_not_in_the_past(self):
        with self.assertRaisesRegex(ValidationError, "cannot be in the past"):
            self.prepare(first_billing_date=fields.Date.context_today(self.env.user) - timedelta(days=1))
        self.assertTrue(self.prepare(first_billing_date=fields.Date.context_today(self.env.user)))

    def test_plan_and_taxes_of_the_subscription_mode(self):
        live_plan = self.plan_monthly.sudo().copy({"stripe_id": "plan_live_copy", "mode": "live"})
        with self.assertRaisesRegex(ValidationError, "live mode"):
            self.prepare(plan_id=live_plan.id)
        live_rate = self.vat.sudo().copy({"stripe_id": "txr_live_copy", "mode": "live"})
        with self.assertRaisesRegex(ValidationError, "live mode"):
            self.prepare(tax_rate_ids=[live_rate.id])

    def test_primary_contact_belongs_to_the_customer(self):
        self.assertEqual(self.prepare(contact_id=self.contact.id).contact_id, self.contact)
        stranger = self.env["res.partner"].create({"name": "Stranger"})
        with self.assertRaisesRegex(ValidationError, "primary contact must be"):
            self.prepare(contact_id=stranger.id)

    def test_amounts_with_taxes(self):
        subscription = self.prepare(quantity=3, tax_rate_ids=[self.vat.id])
        self.assertEqual(subscription.unit_amount, 25.0)
        self.assertEqual(subscription.amount_untaxed, 75.0)
        self.assertEqual(subscription.amount_tax, 15.0)
        self.assertEqual(subscription.amount_total, 90.0)

    def test_customer_smart_button(self):
        self.prepare()
        self.prepare(partner_id=self.contact.id)
        self.assertEqual(self.customer.vita_subscription_count, 2)
        self.assertEqual(self.contact.vita_subscription_count, 2)
        action = self.contact.action_view_vita_subscriptions()
        self.assertEqual(len(self.env["vita.subscription"].search(action["domain"])), 2)


@tagged("post_install", "-at_install")
class TestStatusTable(SubscriptionCase):
    def test_every_stripe_status(self):
        """Each status Stripe documents, with the state it means while the
        first billing date is ahead and once reached; paused has none (the
        state is kept and the responsible user warned)."""
        # https://docs.stripe.com/api/subscriptions/object#subscription_object-status
        documented = {
            "incomplete": ("incomplete", "incomplete"),
            "incomplete_expired": ("incomplete_expired", "incomplete_expired"),
            "trialing": ("future", "active"),
            "active": ("future", "active"),
            "past_due": ("past_due", "past_due"),
            "canceled": ("canceled", "canceled"),
            "unpaid": ("unpaid", "unpaid"),
            "paused": (None, None),
        }
        for status, (ahead, reached) in documented.items():
            with self.subTest(status=status):
                self.assertEqual(state_from_stripe(status, True), ahead)
                self.assertEqual(state_from_stripe(status, False), reached)

    def _apply(self, subscription, **payload):
        subscription._vita_apply_stripe_subscription(self.stripe_object(payloads.subscription(**payload)))

    def stripe_object(self, payload):
        return stripe.Subscription.construct_from(payload, "sk_test_x")

    def test_first_billing_date_is_the_start_day_where_the_user_is(self):
        """Started at 23:30 UTC: already the next day in Brussels, still
        that day in New York (Odoo's today is the user's)."""
        start = datetime.now(UTC).replace(hour=23, minute=30, second=0, microsecond=0) - timedelta(days=1)
        for tz, day in (("Europe/Brussels", start.date() + timedelta(days=1)), ("America/New_York", start.date())):
            subscription = self.prepare().with_context(tz=tz)
            self._apply(subscription, start_date=int(start.timestamp()))
            self.assertEqual(subscription.first_billing_date, day, tz)

    def test_future_with_billing_cycle_anchor_or_trial(self):
        later = int((datetime.now(UTC) + timedelta(days=10)).timestamp())
        subscription = self.prepare()
        self._apply(subscription, billing_cycle_anchor=later)
        self.assertEqual(subscription.state, "future")
        self._apply(subscription, status="trialing", trial_end=later)
        self.assertEqual(subscription.state, "future")
        self._apply(subscription, status="active")
        self.assertEqual(subscription.state, "active")

    def test_next_billing_date_from_the_item_period(self):
        end = datetime(2030, 5, 17, 12, tzinfo=UTC)
        subscription = self.prepare()
        item = payloads.subscription_item("plan_x", period_end=int(end.timestamp()))
        self._apply(subscription, items=[item])
        self.assertEqual(subscription.next_billing_date, date(2030, 5, 17))
        self.assertEqual(subscription.stripe_item_id, "si_Recorded1")

    def test_unknown_status_keeps_state_and_tells_the_responsible(self):
        subscription = self.prepare()
        self._apply(subscription, status="active")
        self._apply(subscription, status="paused")
        self.assertEqual(subscription.state, "active")
        self.assertIn("paused", subscription.stripe_anomaly)
        activity = subscription.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, subscription.user_id)
        self._apply(subscription, status="paused")
        self.assertEqual(len(subscription.activity_ids), 1, "the same anomaly is flagged once")

    def test_several_items_are_flagged_not_changed(self):
        subscription = self.prepare()
        self._apply(subscription, status="active")
        items = [
            payloads.subscription_item("plan_a", item_id="si_1"),
            payloads.subscription_item("plan_b", item_id="si_2"),
        ]
        self._apply(subscription, items=items)
        self.assertIn("2 items", subscription.stripe_anomaly)
        self.assertEqual(subscription.plan_id, self.plan_monthly)
        self.assertEqual(len(subscription.activity_ids), 1)


@tagged("post_install", "-at_install")
class TestStripeCustomer(SubscriptionCase):
    def test_one_customer_per_commercial_partner_reused(self):
        partner = self.env["res.partner"].create(
            {"name": "Fresh company", "is_company": True, "email": "f@example.com"}
        )
        child = self.env["res.partner"].create({"name": "Child", "parent_id": partner.id})
        gateway = self.gateway()
        first = child._vita_stripe_customer(gateway)
        self.assertTrue(first.startswith("cus_"))
        self.assertEqual(partner._vita_stripe_customer(gateway), first)
        self.assertEqual(partner.vita_stripe_customer_test_id, first)
        self.assertFalse(child.vita_stripe_customer_test_id, "stored on the commercial partner")
        stripe_customer = self.localstripe.get(f"customers/{first}")
        self.assertEqual(stripe_customer["name"], "Fresh company")
        self.assertEqual(stripe_customer["metadata"]["odoo_partner_id"], str(partner.id))

    def test_second_subscription_creates_no_second_customer(self):
        with self.recorded_stripe({("POST", "/v1/subscriptions"): (200, payloads.subscription())}) as recorded:
            self.prepare()._vita_stripe_subscribe()
            self.prepare(name="Second")._vita_stripe_subscribe()
        paths = [r["path"] for r in recorded.requests]
        self.assertNotIn("/v1/customers", paths)
        self.assertEqual(paths.count("/v1/subscriptions"), 2)
        self.assertEqual({r["params"]["customer"] for r in recorded.requests}, {self.stripe_customer_id})

    def test_customer_creation_is_idempotent(self):
        partner = self.env["res.partner"].create({"name": "Idem", "is_company": True})
        responses = {("POST", "/v1/customers"): (200, payloads.customer("cus_Idem"))}
        with self.recorded_stripe(responses) as recorded:
            self.assertEqual(partner._vita_stripe_customer(self.gateway()), "cus_Idem")
        key = recorded.requests[0]["headers"]["Idempotency-Key"]
        self.assertIn(f"res.partner-{partner.id}-customer-test", key)


@tagged("post_install", "-at_install")
class TestSubscribe(SubscriptionCase):
    """Creating the Stripe subscription (the portal's Subscribe button)."""

    def test_immediate_start_against_localstripe(self):
        subscription = self.prepare(quantity=2, tax_rate_ids=[self.vat.id])
        self.env.cr.flush()  # prepared in one transaction, subscribed in another
        subscription._vita_stripe_subscribe()
        self.assertEqual(subscription.state, "active")
        self.assertTrue(subscription.stripe_subscription_id.startswith("sub_"))
        self.assertTrue(subscription.stripe_item_id.startswith("si_"))
        self.assertEqual(subscription.first_billing_date, fields.Date.context_today(subscription))
        self.assertEqual(subscription.next_billing_date, fields.Date.today() + relativedelta(months=1))
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        self.assertEqual(stripe_subscription["status"], "active")
        self.assertEqual(stripe_subscription["customer"], self.stripe_customer_id)
        item = stripe_subscription["items"]["data"][0]
        self.assertEqual((item["plan"]["id"], item["quantity"]), (self.plan_monthly.stripe_id, 2))
        self.assertEqual([rate["id"] for rate in item["tax_rates"]], [self.vat.stripe_id])
        self.assertEqual(stripe_subscription["metadata"]["odoo_subscription_id"], str(subscription.id))
        self.assertEqual(stripe_subscription["metadata"]["odoo_name"], "Care for the team")
        self.env.flush_all()
        self.env.cr.flush()  # tracking values are written at flush
        subscription.invalidate_recordset(["message_ids"])
        tracked = subscription.message_ids.tracking_value_ids.filtered(lambda t: t.field_id.name == "state")
        self.assertEqual(tracked.mapped("new_value_char"), ["Active"], "state change tracked in the chatter")

    def test_subscribing_twice_is_refused(self):
        subscription = self.subscribed()
        with self.assertRaisesRegex(UserError, "already subscribed"):
            subscription._vita_stripe_subscribe()

    def test_retry_sends_the_same_idempotency_key(self):
        subscription = self.prepare()
        with self.recorded_stripe({("POST", "/v1/subscriptions"): (200, payloads.subscription())}) as recorded:
            # Stripe answered but the Odoo transaction died before commit:
            # the customer clicks again.
            with self.assertRaises(RuntimeError), self.env.cr.savepoint():
                subscription._vita_stripe_subscribe()
                raise RuntimeError("worker killed before commit")
            self.env.invalidate_all()
            self.assertFalse(subscription.stripe_subscription_id)
            subscription._vita_stripe_subscribe()
        keys = [r["headers"]["Idempotency-Key"] for r in recorded.requests]
        self.assertEqual(len(keys), 2)
        self.assertEqual(len(set(keys)), 1, "Stripe replays the first subscription instead of creating a second")
        self.assertEqual(subscription.stripe_subscription_id, "sub_Recorded1")

    def test_stripe_refusal_leaves_the_record_unchanged(self):
        subscription = self.prepare()
        declined = payloads.error(402, "Your card was declined.", error_type="card_error", code="card_declined")
        with self.recorded_stripe({("POST", "/v1/subscriptions"): declined}):
            with self.assertRaisesRegex(UserError, "The card cannot be used: the card was declined"):
                subscription._vita_stripe_subscribe()
        self.assertEqual(subscription.state, "not_subscribed")
        self.assertFalse(subscription.stripe_subscription_id)
        self.assertFalse(subscription.first_billing_date)

    def test_first_billing_date_within_one_interval_uses_billing_cycle_anchor(self):
        day = fields.Date.today() + timedelta(days=20)
        subscription = self.prepare(first_billing_date=day)
        anchor = noon_utc(day)
        answer = payloads.subscription(billing_cycle_anchor=anchor)
        with self.recorded_stripe({("POST", "/v1/subscriptions"): (200, answer)}) as recorded:
            subscription._vita_stripe_subscribe()
        params = recorded.requests[0]["params"]
        self.assertEqual(params["billing_cycle_anchor"], str(anchor))
        self.assertEqual(params["proration_behavior"], "none")
        self.assertNotIn("trial_end", params)
        self.assertEqual(params["items[0][plan]"], self.plan_monthly.stripe_id)
        self.assertEqual(subscription.state, "future")
        self.assertEqual(subscription.first_billing_date, day)

    def test_first_billing_date_beyond_one_interval_uses_trial_end(self):
        day = fields.Date.today() + relativedelta(months=2)
        subscription = self.prepare(first_billing_date=day)
        answer = payloads.subscription(status="trialing", trial_end=noon_utc(day))
        with self.recorded_stripe({("POST", "/v1/subscriptions"): (200, answer)}) as recorded:
            subscription._vita_stripe_subscribe()
        params = recorded.requests[0]["params"]
        self.assertEqual(params["trial_end"], str(noon_utc(day)))
        self.assertNotIn("billing_cycle_anchor", params)
        self.assertEqual(subscription.state, "future")

    def test_yearly_plan_anchor_up_to_a_year(self):
        day = fields.Date.today() + relativedelta(months=11)
        subscription = self.prepare(plan_id=self.plan_yearly.id, first_billing_date=day)
        answer = payloads.subscription(billing_cycle_anchor=noon_utc(day))
        with self.recorded_stripe({("POST", "/v1/subscriptions"): (200, answer)}) as recorded:
            subscription._vita_stripe_subscribe()
        self.assertIn("billing_cycle_anchor", recorded.requests[0]["params"])

    def test_passed_first_billing_date_becomes_today(self):
        subscription = self.prepare(first_billing_date=fields.Date.today() + timedelta(days=3))
        # The customer subscribes after the date the back office had set.
        self.env.cr.execute(
            "UPDATE vita_subscription SET first_billing_date = %s WHERE id = %s",
            [fields.Date.today() - timedelta(days=2), subscription.id],
        )
        subscription.invalidate_recordset()
        with self.recorded_stripe({("POST", "/v1/subscriptions"): (200, payloads.subscription())}) as recorded:
            subscription._vita_stripe_subscribe()
        params = recorded.requests[0]["params"]
        self.assertFalse({"billing_cycle_anchor", "trial_end"} & set(params))
        self.assertEqual(subscription.first_billing_date, fields.Date.context_today(subscription))
        self.assertEqual(subscription.state, "active")

    def test_inactive_plan_cannot_be_subscribed(self):
        subscription = self.prepare()
        self.plan_monthly.sudo().active = False
        with self.assertRaisesRegex(UserError, "no longer offered"):
            subscription._vita_stripe_subscribe()


@tagged("post_install", "-at_install")
class TestEditSubscribed(SubscriptionCase):
    def test_changes_reach_stripe(self):
        subscription = self.subscribed()
        subscription.write({"quantity": 4, "tax_rate_ids": [self.vat.id]})
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        item = stripe_subscription["items"]["data"][0]
        self.assertEqual(item["quantity"], 4)
        self.assertEqual([rate["id"] for rate in item["tax_rates"]], [self.vat.stripe_id])
        subscription.plan_id = self.plan_yearly
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        self.assertEqual(stripe_subscription["items"]["data"][0]["plan"]["id"], self.plan_yearly.stripe_id)

    def test_name_and_description_sent_as_metadata(self):
        # localstripe ignores metadata updates: check what is sent.
        subscription = self.subscribed()
        path = f"/v1/subscriptions/{subscription.stripe_subscription_id}"
        answer = (200, payloads.subscription(subscription_id=subscription.stripe_subscription_id))
        with self.recorded_stripe({("POST", path): answer}) as recorded:
            subscription.write({"name": "Renamed", "description": "Now with more"})
        params = recorded.requests[0]["params"]
        self.assertEqual(params["metadata[odoo_name]"], "Renamed")
        self.assertEqual(params["metadata[odoo_description]"], "Now with more")
        self.assertEqual(params["metadata[odoo_subscription_id]"], str(subscription.id))

    def test_refusal_rolls_the_change_back(self):
        subscription = self.subscribed()
        refusal = payloads.error(400, "This subscription cannot be updated.")
        with self.recorded_stripe({("POST", f"/v1/subscriptions/{subscription.stripe_subscription_id}"): refusal}):
            # Odoo's assertRaises rolls back to a savepoint like a failed request.
            with self.assertRaises(UserError) as caught:
                subscription.write({"quantity": 7})
        self.assertIn("cannot be updated", str(caught.exception))
        self.assertEqual(subscription.quantity, 1)

    def test_proration_setting(self):
        subscription = self.subscribed()
        path = f"/v1/subscriptions/{subscription.stripe_subscription_id}"
        answer = (200, payloads.subscription(subscription_id=subscription.stripe_subscription_id))
        with self.recorded_stripe({("POST", path): answer}) as recorded:
            subscription.quantity = 2
            self.env["ir.config_parameter"].sudo().set_param(PARAM_PRORATION, False)
            subscription.quantity = 3
        with_proration, without = (r["params"] for r in recorded.requests)
        self.assertNotIn("proration_behavior", with_proration, "Stripe's default: create_prorations")
        self.assertEqual(without["proration_behavior"], "none")
        self.assertEqual(without["items[0][quantity]"], "3")

    def test_removing_all_taxes_clears_them_in_stripe(self):
        subscription = self.subscribed(tax_rate_ids=[self.vat.id])
        path = f"/v1/subscriptions/{subscription.stripe_subscription_id}"
        answer = (200, payloads.subscription(subscription_id=subscription.stripe_subscription_id))
        with self.recorded_stripe({("POST", path): answer}) as recorded:
            subscription.tax_rate_ids = False
        self.assertEqual(recorded.requests[0]["params"]["items[0][tax_rates]"], "")

    def test_customer_and_first_billing_date_frozen_once_subscribed(self):
        subscription = self.subscribed()
        with self.assertRaisesRegex(UserError, "cannot change once the customer has subscribed"):
            subscription.partner_id = self.contact
        with self.assertRaisesRegex(UserError, "cannot change once the customer has subscribed"):
            subscription.first_billing_date = fields.Date.today() + timedelta(days=5)

    def test_name_only_change_sends_no_items(self):
        subscription = self.subscribed()
        path = f"/v1/subscriptions/{subscription.stripe_subscription_id}"
        answer = (200, payloads.subscription(subscription_id=subscription.stripe_subscription_id))
        with self.recorded_stripe({("POST", path): answer}) as recorded:
            subscription.name = "Only the name"
        self.assertFalse([name for name in recorded.requests[0]["params"] if name.startswith("items")])


@tagged("post_install", "-at_install")
class TestCancelReactivate(SubscriptionCase):
    def cancel(self, subscription, when):
        action = subscription.action_cancel()
        wizard = self.env[action["res_model"]].with_context(**action["context"]).create({"when": when})
        wizard.action_confirm()

    def test_cancel_at_period_end_then_reactivate(self):
        subscription = self.subscribed()
        self.cancel(subscription, "period_end")
        self.assertTrue(subscription.cancel_at_period_end)
        self.assertEqual(subscription.state, "active")
        stripe_id = subscription.stripe_subscription_id
        self.assertTrue(self.localstripe.get(f"subscriptions/{stripe_id}")["cancel_at_period_end"])
        subscription.action_reactivate()
        self.assertFalse(subscription.cancel_at_period_end)
        self.assertFalse(self.localstripe.get(f"subscriptions/{stripe_id}")["cancel_at_period_end"])

    def test_cancel_now_can_never_be_reactivated(self):
        subscription = self.subscribed()
        self.cancel(subscription, "now")
        self.assertEqual(subscription.state, "canceled")
        self.assertFalse(subscription.next_billing_date)
        self.assertEqual(
            self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")["status"], "canceled"
        )
        with self.assertRaisesRegex(UserError, "can be reactivated"):
            subscription.action_reactivate()
        with self.assertRaisesRegex(UserError, "Only a running subscription"):
            subscription.action_cancel()

    def test_cancel_at_period_end_then_now_cannot_reactivate(self):
        subscription = self.subscribed()
        self.cancel(subscription, "period_end")
        self.cancel(subscription, "now")
        with self.assertRaisesRegex(UserError, "can be reactivated"):
            subscription.action_reactivate()

    def test_reactivate_needs_a_pending_cancellation(self):
        with self.assertRaisesRegex(UserError, "can be reactivated"):
            self.subscribed().action_reactivate()
        with self.assertRaisesRegex(UserError, "Only a running subscription"):
            self.prepare().action_cancel()

    def test_sync_from_stripe(self):
        subscription = self.subscribed()
        # Cancelled in the Stripe dashboard, webhook not there yet.
        self.localstripe.session.delete(
            f"{self.stripe_url}/v1/subscriptions/{subscription.stripe_subscription_id}", timeout=10
        ).raise_for_status()
        action = subscription.action_sync_from_stripe_button()
        self.assertEqual(subscription.state, "canceled")
        self.assertEqual(action["tag"], "display_notification", "the form tells the user it is done")
        self.assertIn("Cancelled", action["params"]["message"])


@tagged("post_install", "-at_install")
class TestDelete(SubscriptionCase):
    def test_not_subscribed_can_be_deleted_by_a_user(self):
        user = new_test_user(self.env, "vita_del_user", groups="vita_subscriptions.group_subscription_user")
        subscription = self.prepare()
        subscription.with_user(user).unlink()
        self.assertFalse(subscription.exists())

    def test_test_mode_subscribed_is_cancelled_in_stripe_then_deleted(self):
        subscription = self.subscribed()
        stripe_id = subscription.stripe_subscription_id
        user = new_test_user(self.env, "vita_del_user2", groups="vita_subscriptions.group_subscription_user")
        with self.assertRaisesRegex(UserError, "Only subscription managers"):
            subscription.with_user(user).unlink()
        subscription.unlink()
        self.assertFalse(subscription.exists())
        self.assertEqual(self.localstripe.get(f"subscriptions/{stripe_id}")["status"], "canceled")

    def test_live_subscribed_cannot_be_deleted(self):
        subscription = self.subscribed()
        self.env.cr.execute("UPDATE vita_subscription SET mode = 'live' WHERE id = %s", [subscription.id])
        subscription.invalidate_recordset()
        with self.recorded_stripe({}) as recorded:
            with self.assertRaisesRegex(UserError, "cancel it instead"):
                subscription.unlink()
        self.assertFalse(recorded.requests, "nothing cancelled in Stripe")
        self.assertTrue(subscription.exists())

    def test_live_never_subscribed_can_be_deleted(self):
        subscription = self.prepare()
        self.env.cr.execute("UPDATE vita_subscription SET mode = 'live' WHERE id = %s", [subscription.id])
        subscription.invalidate_recordset()
        subscription.unlink()
        self.assertFalse(subscription.exists())


@tagged("post_install", "-at_install")
class TestSendAndAccess(SubscriptionCase):
    def test_send_by_email_to_primary_contact_with_portal_link(self):
        subscription = self.prepare(contact_id=self.contact.id)
        action = subscription.action_send_email()
        composer = self.env["mail.compose.message"].with_context(**action["context"]).create({})
        self.assertEqual(composer.partner_ids, self.contact)
        composer._action_send_mail()
        message = subscription.message_ids.filtered(lambda m: m.message_type == "comment")[:1]
        self.assertEqual(message.partner_ids, self.contact, "sent and kept in the chatter")
        self.assertIn(subscription.get_portal_url(), message.body.replace("&amp;", "&"))
        self.assertIn("access_token=", message.body)
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        self.assertEqual(mail.recipient_ids, self.contact)

    def test_preview_opens_the_portal_page(self):
        subscription = self.prepare()
        action = subscription.action_preview()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertTrue(action["url"].startswith(f"/my/subscriptions/{subscription.id}"))

    def test_access_rights(self):
        subscription = self.prepare()
        user = new_test_user(self.env, "vita_user", groups="vita_subscriptions.group_subscription_user")
        manager = new_test_user(self.env, "vita_mgr", groups="vita_subscriptions.group_subscription_manager")
        portal = new_test_user(self.env, "vita_portal", groups="base.group_portal")
        plain = new_test_user(self.env, "vita_plain", groups="base.group_user")
        self.assertTrue(subscription.with_user(user).read(["name"]))
        self.assertTrue(self.prepare().with_user(user).write({"quantity": 2}))
        self.assertTrue(subscription.with_user(manager).read(["name"]))
        for outsider in (portal, plain):
            with self.assertRaises(AccessError):
                subscription.with_user(outsider).read(["name"])
            with self.assertRaises(AccessError):
                self.env["vita.subscription"].with_user(outsider).create(
                    {"name": "x", "partner_id": self.customer.id, "plan_id": self.plan_monthly.id}
                )

    def test_other_company_cannot_see(self):
        subscription = self.prepare()
        other = self.env["res.company"].create({"name": "Other company"})
        user = new_test_user(
            self.env,
            "vita_other",
            groups="vita_subscriptions.group_subscription_user",
            company_id=other.id,
            company_ids=[other.id],
        )
        self.assertFalse(self.env["vita.subscription"].with_user(user).search([("id", "=", subscription.id)]))
        with self.assertRaises(AccessError):
            subscription.with_user(user).read(["name"])
