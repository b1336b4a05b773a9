"""Money side of a subscription: the money rules that make Odoo's invoice
of a Stripe invoice (lines, taxes, totals), what Stripe collects registered
on it, failed payments told to the customer, and the reconciliation that
heals what a missed webhook left behind. When the invoice is booked,
reversed or written off is vita_subscription_invoice.py's."""

import logging
from decimal import Decimal, InvalidOperation

from markupsafe import Markup
from psycopg2 import errors as pg_errors

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date

from ..stripe_gateway import StripeGateway
from ..stripe_shapes import line_price_id, line_tax_rate_ids
from ..utils import from_stripe_amount, stripe_currency, stripe_date
from .vita_stripe_event import RetryLater

_logger = logging.getLogger(__name__)

# States a paid invoice may have left behind in Odoo: re-read from Stripe.
STATES_TO_REFRESH_ON_PAYMENT = ("future", "past_due", "unpaid", "incomplete")


# The unique constraints that say "this Stripe object is already booked"
# (table name + constraint name, as PostgreSQL reports them).
BOOKED_ONCE_CONSTRAINTS = frozenset(
    {
        "account_move_vita_stripe_invoice_unique",
        "account_move_vita_stripe_credit_note_unique",
        "account_payment_vita_stripe_refund_unique",
        "account_payment_vita_stripe_payment_unique",
    }
)


