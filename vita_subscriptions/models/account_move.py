import logging

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..utils import from_stripe_amount, stripe_date, to_stripe_amount

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    _inherit = "account.move"

    vita_subscription_id = fields.Many2one(
        "vita.subscription", string="Subscription", index="btree_not_null", copy=False, readonly=True
    )
    vita_stripe_invoice_id = fields.Char("Stripe invoice", copy=False, readonly=True, index="btree_not_null")
    vita_stripe_invoice_url = fields.Char("Stripe invoice link", copy=False, readonly=True)
    vita_stripe_credit_note_id = fields.Char("Stripe credit note", copy=False, readonly=True, index="btree_not_null")
    vita_bad_debt_move_id = fields.Many2one(
        "account.move",
        string="Bad debt write-off",
        copy=False,
        readonly=True,
        help="The entry that closed this invoice's receivable when Stripe marked it uncollectible.",
    )

    _sql_constraints = [
        (
            "vita_stripe_credit_note_unique",
            "UNIQUE(company_id, vita_stripe_credit_note_id)",
            "This Stripe credit note already has an Odoo credit note.",
        ),
        (
            "vita_stripe_invoice_unique",
            "UNIQUE(company_id, vita_stripe_invoice_id)",
            "This Stripe invoice already has an Odoo invoice.",
        ),
    ]

    @api.depends("vita_stripe_invoice_id")
    def _compute_display_qr_code(self):
        """No bank-transfer QR code on an invoice Stripe collects."""
        result = super()._compute_display_qr_code()
        self.filtered("vita_stripe_invoice_id").display_qr_code = False
        return result

    def _has_to_be_paid(self):
        """Stripe collects the invoices of subscriptions (the card or
        mandate on file, or its hosted page): the portal never offers to pay
        them through Odoo as well."""
        return not self.vita_stripe_invoice_id and super()._has_to_be_paid()

    def _vita_match_stripe_amounts(self, stripe_invoice, tax_amounts):
        """Make untaxed amount, tax per rate and total what Stripe charged,
        to the cent.

        The lines already reproduce Stripe's arithmetic (discounts carry
        the taxes of what they discount); what remains is rounding: Stripe
        rounds the tax of each line after its discounts, Odoo each Odoo
        line. A difference of at most one rounding unit per line is taken
        on the tax line of that rate (taxes) and on an untaxed, logged
        rounding line (untaxed amount); anything bigger fails the event.
        ``tax_amounts``: {account.tax: amount} from Stripe, or None when
        the payload gives no tax totals (old API versions).
        """
        self.ensure_one()
        currency = self.currency_id
        tolerance = currency.rounding * len(self.invoice_line_ids)
        total = from_stripe_amount(stripe_invoice["total"], currency)
        if tax_amounts is None:
            untaxed = total - self.amount_tax
        elif isinstance(stripe_invoice.get("total_excluding_tax"), int):
            untaxed = from_stripe_amount(stripe_invoice["total_excluding_tax"], currency)
        else:
            untaxed = total - sum(tax_amounts.values())
        self._vita_add_rounding_line(currency.round(untaxed - self.amount_untaxed), tolerance, stripe_invoice)
        if tax_amounts is not None:
            self._vita_align_tax_lines(tax_amounts, tolerance, stripe_invoice)
        if currency.compare_amounts(self.amount_total, total):
            raise UserError(
                self.env._(
                    "The Odoo invoice of %(stripe)s totals %(odoo)s instead of %(amount)s.",
                    stripe=stripe_invoice["id"],
                    odoo=currency.format(self.amount_total),
                    amount=currency.format(total),
                )
            )

    def _vita_add_rounding_line(self, difference, tolerance, stripe_invoice):
        currency = self.currency_id
        if currency.is_zero(difference):
            return
        if abs(difference) > tolerance + currency.rounding / 2:
            raise UserError(
                self.env._(
                    "The untaxed amount of the Odoo invoice of %(stripe)s differs from Stripe's by %(difference)s.",
                    stripe=stripe_invoice["id"],
                    difference=currency.format(difference),
                )
            )
        _logger.warning("Stripe invoice %s: rounding line of %s %s", stripe_invoice["id"], difference, currency.name)
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

    def _vita_align_tax_lines(self, tax_amounts, tolerance, stripe_invoice):
        """Each tax line holds Stripe's amount for its rate (Odoo keeps tax
        amounts edited on a draft invoice, as its tax totals widget does)."""
        currency = self.currency_id
        sign = -1 if self.is_inbound() else 1
        tax_lines = self.line_ids.filtered("tax_line_id")
        for tax in tax_lines.tax_line_id | self.env["account.tax"].union(*tax_amounts):
            lines = tax_lines.filtered(lambda line, tax=tax: line.tax_line_id == tax)
            delta = currency.round(sum(lines.mapped("amount_currency")) * sign - tax_amounts.get(tax, 0.0))
            if currency.is_zero(delta):
                continue
            if not lines or abs(delta) > tolerance + currency.rounding / 2:
                raise UserError(
                    self.env._(
                        "The %(tax)s of the Odoo invoice of %(stripe)s differs from Stripe's by %(difference)s.",
                        tax=tax.name,
                        stripe=stripe_invoice["id"],
                        difference=currency.format(delta),
                    )
                )
            self.write(
                {
                    "line_ids": [
                        Command.update(lines[0].id, {"amount_currency": lines[0].amount_currency - delta * sign})
                    ]
                }
            )

    def _vita_register_stripe_payment(self, stripe_invoice):
        """Register what Stripe collected, on the day it did, in the
        company's Stripe journal (first bank journal when not set), and the
        customer credit balance Stripe applied as a payment of its own;
        the chatter says which is which.

        Stripe's ``amount_paid`` is what it charged; the rest of ``total``
        came from the customer's balance (``starting_balance`` < 0).
        https://docs.stripe.com/invoicing/customer/balance
        """
        self.ensure_one()
        currency = self.currency_id
        collected = from_stripe_amount(stripe_invoice.get("amount_paid") or 0, currency)
        # Payments already registered one by one (invoice_payment.paid) are
        # part of amount_paid: only the rest is registered here.
        collected = max(
            collected - sum(self.matched_payment_ids.filtered("vita_stripe_payment_id").mapped("amount")), 0
        )
        # Credit notes issued before payment reduce what is due; they
        # become Odoo credit notes of their own (credit_note.created).
        credited = from_stripe_amount(stripe_invoice.get("pre_payment_credit_notes_amount") or 0, currency)
        balance_applied = currency.round(self.amount_residual - collected - credited)
        paid_at = (stripe_invoice.get("status_transitions") or {}).get("paid_at")
        payment_date = stripe_date(paid_at) or fields.Date.context_today(self)
        reference = self.payment_reference or self.name
        payments = self.env["account.payment"]
        if currency.compare_amounts(collected, 0) > 0:
            payments |= self._vita_register_payment(collected, payment_date, reference)
        if currency.compare_amounts(balance_applied, 0) > 0:
            memo = self.env._("%s (Stripe customer credit balance)", reference)
            payments |= self._vita_register_payment(balance_applied, payment_date, memo)
            self.message_post(
                body=self.env._(
                    "Stripe collected %(collected)s and applied %(balance)s of the customer's credit balance.",
                    collected=currency.format(collected),
                    balance=currency.format(balance_applied),
                )
            )
        return payments

    def _vita_credit_note_vals(self, ref, lines_vals):
        """A draft credit note of this invoice with ``lines_vals``."""
        self.ensure_one()
        return {
            "move_type": "out_refund",
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "invoice_date": fields.Date.context_today(self),
            "invoice_origin": self.invoice_origin,
            "ref": ref,
            "reversed_entry_id": self.id,
            "vita_subscription_id": self.vita_subscription_id.id,
            "invoice_line_ids": [Command.create(vals) for vals in lines_vals],
        }

    def _vita_credit_note_for_amount(self, amount, ref):
        """A posted credit note of this invoice for ``amount`` (tax
        included): the exact reversal when it is the whole invoice, else
        every line in proportion with its taxes (a partial refund credits
        the VAT in proportion), total matched to the cent."""
        self.ensure_one()
        currency = self.currency_id
        if not currency.compare_amounts(amount, self.amount_total):
            defaults = {
                "ref": ref,
                "invoice_date": fields.Date.context_today(self),
                "vita_subscription_id": self.vita_subscription_id.id,
            }
            credit_note = self._reverse_moves([defaults])
        else:
            ratio = amount / self.amount_total
            lines_vals = [
                {
                    "name": line.name,
                    "quantity": 1,
                    "price_unit": currency.round(line.price_unit * line.quantity * ratio),
                    "tax_ids": [Command.set(line.tax_ids.ids)],
                }
                for line in self.invoice_line_ids
            ]
            credit_note = self.create(self._vita_credit_note_vals(ref, lines_vals))
            minor = to_stripe_amount(amount, currency)
            credit_note._vita_match_stripe_amounts({"id": ref, "total": minor}, None)
        credit_note.action_post()
        return credit_note

    def _vita_register_refund(self, amount, refund_id, refunded_at=None):
        """The money Stripe gave back: an outgoing payment of this credit
        note in the Stripe journal, tagged with the Stripe refund (or
        dispute) id so it is booked once."""
        self.ensure_one()
        payment_date = stripe_date(refunded_at) or fields.Date.context_today(self)
        payments = self._vita_register_payment(amount, payment_date, refund_id)
        payments.vita_stripe_refund_id = refund_id
        return payments

    def _vita_register_invoice_payment(self, amount, payment_id, paid_at=None):
        """One payment Stripe received for this invoice (partial or whole),
        tagged with Stripe's invoice payment id so it is booked once."""
        self.ensure_one()
        payment_date = stripe_date(paid_at) or fields.Date.context_today(self)
        payments = self._vita_register_payment(amount, payment_date, self.payment_reference or self.name)
        payments.vita_stripe_payment_id = payment_id
        return payments

    def _vita_lock_for_payment(self):
        """Lock this invoice's row until the transaction ends. The events
        that pay an invoice (invoice.paid, invoice_payment.paid) are not in
        one queue key: when two run at once, the second waits here, then
        fails to serialize (REPEATABLE READ: the row changed since its
        snapshot) and the queue takes it again, seeing the first's payment."""
        self.env.cr.execute(SQL("SELECT id FROM account_move WHERE id IN %s FOR NO KEY UPDATE", tuple(self.ids)))

    def _vita_open_receivable_lines(self):
        return self.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
        )

    def _vita_reconcile_credit_notes(self):
        """Settle this invoice with its posted credit notes that are still
        open (issued before the payment, they lowered what Stripe charged)."""
        self.ensure_one()
        credit_notes = self.search([("reversed_entry_id", "=", self.id), ("state", "=", "posted")])
        lines = credit_notes._vita_open_receivable_lines()
        if lines and self._vita_open_receivable_lines():
            (self._vita_open_receivable_lines() | lines).reconcile()

    def _vita_write_off_bad_debt(self, account, date, ref):
        """Close what remains of this invoice's receivable with a
        miscellaneous entry to ``account`` (an expense): revenue and VAT
        stay as invoiced, the loss is an expense, and the entry is undone
        if the customer pays after all (_vita_reopen_bad_debt)."""
        self.ensure_one()
        receivable = self._vita_open_receivable_lines()
        amount_currency = sum(receivable.mapped("amount_residual_currency"))
        balance = sum(receivable.mapped("amount_residual"))
        common = {"partner_id": self.commercial_partner_id.id, "currency_id": self.currency_id.id, "name": ref}
        write_off = self.create(
            {
                "move_type": "entry",
                "date": date,
                "ref": ref,
                "company_id": self.company_id.id,
                "line_ids": [
                    Command.create(
                        dict(
                            common,
                            account_id=receivable[:1].account_id.id,
                            amount_currency=-amount_currency,
                            balance=-balance,
                        )
                    ),
                    Command.create(
                        dict(common, account_id=account.id, amount_currency=amount_currency, balance=balance)
                    ),
                ],
            }
        )
        write_off.action_post()
        (receivable | write_off._vita_open_receivable_lines()).reconcile()
        self.vita_bad_debt_move_id = write_off
        return write_off

    def _vita_reopen_bad_debt(self):
        """Undo the bad-debt write-off (reversed, and the reversal
        reconciled with it): the receivable is open again for the payment
        Stripe received."""
        self.ensure_one()
        write_off = self.vita_bad_debt_move_id
        reversal = write_off._reverse_moves(
            [{"date": fields.Date.context_today(self), "ref": self.env._("Reversal of %s", write_off.name)}],
            cancel=True,
        )
        self.vita_bad_debt_move_id = False
        return reversal

    def _vita_register_payment(self, amount, payment_date, memo):
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=self.ids)
            .create(
                {
                    "journal_id": self._vita_stripe_journal().id,
                    "payment_date": payment_date,
                    "amount": amount,
                    "communication": memo,
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
