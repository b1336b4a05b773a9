from datetime import timedelta
from unittest.mock import patch

import stripe

from odoo import fields
from odoo.tests import tagged

from ..stripe_gateway import StripeGateway
from ..wizards import vita_stripe_import
from .webhook_common import WebhookCase, event, listed, unique


class WorkerKilled(Exception):
    """The worker dies in the middle of a batch."""


class Commits:
    """An injectable ``commit``: each call makes the work so far survive a
    later "kill" (a rollback to the last commit), as COMMIT would."""

    def __init__(self, env):
        self.env = env
        self.count = 0
        self.savepoint = env.cr.savepoint()

    def __call__(self):
        self.count += 1
        self.savepoint.close(rollback=False)
        self.savepoint = self.env.cr.savepoint()

    def kill(self):
        """What PostgreSQL does with the killed worker's transaction."""
        self.savepoint.close(rollback=True)
        self.env.invalidate_all(flush=False)
        self.savepoint = self.env.cr.savepoint()


@tagged("post_install", "-at_install")
class TestImportFromStripe(WebhookCase):
    """Stripe subscriptions created outside Odoo (in localstripe, as in the
    Stripe dashboard) are brought into Odoo by the import wizard."""

    # ------------------------------------------------------------------
    # Fixtures put into localstripe directly
    # ------------------------------------------------------------------

    def stripe_customer(self, name, email=None, metadata=None, address=None):
        data = {"name": name}
        if email:
            data["email"] = email
        for key, value in (metadata or {}).items():
            data[f"metadata[{key}]"] = value
        for key, value in (address or {}).items():
            data[f"address[{key}]"] = value
        customer = self.localstripe._post("customers", data)
        self.localstripe.give_card(customer["id"])
        return customer

    def stripe_subscription(self, customer_id, plan=None, quantity=1, tax_rates=()):
        data = {
            "customer": customer_id,
            "items[0][plan]": (plan or self.plan_monthly).stripe_id,
            "items[0][quantity]": quantity,
        }
        for index, rate in enumerate(tax_rates):
            data[f"items[0][tax_rates][{index}]"] = rate.stripe_id
        return self.localstripe._post("subscriptions", data)

    def eur_partner(self, **values):
        partner = self.env["res.partner"].create({"is_company": True, **values})
        partner.property_product_pricelist = self.eur_pricelist
        return partner

    def load(self, stripe_ids, **values):
        """A loaded wizard importing only ``stripe_ids`` (localstripe also
        holds the subscriptions of the other tests)."""
        wizard = self.env["vita.stripe.import"].create(values)
        wizard.action_load()
        mine = wizard.line_ids.filtered(lambda line: line.stripe_subscription_id in stripe_ids)
        (wizard.line_ids - mine).to_import = False
        return wizard, {line.stripe_subscription_id: line for line in mine}

    def imported(self, stripe_id):
        return self.env["vita.subscription"].search([("stripe_subscription_id", "=", stripe_id)])

    # ------------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------------

    def test_customers_by_link_metadata_email_or_created(self):
        run = unique("run")
        by_metadata = self.eur_partner(name=f"Meta {run}", email=f"meta-odoo-{run}@example.com")
        by_email = self.eur_partner(name=f"Mail {run}", email=f"mail-{run}@example.com")
        customers = {
            "linked": {"id": self.stripe_customer_id},
            "metadata": self.stripe_customer(
                "Meta in Stripe", f"meta-stripe-{run}@example.com", {"odoo_partner_id": by_metadata.id}
            ),
            "email": self.stripe_customer("Mail in Stripe", f"MAIL-{run}@example.com"),
            "new": self.stripe_customer(
                f"New {run}",
                f"new-{run}@example.com",
                address={"line1": "1 rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"},
            ),
        }
        subscriptions = {
            match: self.stripe_subscription(customer["id"], quantity=2, tax_rates=[self.vat])
            for match, customer in customers.items()
        }
        stripe_ids = [s["id"] for s in subscriptions.values()]
        wizard, lines = self.load(stripe_ids)
        self.assertEqual(wizard.mode, "test")
        expected = {"linked": self.customer, "metadata": by_metadata, "email": by_email}
        for match, subscription in subscriptions.items():
            line = lines[subscription["id"]]
            self.assertTrue(line.importable, line.reason)
            self.assertEqual(line.match, match)
            self.assertEqual(line.partner_id, expected.get(match, self.env["res.partner"]))
            self.assertEqual((line.plan_id, line.quantity, line.tax_rate_ids), (self.plan_monthly, 2, self.vat))

        # localstripe keeps a subscription's metadata from its creation:
        # what the import asks Stripe is checked at the gateway.
        update = StripeGateway.update_subscription
        update_customer = StripeGateway.update_customer_metadata
        with (
            patch.object(StripeGateway, "update_subscription", autospec=True, side_effect=update) as updates,
            patch.object(
                StripeGateway, "update_customer_metadata", autospec=True, side_effect=update_customer
            ) as customer_updates,
        ):
            wizard.action_import()
        # Only the customers whose metadata did not name the partner yet.
        self.assertEqual(
            sorted(call.args[1] for call in customer_updates.call_args_list),
            sorted([customers["email"]["id"], customers["new"]["id"]]),
        )
        sent = {call.args[1]: call.args[2]["metadata"] for call in updates.call_args_list}
        self.assertEqual(wizard.state, "done")
        for match, subscription in subscriptions.items():
            record = self.imported(subscription["id"])
            self.assertEqual(len(record), 1, lines[subscription["id"]].result)
            self.assertEqual(record.state, "active")
            self.assertEqual((record.plan_id, record.quantity, record.tax_rate_ids), (self.plan_monthly, 2, self.vat))
            self.assertTrue(record.stripe_item_id)
            self.assertTrue(record.next_billing_date)
            partner = record.partner_id.with_company(self.env.company)
            self.assertEqual(partner.vita_stripe_customer_test_id, customers[match]["id"])
            if match in expected:
                self.assertEqual(record.partner_id, expected[match])
            self.assertEqual(sent[subscription["id"]]["odoo_subscription_id"], str(record.id))
            stripe_customer = self.localstripe.get(f"customers/{customers[match]['id']}")
            self.assertEqual(stripe_customer["metadata"]["odoo_partner_id"], str(record.partner_id.id))
        new_partner = self.imported(subscriptions["new"]["id"]).partner_id
        self.assertEqual(new_partner.name, f"New {run}")
        self.assertEqual(new_partner.email, f"new-{run}@example.com")
        self.assertEqual((new_partner.street, new_partner.city, new_partner.zip), ("1 rue de Rivoli", "Paris", "75001"))
        self.assertEqual(new_partner.country_id.code, "FR")

    def test_partner_chosen_by_the_user(self):
        chosen = self.eur_partner(name="Chosen by hand")
        customer = self.stripe_customer("Someone", f"{unique('someone')}@example.com")
        subscription = self.stripe_subscription(customer["id"])
        wizard, lines = self.load([subscription["id"]])
        self.assertEqual(lines[subscription["id"]].match, "new")
        lines[subscription["id"]].partner_id = chosen
        wizard.action_import()
        self.assertEqual(self.imported(subscription["id"]).partner_id, chosen)

    def test_a_second_run_creates_nothing(self):
        customer = self.stripe_customer("Twice", f"{unique('twice')}@example.com")
        subscription = self.stripe_subscription(customer["id"])
        wizard, lines = self.load([subscription["id"]])
        wizard.action_import()
        record = self.imported(subscription["id"])
        self.assertEqual(len(record), 1)
        partners = self.env["res.partner"].search_count([("email", "=", customer["email"])])

        again, lines_again = self.load([subscription["id"]])
        self.assertNotIn(subscription["id"], lines_again, "a linked subscription is not listed again")
        again.action_import()
        # A resumed run over an old list (the earlier run was killed after
        # this line): the line finds the record and creates nothing.
        line = lines[subscription["id"]]
        line.subscription_id = False
        self.assertEqual(line._vita_import(wizard._vita_gateway()), record)
        self.assertEqual(len(self.imported(subscription["id"])), 1)
        self.assertEqual(self.env["res.partner"].search_count([("email", "=", customer["email"])]), partners)

    def test_nothing_to_import_is_said(self):
        """Load with every Stripe subscription already in Odoo: a sentence,
        not an empty grid (the list is narrowed to this test's Stripe
        subscriptions, as if the account held only them)."""
        customer = self.stripe_customer("Known", f"{unique('known')}@example.com")
        known = self.stripe_subscription(customer["id"])
        wizard, _lines = self.load([known["id"]])
        wizard.action_import()
        self.assertTrue(self.imported(known["id"]))
        expired = stripe.Subscription.construct_from(
            {**known, "id": unique("sub"), "status": "incomplete_expired"}, "sk_test_x"
        )
        everything = StripeGateway.list_subscriptions_with_customers

        def account_of(*extra):
            return patch.object(
                StripeGateway,
                "list_subscriptions_with_customers",
                autospec=True,
                side_effect=lambda gateway: [s for s in everything(gateway) if s.id == known["id"]] + list(extra),
            )

        again = self.env["vita.stripe.import"].create({})
        with account_of():
            again.action_load()
        self.assertFalse(again.line_ids)
        self.assertEqual(
            again.summary, "Nothing to import: every Stripe subscription of this account is already in Odoo."
        )
        with account_of(expired):
            again.action_load()
        self.assertFalse(again.line_ids)
        self.assertIn("except 1 that expired before their first payment", again.summary)
        again.include_incomplete_expired = True
        with account_of(expired):
            again.action_load()
        self.assertEqual(again.line_ids.stripe_subscription_id, expired.id)
        self.assertFalse(again.summary)

    def test_stripe_status_shown_in_words(self):
        """Every status Stripe documents has a label users read (and
        translators translate); one Stripe adds later is named in the reason."""
        # https://docs.stripe.com/api/subscriptions/object#subscription_object-status
        labels = dict(self.env["vita.stripe.import.line"]._fields["stripe_status"]._description_selection(self.env))
        self.assertEqual(
            labels,
            {
                "incomplete": "Incomplete (first payment pending)",
                "incomplete_expired": "Expired before the first payment",
                "trialing": "Trial",
                "active": "Active",
                "past_due": "Past due",
                "canceled": "Cancelled",
                "unpaid": "Unpaid",
                "paused": "Paused (trial ended without a card)",
            },
        )
        customer = self.stripe_customer("Status", f"{unique('status')}@example.com")
        subscription = self.stripe_subscription(customer["id"])
        _wizard, lines = self.load([subscription["id"]])
        self.assertEqual(lines[subscription["id"]].stripe_status, "active")
        newer = {**subscription, "id": unique("sub"), "status": "on_hold"}
        with self.recorded_stripe({("GET", "/v1/subscriptions"): listed("/v1/subscriptions", [newer])}):
            _wizard, lines = self.load([newer["id"]])
        self.assertFalse(lines[newer["id"]].stripe_status)
        self.assertIn("on_hold", lines[newer["id"]].reason)

    def test_several_items_tiered_and_metered_are_refused(self):
        customer = {"id": unique("cus"), "object": "customer", "name": "Dashboard", "email": None, "metadata": {}}

        def item(price):
            return {"id": unique("si"), "object": "subscription_item", "quantity": 1, "price": price}

        def price(billing_scheme="per_unit", usage_type="licensed", price_id=None):
            return {
                "id": price_id or unique("price"),
                "object": "price",
                "billing_scheme": billing_scheme,
                "recurring": {"interval": "month", "interval_count": 1, "usage_type": usage_type},
            }

        def subscription(*items):
            return {
                "id": unique("sub"),
                "object": "subscription",
                "status": "active",
                "customer": customer,
                "metadata": {},
                "items": {"object": "list", "data": list(items), "has_more": False},
            }

        several = subscription(item(price(price_id=self.plan_monthly.stripe_id)), item(price()))
        tiered = subscription(item(price(billing_scheme="tiered")))
        metered = subscription(item(price(usage_type="metered")))
        answers = {("GET", "/v1/subscriptions"): listed("/v1/subscriptions", [several, tiered, metered])}
        with self.recorded_stripe(answers):
            wizard, lines = self.load([several["id"], tiered["id"], metered["id"]])
            self.assertEqual(len(lines), 3)
            for line in lines.values():
                self.assertFalse(line.importable)
                self.assertFalse(line.to_import)
            self.assertIn("2 items", lines[several["id"]].reason)
            self.assertIn("Tiered", lines[tiered["id"]].reason)
            self.assertIn("Metered", lines[metered["id"]].reason)
            wizard.action_import()
        self.assertFalse(self.imported(several["id"]))
        self.assertIn("0 subscriptions imported", wizard.summary)

    def test_backfill_then_webhook_books_the_invoice_once(self):
        self.env.company.vita_journal_id = self.env["account.journal"].search(
            [("company_id", "=", self.env.company.id), ("type", "=", "bank")], limit=1
        )
        customer = self.stripe_customer("Backfill", f"{unique('backfill')}@example.com")
        subscription = self.stripe_subscription(customer["id"], quantity=2, tax_rates=[self.vat])
        yesterday = fields.Date.context_today(self.env.user) - timedelta(days=1)
        wizard, lines = self.load([subscription["id"]], backfill_invoices=True, backfill_since=yesterday)
        wizard.action_import()
        record = self.imported(subscription["id"])
        move = record.invoice_ids
        self.assertEqual(len(move), 1, lines[subscription["id"]].result)
        self.assertEqual(lines[subscription["id"]].invoice_count, 1)
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.amount_total, 60.0)  # 2 x 25.00 + 20 % VAT
        self.assertIn(move.payment_state, ("paid", "in_payment"))

        # The same Stripe invoice now arrives by webhook: nothing new.
        stripe_invoice = self.localstripe.get(f"invoices/{move.vita_stripe_invoice_id}")
        for event_type in ("invoice.payment_succeeded", "invoice.paid"):
            self.assertEqual(self.receive(event(event_type, stripe_invoice)).state, "processed")
        self.assertEqual(record.invoice_ids, move)
        self.assertEqual(
            self.env["account.move"].search_count([("vita_stripe_invoice_id", "=", stripe_invoice["id"])]), 1
        )

    def test_backfill_skips_invoices_before_the_date(self):
        customer = self.stripe_customer("Later", f"{unique('later')}@example.com")
        subscription = self.stripe_subscription(customer["id"])
        tomorrow = fields.Date.context_today(self.env.user) + timedelta(days=1)
        wizard, _lines = self.load([subscription["id"]], backfill_invoices=True, backfill_since=tomorrow)
        wizard.action_import()
        record = self.imported(subscription["id"])
        self.assertEqual(record.state, "active")
        self.assertFalse(record.invoice_ids)

    def test_batches_commit_and_a_killed_run_resumes(self):
        customer = self.stripe_customer(f"Batch {unique('batch')}", f"{unique('batch')}@example.com")
        stripe_ids = [self.stripe_subscription(customer["id"])["id"] for _index in range(5)]
        with patch.object(vita_stripe_import, "BATCH_SIZE", 2):
            wizard, _lines = self.load(stripe_ids)
            wizard.action_import()
            self.assertEqual(wizard.state, "running", "more than one batch: left to the cron job")
            self.assertEqual(wizard.queued_count, 5)
            cron = self.env.ref("vita_subscriptions.ir_cron_stripe_import")
            self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
            self.assertFalse(self.imported(stripe_ids))

            calls = []
            original = type(wizard.line_ids)._vita_import

            def killed_at_the_fourth(line, gateway):
                calls.append(line.stripe_subscription_id)
                if len(calls) == 4:
                    raise WorkerKilled
                return original(line, gateway)

            commits = Commits(self.env)
            with patch.object(type(wizard.line_ids), "_vita_import", autospec=True, side_effect=killed_at_the_fourth):
                try:
                    wizard._cron_import(commit=commits)
                except WorkerKilled:
                    commits.kill()
                else:
                    self.fail("the worker was not killed")
            self.assertEqual(commits.count, 1, "one batch committed before the kill")
            self.assertEqual(wizard.processed_count, 2)
            self.assertEqual(len(self.imported(stripe_ids)), 2, "the third import died with the worker")
            self.assertEqual(wizard.state, "running")

            # The cron job runs again: it goes on from the last commit.
            wizard._cron_import(commit=commits)
        self.assertEqual(commits.count, 1 + 3, "two more batches, then the summary")
        self.assertEqual(wizard.state, "done")
        self.assertEqual((wizard.processed_count, wizard.progress), (5, 100.0))
        self.assertIn("5 subscriptions imported, 0 failed", wizard.summary)
        records = self.imported(stripe_ids)
        self.assertEqual(len(records), 5, "each once")
        self.assertEqual(len(records.partner_id), 1, "one partner for the one new Stripe customer")