class VitaSubscription(models.Model):
    _inherit = "vita.subscription"

    # ------------------------------------------------------------------
    # Finding the Odoo record of a Stripe subscription
    # ------------------------------------------------------------------

    @api.model
    def _vita_find_stripe_subscription(self, stripe_id, mode, metadata=None, company=None):
        """The record of Stripe subscription ``stripe_id`` in ``mode`` (and
        in ``company``, the one of the Stripe account that names it, when
        given: another company's Stripe account never reaches it).

        Empty when Odoo does not know it (created in the Stripe dashboard).
        Raises RetryLater when Stripe's metadata names a record that is
        being subscribed right now: Stripe can deliver the first events
        before the portal request that created the subscription commits.
        """
        if not stripe_id:
            return self.browse()
        company_domain = [("company_id", "=", company.id)] if company else []
        subscription = self.search(
            [("stripe_subscription_id", "=", stripe_id), ("mode", "=", mode), *company_domain], limit=1
        )
        odoo_id = str((metadata or {}).get("odoo_subscription_id") or "")
        if subscription or not odoo_id.isdigit():
            return subscription
        pending = self.browse(int(odoo_id)).exists()
        other_company = company and pending.company_id != company
        if not pending or pending.mode != mode or pending.stripe_subscription_id or other_company:
            return self.browse()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL("SELECT id FROM vita_subscription WHERE id = %s FOR NO KEY UPDATE NOWAIT", pending.id)
                )
        except (pg_errors.LockNotAvailable, pg_errors.SerializationFailure):
            raise RetryLater(
                self.env._("%s is being subscribed; the event is retried.", pending.display_name)
            ) from None
        return self.browse()  # an abandoned attempt, or another database's record

    # ------------------------------------------------------------------
    # Paid invoices
    # ------------------------------------------------------------------

    def _vita_invoice_paid(self, stripe_invoice):
        """Stripe charged ``stripe_invoice``: one posted, paid Odoo invoice
        (none for a zero amount), a subscription that is now running, and
        the payment problem activities done.

        ``invoice.paid`` and ``invoice.payment_succeeded`` both come for the
        same invoice: the second finds the first one's Odoo invoice.
        """
        self.ensure_one()
        move = self._vita_paid_invoice(stripe_invoice)
        if self.state in STATES_TO_REFRESH_ON_PAYMENT:
            self._vita_apply_stripe_subscription(
                self._vita_gateway().retrieve_subscription(self.stripe_subscription_id)
            )
        if move and self.state == "future":
            # Charged at least once: active (SPEC §4), whatever the billing
            # cycle anchor Stripe reports.
            self.with_context(vita_from_stripe=True).state = "active"
        self._vita_close_payment_problems(stripe_invoice)
        return move

    def _vita_paid_invoice(self, stripe_invoice):
        """The Odoo invoice of a paid Stripe invoice: booked when missing,
        and what Stripe collected registered on it once. Empty when a
        concurrent event booked it after our snapshot: a second paid event,
        a payment's own event or the reconciliation, which register their
        payments; the reconciliation registers anything they left."""
        move = self._vita_invoice_from_stripe(stripe_invoice)
        if move:
            self._vita_pay_stripe_invoice(move, stripe_invoice)
        return move

    def _vita_pay_stripe_invoice(self, move, stripe_invoice):
        """Register on ``move`` what Stripe collected and Odoo has not
        registered yet: everything when the invoice was open (booked at
        finalization, or just now), the rest after partial payments,
        nothing for a second paid event."""

        def pay():
            if move.currency_id.is_zero(move.amount_residual):
                return self.env["account.payment"]
            payments = move._vita_register_stripe_payment(stripe_invoice)
            if stripe_invoice.get("pre_payment_credit_notes_amount"):
                self._vita_book_pre_payment_credit_notes(move)
                move._vita_reconcile_credit_notes()
            return payments

        move._vita_lock_for_payment()
        return self._vita_pay_written_off(move, pay)

    def _vita_invoice_payment_paid(self, move, invoice_payment):
        """One payment Stripe received for ``move`` (partial or whole; one
        ``invoice_payment`` each since API 2025-03-31.basil): registered
        once, keyed by its id. Nothing when Odoo's invoice is settled
        already: its invoice.paid came first and registered all of
        ``amount_paid``. Returns the payment, or empty."""
        Payment = self.env["account.payment"]
        move._vita_lock_for_payment()
        domain = [("company_id", "=", self.company_id.id), ("vita_stripe_payment_id", "=", invoice_payment["id"])]
        if Payment.sudo().search_count(domain, limit=1):
            return Payment
        amount = from_stripe_amount(invoice_payment.get("amount_paid") or 0, move.currency_id)

        def pay():
            paid = min(amount, move.amount_residual)
            if move.currency_id.compare_amounts(paid, 0) <= 0:
                return Payment
            paid_at = (invoice_payment.get("status_transitions") or {}).get("paid_at")
            return self._vita_book_once(
                invoice_payment["id"], move._vita_register_invoice_payment, paid, invoice_payment["id"], paid_at
            )

        if move.currency_id.is_zero(move.amount_residual) and not move.vita_bad_debt_move_id:
            return Payment
        return self._vita_pay_written_off(move, pay)

    def _vita_lock_stripe_invoice(self, stripe_invoice_id):
        """Queue every money event of one Stripe invoice (paid, refunds,
        credit notes, disputes) until this transaction ends."""
        self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(hashtext(%s))", f"vita-invoice-{stripe_invoice_id}"))

    def _vita_stripe_move(self, stripe_invoice_id):
        """The Odoo invoice of a Stripe invoice (sudo), or empty."""
        return (
            self.env["account.move"]
            .sudo()
            .with_company(self.company_id)
            .search(
                [("company_id", "=", self.company_id.id), ("vita_stripe_invoice_id", "=", stripe_invoice_id)], limit=1
            )
        )

    def _vita_invoice_from_stripe(self, stripe_invoice):
        """The Odoo invoice of a finalized Stripe invoice, booked when
        missing (vita_subscription_invoice.py, _vita_book_stripe_invoice).

        An advisory lock on the Stripe invoice id queues the events of the
        same invoice. The waiting transaction's snapshot may predate the
        other's commit (Odoo runs REPEATABLE READ): then it cannot see the
        invoice, its insert hits UNIQUE(company, Stripe invoice), and that
        means "booked by the other event", not a failure.
        """
        self.ensure_one()
        if (stripe_invoice.get("total") or 0) <= 0:
            return self.env["account.move"]
        stripe_id = stripe_invoice["id"]
        self._vita_lock_stripe_invoice(stripe_id)
        existing = self._vita_stripe_move(stripe_id)
        if existing:
            return existing
        move = self._vita_book_once(stripe_id, self._vita_book_stripe_invoice, stripe_invoice)
        if move:
            # Refunds, credit notes and disputes that came first wait for it.
            self.env["vita.stripe.event"]._vita_wake_waiting(stripe_id)
        return move

    def _vita_book_once(self, stripe_id, book, *args):
        """``book(*args)`` in a savepoint. Our unique constraints keep each
        Stripe invoice, credit note and refund booked once: one of them
        firing means a concurrent event booked it first (our REPEATABLE
        READ snapshot predates its commit), so nothing to do, not a
        failure. Any other conflict (another unique index, a serialization
        failure on a row both transactions update) is raised: the event is
        then retried, and never marked done without its booking."""
        try:
            with self.env.cr.savepoint():
                return book(*args)
        except pg_errors.UniqueViolation as error:
            if error.diag.constraint_name not in BOOKED_ONCE_CONSTRAINTS:
                raise
            _logger.info("Stripe %s was booked by a concurrent event", stripe_id)
            return self.env["account.move"]

    def _vita_invoice_vals(self, stripe_invoice):
        """The Odoo invoice of a Stripe invoice. Stripe collects it (card
        or direct debit), so no payment terms and no bank account: due on
        Stripe's due date, else on the day it is issued (automatic
        collection)."""
        currency = self._vita_currency(stripe_invoice["currency"])
        lines = (stripe_invoice.get("lines") or {}).get("data") or []
        if (stripe_invoice.get("lines") or {}).get("has_more"):
            lines = self._vita_gateway().list_invoice_lines(stripe_invoice["id"])
        created = stripe_invoice.get("status_transitions", {}).get("finalized_at") or stripe_invoice.get("created")
        invoice_date = stripe_date(created) or fields.Date.context_today(self)
        return {
            "move_type": "out_invoice",
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "currency_id": currency.id,
            "invoice_date": invoice_date,
            "invoice_payment_term_id": False,
            "invoice_date_due": max(stripe_date(stripe_invoice.get("due_date")) or invoice_date, invoice_date),
            "partner_bank_id": False,
            "invoice_origin": self.name,
            "invoice_user_id": self._vita_salesperson().id,
            "ref": stripe_invoice.get("number") or stripe_invoice["id"],
            "payment_reference": stripe_invoice.get("number") or stripe_invoice["id"],
            "vita_subscription_id": self.id,
            "vita_stripe_invoice_id": stripe_invoice["id"],
            "vita_stripe_invoice_url": stripe_invoice.get("hosted_invoice_url") or False,
            "invoice_line_ids": [
                Command.create(vals) for vals in self._vita_invoice_lines_vals(stripe_invoice, lines, currency)
            ],
        }

    def _vita_salesperson(self):
        """The responsible of the subscription, else the user at work; never
        OdooBot, the superuser or the public user a webhook or cron runs as
        (Odoo's default salesperson is whoever creates the invoice): then
        the invoice has none."""
        for user in (self.user_id, self.env.user):
            if user and not user._is_superuser() and user._is_internal():
                return user
        return self.env["res.users"]

    def _vita_currency(self, code):
        currency = stripe_currency(self.env, code)
        if not currency:
            raise UserError(self.env._("Stripe billed in %s, a currency unknown to Odoo.", code))
        return currency

    def _vita_invoice_lines_vals(self, stripe_invoice, lines, currency):
        """Stripe's lines, each followed by its discounts as negative lines
        with the same taxes (Stripe taxes the discounted amount) and product,
        then the share of invoice-level discounts no line carries."""
        taxes_by_line = [self._vita_odoo_taxes(line_tax_rate_ids(line)) for line in lines]
        products = self._vita_line_products(lines)
        vals_list = []
        for line, taxes, product in zip(lines, taxes_by_line, products, strict=True):
            vals_list.append(self._vita_line_vals(line, currency, taxes, product))
            vals_list += [
                self._vita_discount_vals(discount_id, amount, currency, taxes, product)
                for discount_id, amount in _line_discounts(line)
            ]
        weights = [line.get("amount") or 0 for line in lines]
        for discount_id, amount in _unallocated_discounts(stripe_invoice, lines).items():
            for taxes, product, share in zip(taxes_by_line, products, _allocate(amount, weights), strict=True):
                if share:
                    vals_list.append(self._vita_discount_vals(discount_id, share, currency, taxes, product))
        return vals_list

    def _vita_line_products(self, lines):
        """The invoice product of each line's plan: the synced plan of the
        line's Stripe price, else this subscription's plan (a price not
        synced yet, a one-off item); empty when the plan has none."""
        price_ids = [line_price_id(line) for line in lines]
        plans = (
            self.env["vita.stripe.plan"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("mode", "=", self.mode),
                    ("stripe_id", "in", [price_id for price_id in price_ids if price_id]),
                ]
            )
        )
        by_stripe_id = {plan.stripe_id: plan for plan in plans}
        return [(by_stripe_id.get(price_id) or self.plan_id).product_id for price_id in price_ids]

    def _vita_line_vals(self, line, currency, taxes, product):
        """One invoice line per Stripe line: its quantity and Stripe's unit
        amount when they make the line amount (prorations do not: their
        amount is kept as one unit), the mapped Odoo taxes and the plan's
        product (its income account; Stripe's taxes, not the product's)."""
        amount = line.get("amount") or 0
        quantity = line.get("quantity") or 1
        unit = _unit_amount(line)
        if unit is None or unit * quantity != amount or unit != unit.to_integral_value():
            quantity, unit = 1, Decimal(amount)
        name = line.get("description") or self.plan_id.name or self.name
        period = line.get("period") if isinstance(line.get("period"), dict) else {}
        start, end = stripe_date(period.get("start")), stripe_date(period.get("end"))
        if start and end:
            # The service period, as Stripe prints it on its invoice.
            name = f"{name}\n{format_date(self.env, start)} – {format_date(self.env, end)}"
        return {
            "name": name,
            "product_id": product.id,
            "quantity": quantity,
            "price_unit": from_stripe_amount(int(unit), currency),
            "tax_ids": [Command.set(taxes.ids)],
        }

    def _vita_discount_vals(self, discount_id, amount, currency, taxes, product):
        return {
            "name": self.env._("Discount %s", discount_id),
            "product_id": product.id,
            "quantity": 1,
            "price_unit": -from_stripe_amount(amount, currency),
            "tax_ids": [Command.set(taxes.ids)],
        }

    def _vita_tax_amounts(self, stripe_invoice, currency):
        """{account.tax: amount} Stripe charged per tax rate, or None when
        the payload does not say."""
        amounts = invoice_tax_amounts(stripe_invoice)
        if amounts is None:
            return None
        by_tax = {}
        for rate in self._vita_tax_rates(list(amounts)):
            by_tax[rate.tax_id] = by_tax.get(rate.tax_id, 0) + amounts[rate.stripe_id]
        return {tax: from_stripe_amount(amount, currency) for tax, amount in by_tax.items()}

    def _vita_odoo_taxes(self, stripe_tax_rate_ids):
        return self._vita_tax_rates(stripe_tax_rate_ids).tax_id

    def _vita_tax_rates(self, stripe_tax_rate_ids):
        """The synced tax rates (with their Odoo tax) of these Stripe ids;
        a rate created in Stripe since the last sync triggers a sync."""
        if not stripe_tax_rate_ids:
            return self.env["vita.stripe.tax.rate"]
        Rate = self.env["vita.stripe.tax.rate"].sudo().with_context(active_test=False)
        domain = [("company_id", "=", self.company_id.id), ("mode", "=", self.mode)]
        rates = Rate.search([*domain, ("stripe_id", "in", stripe_tax_rate_ids)])
        if len(rates.filtered("tax_id")) < len(set(stripe_tax_rate_ids)):
            # A rate created in Stripe since the last sync.
            self.env["vita.stripe.plan"].with_company(self.company_id)._vita_sync_catalogue_from_stripe(
                self._vita_gateway()
            )
            rates = Rate.search([*domain, ("stripe_id", "in", stripe_tax_rate_ids)])
        missing = set(stripe_tax_rate_ids) - set(rates.filtered("tax_id").mapped("stripe_id"))
        if missing:
            raise UserError(self.env._("Stripe tax rate %s has no Odoo tax.", ", ".join(sorted(missing))))
        return rates

    # ------------------------------------------------------------------
    # Failed payments
    # ------------------------------------------------------------------

    def _vita_payment_problem_summaries(self):
        """Summary of the activity of a failed payment, of one that needs
        authentication."""
        return self.env._("Payment failed"), self.env._("Payment needs the customer's authentication")

    def _vita_payment_problem(self, stripe_invoice, action_required):
        """The state follows Stripe; the primary contact is told how to pay
        (new card, or 3-D Secure on Stripe's invoice page); the responsible
        gets one activity. A failure reported for an invoice already paid
        (events arrive out of order) changes nothing and returns False."""
        self.ensure_one()
        stripe_id = stripe_invoice.get("id")
        move = self._vita_stripe_move(stripe_id) if stripe_id else None
        # Booked at finalization, Odoo's invoice stays open (and overdue by
        # its due date) until Stripe collects it.
        if stripe_invoice.get("status") == "paid" or (move and move.currency_id.is_zero(move.amount_residual)):
            return False
        self._vita_apply_stripe_subscription(self._vita_gateway().retrieve_subscription(self.stripe_subscription_id))
        template = self.env.ref("vita_subscriptions.mail_template_payment_failed", raise_if_not_found=False)
        hosted_url = stripe_invoice.get("hosted_invoice_url") if action_required else False
        if template:
            self.with_context(vita_hosted_invoice_url=hosted_url).message_post_with_source(
                template, message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        summary = self._vita_payment_problem_summaries()[1 if action_required else 0]
        if not self.activity_ids.filtered(lambda activity: activity.summary == summary):
            currency = self._vita_currency(stripe_invoice.get("currency"))
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                note=self.env._(
                    "Stripe could not charge invoice %(invoice)s (%(amount)s). The customer was e-mailed.",
                    invoice=stripe_invoice.get("number") or stripe_invoice.get("id"),
                    amount=currency.format(from_stripe_amount(stripe_invoice.get("amount_due") or 0, currency)),
                ),
                user_id=(self.user_id or self.env.ref("base.user_root")).id,
            )
        return True

    def _vita_close_payment_problems(self, stripe_invoice):
        """Mark the payment problem activities done: the invoice is paid."""
        summaries = self._vita_payment_problem_summaries()
        activities = self.activity_ids.filtered(lambda activity: activity.summary in summaries)
        if activities:
            activities.action_feedback(
                feedback=self.env._("Paid: %s", stripe_invoice.get("number") or stripe_invoice.get("id"))
            )

    # ------------------------------------------------------------------
    # Reconciliation
    # ------------------------------------------------------------------

    def action_sync_from_stripe(self):
        """Sync button: state, missing paid invoices and drift."""
        self._vita_check_stripe_rights()
        for subscription in self.filtered("stripe_subscription_id"):
            gateway = subscription._vita_gateway()
            subscription._vita_reconcile(gateway.retrieve_subscription(subscription.stripe_subscription_id), gateway)

    @api.model
    def _cron_reconcile_with_stripe(self):
        """Every company using Stripe, one savepoint per subscription so one
        bad record does not stop the others."""
        for company in StripeGateway.companies_using_stripe(self.env):
            try:
                self.with_company(company)._vita_reconcile_company(StripeGateway.for_company(self.env, company))
            except UserError:
                _logger.exception("Stripe reconciliation failed for company %s", company.id)

    @api.model
    def _vita_reconcile_company(self, gateway, batch_size=100):
        """Page through every Stripe subscription of the gateway's mode;
        update the ones Odoo knows, batch by batch (one search a batch)."""
        company = gateway.provider.company_id
        batch = []
        counts = {"seen": 0, "known": 0, "failed": 0}

        def flush_batch():
            records = self.sudo().search(
                [
                    ("company_id", "=", company.id),
                    ("mode", "=", gateway.mode),
                    ("stripe_subscription_id", "in", [s.id for s in batch]),
                ]
            )
            by_stripe_id = {record.stripe_subscription_id: record for record in records}
            for stripe_subscription in batch:
                record = by_stripe_id.get(stripe_subscription.id)
                if not record:
                    continue
                counts["known"] += 1
                try:
                    with self.env.cr.savepoint():
                        record._vita_in_staff_language()._vita_reconcile(stripe_subscription, gateway)
                except UserError:
                    counts["failed"] += 1
                    _logger.exception("Reconciliation of subscription %s failed", record.id)
            batch.clear()

        for stripe_subscription in gateway.list_subscriptions():
            counts["seen"] += 1
            batch.append(stripe_subscription)
            if len(batch) >= batch_size:
                flush_batch()
        if batch:
            flush_batch()
        _logger.info("Stripe reconciliation of company %s: %s", company.id, counts)
        return counts

    def _vita_reconcile(self, stripe_subscription, gateway):
        """Make this record match ``stripe_subscription`` and report what
        differed: an ended subscription or paid invoices mean a webhook was
        missed and heal; other differences (plan, quantity, taxes, cancel at
        period end, status) are drift lines the user resolves, not applied."""
        self.ensure_one()
        old_state = self.state
        old_drift = self.stripe_drift
        found = self._vita_drift(stripe_subscription)
        self._vita_apply_stripe_subscription(
            stripe_subscription, keep=[name for name in ("state", "cancel_at_period_end") if name in found]
        )
        created = self.env["account.move"]
        # Invoices are created (posted and paid, as superuser) by the cron
        # and by users allowed to invoice; a subscription clerk's Sync
        # updates the state and leaves missing invoices to the cron.
        may_invoice = self.env.is_superuser() or self.env.user.has_group("account.group_account_invoice")
        if self.state != "not_subscribed" and may_invoice:
            created = self._vita_reconcile_invoices(gateway)
        paid = created.filtered(lambda move: move.payment_state in ("paid", "in_payment"))
        if paid and self.state == "future":
            self.with_context(vita_from_stripe=True).state = "active"
        notes = []
        if old_state != self.state:
            notes.append(
                self.env._(
                    "State corrected from %(old)s to %(new)s (a Stripe event was missed).",
                    old=dict(self._fields["state"]._description_selection(self.env))[old_state],
                    new=dict(self._fields["state"]._description_selection(self.env))[self.state],
                )
            )
        if paid:
            notes.append(self.env._("Paid invoices imported: %s.", ", ".join(paid.mapped("name"))))
        if created - paid:
            notes.append(self.env._("Open invoices booked: %s.", ", ".join((created - paid).mapped("name"))))
        if notes:
            self.message_post(body=Markup("<br/>").join(notes))
        drift_text = self._vita_record_drift(found)
        if drift_text and drift_text != old_drift:
            self.message_post(body=self.env._("Stripe differs from Odoo: %s", drift_text))
            self._vita_flag_for_responsible(drift_text)
        return created


