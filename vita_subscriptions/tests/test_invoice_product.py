from odoo import SUPERUSER_ID, Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .webhook_common import WebhookCase, event, invoice, invoice_line, old_invoice


@tagged("post_install", "-at_install")
class TestInvoiceProductAndSalesperson(WebhookCase):
    """Invoices from Stripe carry the plan's product (reports by product,
    its income account) with Stripe's taxes, and the subscription's
    responsible as salesperson, never OdooBot."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        company.vita_journal_id = cls.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
        )
        cls.income = cls.env["account.account"].create(
            {"name": "Subscription revenue", "code": "706199", "account_type": "income", "company_ids": company.ids}
        )
        # The product's own tax differs from Stripe's: the invoice keeps Stripe's.
        product_tax = cls.env["account.tax"].create({"name": "Product tax 7 %", "amount": 7.0, "type_tax_use": "sale"})
        cls.care = cls.env["product.product"].create(
            {
                "name": "Care subscription",
                "type": "service",
                "property_account_income_id": cls.income.id,
                "taxes_id": [Command.set(product_tax.ids)],
            }
        )
        cls.care_yearly = cls.env["product.product"].create({"name": "Care yearly", "type": "service"})
        cls.plan_monthly.product_id = cls.care
        cls.plan_yearly.product_id = cls.care_yearly
        cls.responsible = new_test_user(cls.env, "rita.responsible", groups="base.group_user", name="Rita Responsible")

    def paid(self, subscription, stripe_invoice, event_type="invoice.paid"):
        record = self.receive(event(event_type, stripe_invoice))
        self.assertEqual(record.state, "processed", record.error)
        return subscription.invoice_ids.filtered(lambda m: m.vita_stripe_invoice_id == stripe_invoice["id"])

    def test_lines_carry_the_plan_product_with_stripe_taxes(self):
        subscription = self.linked(tax_rate_ids=[self.vat.id], user_id=self.responsible.id)
        line = invoice_line(2500, tax_rates=[(self.vat.stripe_id, 400)], discounts=[("di_coupon", 500)])
        move = self.paid(subscription, invoice(subscription.stripe_subscription_id, [line]))
        self.assertEqual(len(move.invoice_line_ids), 2, "the plan line and its discount")
        self.assertEqual(move.invoice_line_ids.product_id, self.care)
        self.assertEqual(move.invoice_line_ids.account_id, self.income)
        self.assertEqual(move.invoice_line_ids.tax_ids, self.vat.tax_id, "Stripe's taxes, not the product's")
        self.assertAlmostEqual(move.amount_total, 24.0, places=2)
        self.assertEqual(move.invoice_user_id, self.responsible)

    def test_line_of_another_synced_plan_takes_its_product(self):
        subscription = self.linked()
        line = invoice_line(25000)
        line["pricing"]["price_details"]["price"] = self.plan_yearly.stripe_id
        move = self.paid(subscription, invoice(subscription.stripe_subscription_id, [line]))
        self.assertEqual(move.invoice_line_ids.product_id, self.care_yearly)

    def test_older_api_shape_unknown_price_falls_back_to_the_subscription_plan(self):
        subscription = self.linked(quantity=2)
        move = self.paid(
            subscription,
            old_invoice(subscription.stripe_subscription_id, 2500, 2, total=5000),
            "invoice.payment_succeeded",
        )
        self.assertEqual(move.invoice_line_ids.product_id, self.care)

    def test_plan_without_product_keeps_the_journal_income_account(self):
        self.plan_monthly.product_id = False
        subscription = self.linked()
        stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(2500)])
        move = self.paid(subscription, stripe_invoice)
        self.assertFalse(move.invoice_line_ids.product_id)
        self.assertEqual(move.invoice_line_ids.account_id, move.journal_id.default_account_id)

    def test_salesperson_is_never_odoobot(self):
        """The webhook handles events as the superuser (OdooBot), whom Odoo
        would make the salesperson; a responsible that is OdooBot (a record
        created by a cron or an import) is no salesperson either."""
        root = self.env.ref("base.user_root")
        self.assertEqual(self.env.uid, SUPERUSER_ID)
        for user_id in (root.id, False):
            with self.subTest(responsible=user_id):
                subscription = self.linked(user_id=user_id)
                stripe_invoice = invoice(subscription.stripe_subscription_id, [invoice_line(2500)])
                move = self.paid(subscription, stripe_invoice)
                self.assertFalse(move.invoice_user_id)

    def test_plan_product_is_the_only_field_set_in_odoo(self):
        manager = new_test_user(
            self.env, "vita.manager", groups="base.group_user,vita_subscriptions.group_subscription_manager"
        )
        plan = self.plan_monthly.with_user(manager)
        plan.product_id = self.care_yearly
        self.assertEqual(self.plan_monthly.product_id, self.care_yearly)
        with self.assertRaises(AccessError):
            plan.amount = 1.0
