from datetime import UTC, datetime

from odoo import Command, fields, models
from odoo.exceptions import UserError

from ..utils import from_minor_units


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

    def _vita_match_stripe_total(self, stripe_invoice):
        """Make the total what Stripe charged, to the cent.

        Odoo rounds taxes per line or globally by the company setting;
        Stripe has its own rounding (and discounts). A difference becomes
        an explicit untaxed line rather than a wrong total.
        """
        self.ensure_one()
        currency = self.currency_id
        target = from_minor_units(stripe_invoice["total"], currency)
        difference = currency.round(target - self.amount_total)
        if not currency.is_zero(difference):
            self.write(
                {
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": self.env._("Difference with the total charged by Stripe"),
                                "quantity": 1,
                                "price_unit": difference,
                                "tax_ids": [Command.set([])],
                            }
                        )
                    ]
                }
            )
        if currency.compare_amounts(self.amount_total, target):
            raise UserError(
                self.env._(
                    "The Odoo invoice of %(stripe)s totals %(odoo)s instead of %(amount)s.",
                    stripe=stripe_invoice["id"],
                    odoo=currency.format(self.amount_total),
                    amount=currency.format(target),
                )
            )

    def _vita_register_stripe_payment(self, stripe_invoice):
        """Register what Stripe collected, on the day it did, in the
        company's Stripe journal (first bank journal when not set)."""
        self.ensure_one()
        amount = from_minor_units(stripe_invoice.get("amount_paid") or stripe_invoice["total"], self.currency_id)
        paid_at = (stripe_invoice.get("status_transitions") or {}).get("paid_at")
        payment_date = datetime.fromtimestamp(paid_at, UTC).date() if paid_at else fields.Date.context_today(self)
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=self.ids)
            .create(
                {
                    "journal_id": self._vita_stripe_journal().id,
                    "payment_date": payment_date,
                    "amount": amount,
                    "communication": self.payment_reference or self.name,
                }
            )
        )
        return wizard._create_payments()

    def _vita_stripe_journal(self):
        company = self.company_id
        journal = company.vita_journal_id or self.env["account.journal"].search(
            [*self.env["account.journal"]._check_company_domain(company), ("type", "=", "bank")], limit=1
        )
        if not journal:
            raise UserError(self.env._("Set the Stripe payments journal of %s (Subscriptions settings).", company.name))
        return journal