def _unit_amount(line):
    """Stripe's unit amount of a line in minor units (Decimal), on every
    API version: ``pricing.unit_amount_decimal`` since basil, ``price`` or
    ``plan`` before."""
    pricing = line.get("pricing") or {}
    candidates = [
        pricing.get("unit_amount_decimal"),
        line.get("unit_amount_decimal"),  # credit note lines
        line.get("unit_amount"),
        (line.get("price") or {}).get("unit_amount_decimal"),
        (line.get("price") or {}).get("unit_amount"),
        (line.get("plan") or {}).get("amount"),
    ]
    for value in candidates:
        if value is None:
            continue
        try:
            return Decimal(str(value))
        except InvalidOperation:
            continue
    return None


def _line_discounts(line):
    """[(Stripe discount id, amount)] of a line: its own discounts and its
    share of the invoice's (``discount_amounts``)."""
    return [
        (amount.get("discount") or "", amount["amount"])
        for amount in line.get("discount_amounts") or []
        if isinstance(amount.get("amount"), int) and amount["amount"]
    ]


def _unallocated_discounts(stripe_invoice, lines):
    """{discount id: amount} of ``total_discount_amounts`` the lines do
    not carry (Stripe normally spreads invoice discounts over the lines)."""
    remaining = {}
    for amount in stripe_invoice.get("total_discount_amounts") or []:
        if isinstance(amount.get("amount"), int):
            key = amount.get("discount") or ""
            remaining[key] = remaining.get(key, 0) + amount["amount"]
    for line in lines:
        for discount_id, amount in _line_discounts(line):
            remaining[discount_id] = remaining.get(discount_id, 0) - amount
    return {key: amount for key, amount in remaining.items() if amount > 0}


