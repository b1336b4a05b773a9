import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..const import PLAN_INTERVALS
from ..stripe_gateway import StripeGateway
from ..utils import from_stripe_amount, stripe_currency

_logger = logging.getLogger(__name__)


class VitaStripePlan(models.Model):
    """A Stripe billing plan (recurring price), read from Stripe.

    Plans are created in the Stripe dashboard only: no one has create access
    to this model in Odoo; the sync writes with sudo.
    """

    _name = "vita.stripe.plan"
    _inherit = "vita.stripe.mirror"
    _description = "Stripe billing plan"
    _order = "product_name, currency_id, interval, amount"

    name = fields.Char(compute="_compute_name", store=True)
    product_name = fields.Char(readonly=True)
    nickname = fields.Char(readonly=True)
    amount = fields.Monetary("Price", currency_field="currency_id", readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    interval = fields.Selection(PLAN_INTERVALS, required=True, readonly=True)
    interval_count = fields.Integer(default=1, readonly=True)
    period_label = fields.Char("Billed", compute="_compute_period_label", help="e.g. “per month”, “every 3 months”.")

    @api.depends("product_name", "nickname", "stripe_id")
    def _compute_name(self):
        """Product and nickname only: stored, so in no one's language; the
        price and period are added at display time (display_name)."""
        for plan in self:
            plan.name = " – ".join(filter(None, [plan.product_name, plan.nickname])) or plan.stripe_id

    @api.depends("interval", "interval_count")
    def _compute_period_label(self):
        for plan in self:
            if plan.interval_count > 1:
                every = {
                    "day": self.env._("every %s days"),
                    "week": self.env._("every %s weeks"),
                    "month": self.env._("every %s months"),
                    "year": self.env._("every %s years"),
                }
                plan.period_label = every.get(plan.interval, "%s") % plan.interval_count
            else:
                per = {
                    "day": self.env._("per day"),
                    "week": self.env._("per week"),
                    "month": self.env._("per month"),
                    "year": self.env._("per year"),
                }
                plan.period_label = per.get(plan.interval, "")

    # ------------------------------------------------------------------
    # Labels in the reader's language, invoice product
    # ------------------------------------------------------------------

    product_id = fields.Many2one(
        "product.product",
        string="Invoice product",
        domain="[('type', '=', 'service')]",
        check_company=True,
        help="Product of the Odoo invoice lines of this plan: its income account, and reports by product. "
        "Without one the lines have no product and use the sales journal's income account.",
    )

    @api.depends("name", "amount", "currency_id", "interval", "interval_count")
    @api.depends_context("lang")
    def _compute_display_name(self):
        """“Vita Care – Monthly ($ 32.00 / month)”, in the reader's language
        and number format."""
        for plan in self:
            plan.display_name = f"{plan.name} ({plan._vita_price_label()})" if plan.currency_id else plan.name

    def _vita_price_label(self):
        """“$ 32.00 / month”, “90,00 € / 3 mois”: the amount and period in
        the language of the environment (the reader's)."""
        self.ensure_one()
        if self.interval_count > 1:
            every = {
                "day": self.env._("%(amount)s / %(count)s days"),
                "week": self.env._("%(amount)s / %(count)s weeks"),
                "month": self.env._("%(amount)s / %(count)s months"),
                "year": self.env._("%(amount)s / %(count)s years"),
            }
        else:
            every = {
                "day": self.env._("%(amount)s / day"),
                "week": self.env._("%(amount)s / week"),
                "month": self.env._("%(amount)s / month"),
                "year": self.env._("%(amount)s / year"),
            }
        label = every.get(self.interval, "%(amount)s")
        return label % {"amount": self.currency_id.format(self.amount), "count": self.interval_count}

    def write(self, vals):
        """Stripe owns the plan: people set only the invoice product; the
        other fields are written by the sync (sudo)."""
        if not self.env.su and set(vals) - {"product_id"}:
            raise AccessError(self.env._("Billing plans come from Stripe: only their invoice product is set in Odoo."))
        return super().write(vals)

    # ------------------------------------------------------------------
    # Sync
    # ------------------------------------------------------------------

    def action_sync_from_stripe(self):
        # The sync writes in sudo: only for those who may write plans (managers).
        self.check_access("write")
        self.env["vita.stripe.plan"]._vita_sync_catalogue_from_stripe()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._("Billing plans and tax rates synchronised from Stripe."),
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _vita_sync_catalogue_from_stripe(self, gateway=None):
        """Plans, then tax rates, of the current company's Stripe account."""
        gateway = gateway or StripeGateway.for_company(self.env)
        self._vita_mirror(gateway, gateway.list_plans())
        self.env["vita.stripe.tax.rate"]._vita_mirror(gateway, gateway.list_tax_rates())

    @api.model
    def _vita_vals_from_stripe(self, stripe_object, cache):
        """Only per-unit, licensed plans fit "one plan × a quantity";
        tiered and metered plans are left out."""
        plan = stripe_object
        if plan.billing_scheme != "per_unit" or plan.usage_type != "licensed" or plan.amount is None:
            _logger.info("Stripe plan %s left out: not a per-unit licensed plan", plan.id)
            return None
        # One lookup per distinct currency, however many plans use it.
        code = plan.currency.upper()
        if code not in cache:
            cache[code] = stripe_currency(self.env, code)
        currency = cache[code]
        if not currency:
            _logger.warning("Stripe plan %s left out: currency %s unknown to Odoo", plan.id, plan.currency)
            return None
        try:
            amount = from_stripe_amount(plan.amount, currency)
        except UserError as error:
            _logger.warning("Stripe plan %s left out: %s", plan.id, error)
            return None
        product = plan.product
        return {
            "product_name": product if isinstance(product, str) else product.name,
            "nickname": plan.nickname or False,
            "amount": amount,
            "currency_id": currency.id,
            "interval": plan.interval,
            "interval_count": plan.interval_count,
            "active": bool(plan.active),
        }

    @api.model
    def _cron_sync_from_stripe(self):
        """Daily: sync plans and tax rates of every company using Stripe."""
        for company in StripeGateway.companies_using_stripe(self.env):
            plans = self.with_company(company)
            try:
                with self.env.cr.savepoint():
                    plans._vita_sync_catalogue_from_stripe(StripeGateway.for_company(plans.env, company))
            except Exception:
                _logger.exception("Stripe catalogue sync failed for company %s", company.id)

    # ------------------------------------------------------------------
    # Portal plan changes (issue 11, part 4)
    # ------------------------------------------------------------------

    offered_in_portal = fields.Boolean(
        "Offered in the portal",
        readonly=True,
        help="Customers may switch their subscription to this plan from the portal "
        "(same currency as their subscription).",
    )

    def action_offer_in_portal(self):
        return self._vita_set_offered_in_portal(True)

    def action_withdraw_from_portal(self):
        return self._vita_set_offered_in_portal(False)

    def _vita_set_offered_in_portal(self, offered):
        """Plans are read-only mirrors of Stripe: only this flag is Odoo's,
        set by subscription managers."""
        if not self.env.user.has_group("vita_subscriptions.group_subscription_manager"):
            raise UserError(self.env._("Only subscription managers may choose the plans offered in the portal."))
        self.check_access("write")  # and only their companies' plans
        self.sudo().write({"offered_in_portal": offered})
        return True