def _allocate(amount, weights):
    """Split the integer ``amount`` in proportion to ``weights`` (largest
    remainder: the shares add up to ``amount`` exactly)."""
    positive = [max(weight, 0) for weight in weights]
    total = sum(positive)
    if not total:
        return [amount] + [0] * (len(weights) - 1) if weights else []
    shares = [amount * weight // total for weight in positive]
    by_remainder = sorted(range(len(weights)), key=lambda i: -(amount * positive[i] % total))
    for index in by_remainder[: amount - sum(shares)]:
        shares[index] += 1
    return shares


def invoice_tax_amounts(stripe_invoice):
    """{Stripe tax rate id: tax amount} of an invoice, or None when the
    payload does not say: ``total_taxes`` since basil, ``total_tax_amounts``
    before."""
    if "total_taxes" in stripe_invoice:
        rows = [
            ((tax.get("tax_rate_details") or {}).get("tax_rate"), tax.get("amount"))
            for tax in stripe_invoice.get("total_taxes") or []
        ]
    elif "total_tax_amounts" in stripe_invoice:
        rows = [
            (
                tax["tax_rate"] if isinstance(tax.get("tax_rate"), str) else (tax.get("tax_rate") or {}).get("id"),
                tax.get("amount"),
            )
            for tax in stripe_invoice.get("total_tax_amounts") or []
        ]
    else:
        return None
    amounts = {}
    for rate_id, amount in rows:
        if rate_id and isinstance(amount, int):
            amounts[rate_id] = amounts.get(rate_id, 0) + amount
    return amounts
