import logging
from datetime import UTC, datetime, time

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..const import PARAM_PRORATION, STATE_SELECTION, state_from_stripe
from ..stripe_gateway import StripeGateway
from ..stripe_shapes import field, stripe_id
from ..utils import stripe_date

_logger = logging.getLogger(__name__)

# Editing these on a subscribed record is pushed to Stripe.
STRIPE_SYNCED_FIELDS = {"plan_id", "quantity", "tax_rate_ids", "name", "description"}
# These cannot change once the customer has subscribed.
FROZEN_ONCE_SUBSCRIBED = {"partner_id", "first_billing_date", "company_id", "mode"}
# Stripe subscriptions in these states are over: nothing to push or cancel.
ENDED_STATES = ("canceled", "incomplete_expired")
# States of a subscription Stripe has started (its first billing date is set).
LIVE_STATES = ("future", "active", "past_due", "unpaid")
# Stripe bills at noon UTC of the first billing date: still in the future for
# every time zone on the day before (UTC-12 … UTC+14).
BILLING_HOUR_UTC = time(12, 0)


class VitaSubscription(models.Model):
    _name = "vita.subscription"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _description = "Stripe subscription"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(
        required=True,
        tracking=True,
        default=lambda self: self._default_name(),
        help="Shown to the customer. Named after the billing plan until you change it.",
    )
    description = fields.Text(help="Shown to the customer.")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        tracking=True,
        index=True,
        check_company=True,
    )
    commercial_partner_id = fields.Many2one(related="partner_id.commercial_partner_id", store=True, index=True)
    contact_id = fields.Many2one(
        "res.partner",
        string="Primary contact",
        compute="_compute_contact_id",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
        tracking=True,
        check_company=True,
        domain="[('commercial_partner_id', '=', commercial_partner_id)]",
        help="Receives the subscription; the only one who may subscribe, cancel or change the card on the portal.",
    )
    plan_id = fields.Many2one(
        "vita.stripe.plan",
        string="Billing plan",
        required=True,
        tracking=True,
        check_company=True,
        domain="[('mode', '=', mode), ('currency_id', '=', currency_id)]",
    )
    quantity = fields.Integer(default=1, required=True, tracking=True)
    first_billing_date = fields.Date(
        tracking=True,
        help="Empty: the day the customer subscribes. Nothing is charged before this date.",
    )
    currency_id = fields.Many2one(
        "res.currency", compute="_compute_currency_id", store=True, precompute=True, readonly=True
    )
    tax_rate_ids = fields.Many2many(
        "vita.stripe.tax.rate",
        string="Taxes",
        check_company=True,
        domain="[('mode', '=', mode)]",
    )
    unit_amount = fields.Monetary(related="plan_id.amount", string="Unit price")
    amount_untaxed = fields.Monetary(compute="_compute_amounts", store=True, string="Untaxed amount")
    amount_tax = fields.Monetary(compute="_compute_amounts", store=True, string="Taxes amount")
    amount_total = fields.Monetary(compute="_compute_amounts", store=True, string="Total per period")
    terms = fields.Html("Terms and conditions", translate=True, default=lambda self: self.env.company.vita_terms)
    state = fields.Selection(
        STATE_SELECTION, default="not_subscribed", required=True, readonly=True, tracking=True, index=True, copy=False
    )
    mode = fields.Selection(
        [("test", "Test"), ("live", "Live")],
        required=True,
        readonly=True,
        default=lambda self: self._default_mode(),
        help="Stripe mode the subscription lives in; test and live records never mix.",
    )
    stripe_subscription_id = fields.Char("Stripe subscription", readonly=True, copy=False, index=True)
    # Internals of the sync, not for portal users (their pages read in sudo).
    stripe_item_id = fields.Char("Stripe subscription item", readonly=True, copy=False, groups="base.group_user")
    stripe_attempt = fields.Integer(
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Abandoned subscribe attempts (declined card, failed 3-D Secure).",
    )
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, tracking=True, check_company=True
    )
    next_billing_date = fields.Date(readonly=True, copy=False)
    cancel_at_period_end = fields.Boolean(
        "Cancels at period end",
        readonly=True,
        copy=False,
        tracking=True,
        help="Cancelled by the customer or the back office: ends at the end of the billing period.",
    )
    stripe_anomaly = fields.Char(
        readonly=True, copy=False, help="What Stripe has that this record cannot represent (left untouched)."
    )
    invoice_ids = fields.One2many("account.move", "vita_subscription_id", string="Invoices", readonly=True)
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    # The e-mailed link's token lets its holder subscribe (SPEC §5): portal
    # users, who may only view, do not read it (the pages read it in sudo).
    access_token = fields.Char(groups="base.group_user")

    _sql_constraints = [
        (
            "stripe_subscription_unique",
            "UNIQUE(company_id, stripe_subscription_id)",
            "This Stripe subscription is already linked to another record.",
        ),
    ]

    # ------------------------------------------------------------------
    # Defaults and computes
    # ------------------------------------------------------------------

    @api.model
    def _default_name(self):
        return self.env._("New subscription")

    @api.onchange("plan_id")
    def _onchange_plan_id_name(self):
        """A name the user has not typed follows the plan's product."""
        if self.plan_id and (
            not self.name or self.name == self._default_name() or self.name == self._origin.plan_id.product_name
        ):
            self.name = self.plan_id.product_name or self.plan_id.display_name

    @api.onchange("partner_id")
    def _onchange_partner_id_currency(self):
        """A customer billed in another currency cannot keep the plan."""
        if self.plan_id and self.currency_id and self.plan_id.currency_id != self.currency_id:
            plan_currency = self.plan_id.currency_id.name
            self.plan_id = False
            return {
                "warning": {
                    "title": self.env._("Choose another billing plan"),
                    "message": self.env._(
                        "%(customer)s is billed in %(currency)s, the plan was in %(plan_currency)s: "
                        "the plan was cleared. Choose a plan in %(currency)s.",
                        customer=self.partner_id.display_name,
                        currency=self.currency_id.name,
                        plan_currency=plan_currency,
                    ),
                }
            }
        return None

    @api.model
    def _default_mode(self):
        return StripeGateway.mode_of(StripeGateway.find_provider(self.env, self.env.company))

    @api.depends("partner_id")
    def _compute_contact_id(self):
        for subscription in self:
            if subscription.contact_id.commercial_partner_id != subscription.partner_id.commercial_partner_id:
                subscription.contact_id = subscription.partner_id

    @api.depends("partner_id", "company_id")
    def _compute_currency_id(self):
        for subscription in self:
            company = subscription.company_id or self.env.company
            pricelist = subscription.partner_id.commercial_partner_id.with_company(company).property_product_pricelist
            subscription.currency_id = pricelist.currency_id or company.currency_id

    @api.depends("plan_id.amount", "quantity", "tax_rate_ids.tax_id", "currency_id")
    def _compute_amounts(self):
        for subscription in self:
            taxes = subscription.tax_rate_ids.tax_id
            result = (
                taxes.compute_all(subscription.plan_id.amount, subscription.currency_id, subscription.quantity)
                if subscription.currency_id
                else {"total_excluded": 0.0, "total_included": 0.0}
            )
            subscription.amount_untaxed = result["total_excluded"]
            subscription.amount_total = result["total_included"]
            subscription.amount_tax = result["total_included"] - result["total_excluded"]

    @api.depends("invoice_ids")
    def _compute_invoice_count(self):
        counts = dict(
            self.env["account.move"]._read_group(
                [("vita_subscription_id", "in", self.ids)], ["vita_subscription_id"], ["__count"]
            )
        )
        for subscription in self:
            subscription.invoice_count = counts.get(subscription, 0)

    def _creation_message(self):
        """The model's name is "Stripe subscription", but a prepared record
        exists in Odoo only until the customer subscribes."""
        self.ensure_one()
        if self.stripe_subscription_id:
            return self.env._("Subscription created from Stripe subscription %s", self.stripe_subscription_id)
        return self.env._("Subscription prepared; the customer has not subscribed yet")

    def _compute_access_url(self):
        for subscription in self:
            subscription.access_url = f"/my/subscriptions/{subscription.id}"

    def get_portal_url(self, suffix=None, report_type=None, download=None, query_string=None, anchor=None):
        """The URL carries the access token: only for those who may read it
        (portal.mixin's would hand it to anyone who reads the record)."""
        self.check_field_access_rights("read", ["access_token"])
        return super().get_portal_url(suffix, report_type, download, query_string, anchor)

    # ------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------

    @api.constrains("plan_id", "currency_id")
    def _check_plan_currency(self):
        for subscription in self:
            if subscription.plan_id.currency_id != subscription.currency_id:
                raise ValidationError(
                    self.env._(
                        "The billing plan is in %(plan_currency)s but the customer is billed in %(currency)s. "
                        "Choose a plan in %(currency)s.",
                        plan_currency=subscription.plan_id.currency_id.name,
                        currency=subscription.currency_id.name,
                    )
                )

    @api.constrains("plan_id", "tax_rate_ids", "mode")
    def _check_mode(self):
        for subscription in self:
            records = [*subscription.plan_id, *subscription.tax_rate_ids]
            wrong = [record for record in records if record.mode != subscription.mode]
            if wrong:
                raise ValidationError(
                    self.env._(
                        "%(record)s comes from Stripe's %(other)s mode, but this subscription is in %(mode)s mode.",
                        record=wrong[0].display_name,
                        other=wrong[0].mode,
                        mode=subscription.mode,
                    )
                )

    @api.constrains("quantity")
    def _check_quantity(self):
        if any(subscription.quantity <= 0 for subscription in self):
            raise ValidationError(self.env._("The quantity must be greater than zero."))

    @api.constrains("first_billing_date")
    def _check_first_billing_date(self):
        today = fields.Date.context_today(self)
        for subscription in self:
            if (
                subscription.state == "not_subscribed"
                and subscription.first_billing_date
                and (subscription.first_billing_date < today)
            ):
                raise ValidationError(self.env._("The first billing date cannot be in the past."))

    @api.constrains("contact_id", "partner_id")
    def _check_contact(self):
        for subscription in self:
            if subscription.contact_id.commercial_partner_id != subscription.partner_id.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "The primary contact must be %(customer)s or one of its contacts.",
                        customer=subscription.partner_id.commercial_partner_id.display_name,
                    )
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        subscriptions = super().create(vals_list)
        subscriptions._vita_copy_default_terms_translations()
        return subscriptions

    def _vita_copy_default_terms_translations(self):
        """Terms left as the company's default are shown to each customer in
        their language: they take the default's translations."""
        for subscription in self:
            company = subscription.company_id
            if not subscription.terms or subscription.terms != company.vita_terms:
                continue
            translations, _context = company.get_field_translations("vita_terms")
            terms_by_lang = {}
            for translation in translations:
                if translation["value"]:
                    terms_by_lang.setdefault(translation["lang"], {})[translation["source"]] = translation["value"]
            if terms_by_lang:
                subscription.update_field_translations("terms", terms_by_lang)

    def write(self, vals):
        subscribed = self.filtered("stripe_subscription_id")
        frozen = FROZEN_ONCE_SUBSCRIBED.intersection(vals)
        if subscribed and frozen and not self.env.context.get("vita_from_stripe"):
            names = ", ".join(self._fields[name].get_description(self.env)["string"] for name in sorted(frozen))
            raise UserError(self.env._("These fields cannot change once the customer has subscribed: %s", names))
        result = super().write(vals)
        changed = STRIPE_SYNCED_FIELDS.intersection(vals)
        if changed and not self.env.context.get("vita_from_stripe"):
            # Stripe refusing raises: the whole transaction, this write
            # included, is rolled back.
            for subscription in subscribed.filtered(lambda s: s.state not in ENDED_STATES):
                subscription._vita_stripe_push_changes(changed)
        return result

    @api.ondelete(at_uninstall=False)
    def _vita_unlink_cancel_in_stripe(self):
        """Not subscribed: delete. Test mode: cancel in Stripe, then delete
        (managers only). Live and ever subscribed: refuse, cancel instead."""
        subscribed = self.filtered("stripe_subscription_id")
        live = subscribed.filtered(lambda s: s.mode == "live")
        if live:
            raise UserError(
                self.env._(
                    "%(name)s was subscribed in live mode and cannot be deleted: cancel it instead.",
                    name=live[0].display_name,
                )
            )
        if subscribed and not self.env.user.has_group("vita_subscriptions.group_subscription_manager"):
            raise UserError(self.env._("Only subscription managers can delete a subscribed test subscription."))
        for subscription in subscribed.filtered(lambda s: s.state not in ENDED_STATES):
            subscription._vita_stripe_cancel(now=True)

    # ------------------------------------------------------------------
    # Stripe
    # ------------------------------------------------------------------

    def _vita_gateway(self):
        self.ensure_one()
        gateway = StripeGateway.for_company(self.env, self.company_id)
        if gateway.mode != self.mode:
            raise UserError(
                self.env._(
                    "%(name)s is a %(mode)s-mode subscription but Stripe is now in %(current)s mode.",
                    name=self.display_name,
                    mode=self.mode,
                    current=gateway.mode,
                )
            )
        return gateway

    def _vita_stripe_metadata(self):
        # Real Stripe also has a `description` field on subscriptions; the
        # metadata carries name and description the same way on every API
        # version (and on localstripe).
        return {
            "odoo_subscription_id": str(self.id),
            "odoo_name": (self.name or "")[:500],
            "odoo_description": (self.description or "")[:500],
        }

    def _vita_first_billing_timestamp(self):
        """Unix time Stripe starts billing, or None for "now"."""
        today = fields.Date.context_today(self)
        if not self.first_billing_date or self.first_billing_date <= today:
            return None
        moment = datetime.combine(self.first_billing_date, BILLING_HOUR_UTC, tzinfo=UTC)
        return int(moment.timestamp())

    def _vita_stripe_start_params(self):
        """Either a billing cycle anchor or a trial end for a future start.

        Stripe accepts a billing_cycle_anchor at most one interval ahead;
        without proration nothing is charged until then. Further ahead, a
        trial until that date gives the same result.
        https://docs.stripe.com/billing/subscriptions/billing-cycle
        """
        timestamp = self._vita_first_billing_timestamp()
        if timestamp is None:
            return {}
        plan = self.plan_id
        one_interval_ahead = fields.Date.context_today(self) + relativedelta(
            **{f"{plan.interval}s": plan.interval_count}
        )
        if self.first_billing_date <= one_interval_ahead:
            return {"billing_cycle_anchor": timestamp, "proration_behavior": "none"}
        return {"trial_end": timestamp}

    def _vita_stripe_subscribe(self, payment_method_id=None):
        """Create the Stripe subscription; ``payment_method_id`` (a new card)
        pays, else the customer's default card.

        Called when the customer subscribes on the portal. The idempotency
        key covers every value sent, so a double click or a retried request
        returns the first subscription instead of creating a second one.
        The first billing date is filled in once Stripe says the
        subscription is live (``_vita_apply_stripe_subscription``), so a failed
        attempt leaves it as the back office set it.
        """
        self.ensure_one()
        if self.stripe_subscription_id or self.state != "not_subscribed":
            raise UserError(self.env._("%s is already subscribed.", self.display_name))
        if not self.plan_id.active:
            raise UserError(self.env._("The billing plan %s is no longer offered in Stripe.", self.plan_id.name))
        gateway = self._vita_gateway()
        customer_id = self.partner_id._vita_stripe_customer(gateway)
        start = self._vita_stripe_start_params()
        tax_rates = self.tax_rate_ids.mapped("stripe_id")
        item = {"plan": self.plan_id.stripe_id, "quantity": self.quantity}
        if tax_rates:
            item["tax_rates"] = tax_rates
        key = gateway.idempotency_key(
            self,
            "subscribe",
            self.stripe_attempt,
            self.plan_id.stripe_id,
            self.quantity,
            payment_method_id or "",
            *tax_rates,
            *start.items(),
        )
        stripe_subscription = gateway.create_subscription(
            customer_id,
            item,
            self._vita_stripe_metadata(),
            start,
            idempotency_key=key,
            payment_method_id=payment_method_id,
        )
        self.with_context(vita_from_stripe=True).stripe_subscription_id = stripe_subscription.id
        self._vita_apply_stripe_subscription(stripe_subscription)
        return stripe_subscription

    def _vita_stripe_abandon(self):
        """Undo a subscribe attempt whose first payment failed.

        Stripe keeps such a subscription ``incomplete`` for 23 hours; we
        cancel it at once so nothing stays half-created, and the next
        attempt gets a new idempotency key.
        """
        self.ensure_one()
        if self.stripe_subscription_id:
            self._vita_gateway().cancel_subscription(self.stripe_subscription_id)
        self.with_context(vita_from_stripe=True).write(
            {
                "stripe_subscription_id": False,
                "stripe_item_id": False,
                "state": "not_subscribed",
                "next_billing_date": False,
                "stripe_attempt": self.stripe_attempt + 1,
            }
        )

    def _vita_stripe_first_payment_outcome(self, stripe_subscription=None):
        """After subscribing (or after 3-D Secure in the page): what the page
        must do next. Returns a dict for the portal's JavaScript."""
        self.ensure_one()
        gateway = self._vita_gateway()
        if stripe_subscription is None:
            stripe_subscription = gateway.retrieve_subscription(self.stripe_subscription_id)
            self._vita_apply_stripe_subscription(stripe_subscription)
        if self.state in ("future", "active"):
            self._vita_stripe_subscribed(gateway, stripe_subscription)
        if self.state != "incomplete":
            return {"state": self.state}
        invoice_id = stripe_id(stripe_subscription.latest_invoice)
        payment = gateway.first_payment(invoice_id)
        if payment["status"] == "requires_action" and payment["client_secret"]:
            return {"state": self.state, "requires_action": True, "client_secret": payment["client_secret"]}
        reason = payment["error"] or self.env._("your card was declined or not authenticated.")
        self._vita_stripe_abandon()
        staff = self._vita_in_staff_language()
        staff._vita_attempt_failed(staff.env._("A subscribe attempt failed: %s", reason))
        return {"state": self.state, "error": self.env._("The payment failed: %s Please try another card.", reason)}

    def _vita_stripe_subscribed(self, gateway, stripe_subscription):
        """The subscription is live: the card that paid becomes the
        customer's default (not before: a declined card must not pay the
        customer's other subscriptions), and the back office's reminder of
        a failed attempt is done."""
        card_id = stripe_id(field(stripe_subscription, "default_payment_method"))
        if card_id:
            gateway.make_default_card(stripe_id(stripe_subscription.customer), card_id)
        self.activity_ids.filtered(lambda activity: activity.summary == self._vita_attempt_summary()).action_feedback(
            feedback=self.env._("The customer subscribed.")
        )

    def _vita_attempt_summary(self):
        return self.env._("Subscription not completed")

    def _vita_attempt_failed(self, note):
        """A subscribe attempt that did not go through: a note for the
        record, and one activity for the responsible user however many
        attempts fail."""
        self.message_post(body=note, subtype_xmlid="mail.mt_note")
        summary = self._vita_attempt_summary()
        if not self.activity_ids.filtered(lambda activity: activity.summary == summary):
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                note=self.env._("The customer tried to subscribe; see the notes below. Contact them if needed."),
                user_id=(self.user_id or self.env.ref("base.user_root")).id,
            )

    def _vita_portal_saved_card(self):
        """The customer's default card, live from Stripe, when it has one
        (on the sudo record the portal page shows)."""
        self.ensure_one()
        partner = self.commercial_partner_id.with_company(self.company_id)
        customer_id = partner[f"vita_stripe_customer_{self.mode}_id"]
        return self._vita_gateway().default_card(customer_id) if customer_id else None

    def _vita_portal_setup_intent(self, attempt):
        """The client secret of a SetupIntent for the card the customer
        types on the page; ``attempt`` (one per click, kept on network
        retries) makes the idempotency key."""
        self.ensure_one()
        gateway = self._vita_gateway()
        customer_id = self.partner_id._vita_stripe_customer(gateway)
        key = gateway.idempotency_key(self, "setup-intent", attempt or "")
        return gateway.create_setup_intent(customer_id, key).client_secret

    def _vita_portal_subscribe(self, payment_method_id=None):
        """Subscribe from the portal with a new card (confirmed SetupIntent)
        or the customer's saved default card.

        The row lock makes a double click wait for the first click and then
        find the subscription already subscribed: one Stripe subscription.
        """
        self.ensure_one()
        self.env.cr.execute("SELECT id FROM vita_subscription WHERE id = %s FOR NO KEY UPDATE", [self.id])
        self.invalidate_recordset()
        if self.state not in ("not_subscribed", "incomplete"):
            return {"state": self.state}
        gateway = self._vita_gateway()
        customer_id = self.partner_id._vita_stripe_customer(gateway)
        if payment_method_id:
            gateway.attach_card(customer_id, payment_method_id)
        elif not gateway.default_card(customer_id):
            raise UserError(self.env._("No saved card: please enter a card."))
        if self.state == "incomplete":
            # The first payment of an earlier attempt was never completed:
            # the customer pays again, maybe with another card.
            self._vita_stripe_abandon()
        outcome = self._vita_stripe_first_payment_outcome(self._vita_stripe_subscribe(payment_method_id))
        if outcome.get("requires_action"):
            staff = self._vita_in_staff_language()
            staff._vita_attempt_failed(
                staff.env._("The first payment awaits the customer's 3-D Secure authentication.")
            )
        return outcome

    def _vita_portal_failed(self, detail, attempt=False):
        """A customer's request on the portal that Stripe failed: the
        customer was told what to do, the back office gets the detail (and,
        for a subscribe ``attempt``, the reminder to follow it up)."""
        staff = self._vita_in_staff_language()
        note = staff.env._("A request of the customer on the portal failed: %s", detail)
        if attempt:
            staff._vita_attempt_failed(note)
        else:
            staff.message_post(body=note, subtype_xmlid="mail.mt_note")

    def _vita_stripe_push_changes(self, changed):
        """Send the changed values of a subscribed record to Stripe."""
        self.ensure_one()
        params = {"metadata": self._vita_stripe_metadata()}
        if changed & {"plan_id", "quantity", "tax_rate_ids"}:
            item = {"id": self.stripe_item_id, "plan": self.plan_id.stripe_id, "quantity": self.quantity}
            tax_rates = self.tax_rate_ids.mapped("stripe_id")
            if tax_rates:
                item["tax_rates"] = tax_rates
            elif "tax_rate_ids" in changed:
                item["tax_rates"] = ""  # Stripe clears an item's tax rates with an empty string.
            params["items"] = [item]
            if not self.env["ir.config_parameter"].sudo().get_param(PARAM_PRORATION):
                # Stripe's default for updates is create_prorations.
                params["proration_behavior"] = "none"
        stripe_subscription = self._vita_gateway().update_subscription(self.stripe_subscription_id, params)
        self._vita_apply_stripe_subscription(stripe_subscription)
        return stripe_subscription

    def _vita_stripe_cancel(self, now):
        self.ensure_one()
        gateway = self._vita_gateway()
        details = self._vita_stripe_cancellation_details()
        if now:
            stripe_subscription = gateway.cancel_subscription(self.stripe_subscription_id, details)
        else:
            params = {"cancel_at_period_end": True}
            if details:
                params["cancellation_details"] = details
            stripe_subscription = gateway.update_subscription(self.stripe_subscription_id, params)
        self._vita_apply_stripe_subscription(stripe_subscription)

    def _vita_apply_stripe_subscription(self, stripe_subscription, keep=()):
        """Make this record tell what ``stripe_subscription`` says, except
        the fields in ``keep`` (drift the user resolves).

        The state comes from the one status table (const.py); a status we do
        not know and a subscription with several items are flagged for the
        responsible user, never silently changed.
        """
        self.ensure_one()
        items = stripe_subscription["items"].data if "items" in stripe_subscription else []
        vals = {
            "cancel_at_period_end": bool(stripe_subscription.cancel_at_period_end),
            "next_billing_date": _next_billing_date(stripe_subscription, items),
        }
        start_day = stripe_date(getattr(stripe_subscription, "start_date", None), self)
        anomalies = []
        if len(items) > 1:
            anomalies.append(self.env._("The Stripe subscription has %s items; only one is supported.", len(items)))
        elif items:
            vals["stripe_item_id"] = items[0].id
        state = state_from_stripe(stripe_subscription.status, _first_billing_ahead(stripe_subscription))
        if state is None:
            anomalies.append(self.env._("Stripe status “%s” is unknown to Odoo.", stripe_subscription.status))
            _logger.warning(
                "Subscription %s: unknown Stripe status %s kept as %s",
                self.id,
                stripe_subscription.status,
                self.state,
            )
        else:
            vals["state"] = state
        if state in LIVE_STATES and start_day and (not self.first_billing_date or self.first_billing_date < start_day):
            # Empty, or passed by the time the customer subscribed: the day Stripe started.
            vals["first_billing_date"] = start_day
        anomaly = " ".join(anomalies) or False
        if anomaly and anomaly != self.stripe_anomaly:
            self._vita_flag_for_responsible(anomaly)
        vals["stripe_anomaly"] = anomaly
        for name in keep:
            vals.pop(name, None)
        self.with_context(vita_from_stripe=True).write(vals)

    def _vita_in_staff_language(self):
        """This record in the language of the back office that reads what
        is written on it (chatter notes, activities): its responsible's,
        else its company's. A webhook, a cron or a customer on the portal
        writes them, not their reader; what is written stays as written."""
        self.ensure_one()
        lang = self.user_id.lang or self.company_id.partner_id.lang
        return self.with_context(lang=lang) if lang else self

    def _vita_flag_for_responsible(self, note):
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Check this subscription in Stripe"),
            note=note,
            user_id=(self.user_id or self.env.user).id,
        )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def _vita_check_stripe_rights(self):
        """Before a change in Stripe, which no rollback undoes (SPEC §12):
        the caller may write these records (access rights and record rules)
        and, if a portal user, is their primary contact. In sudo (the portal
        controller) only the latter: the controller has checked the visitor
        may see the record."""
        self.check_access("write")
        user = self.env.user
        if user.share and any(subscription.contact_id != user.partner_id for subscription in self):
            raise AccessError(self.env._("Only the primary contact of this subscription may do this."))

    def action_send_email(self):
        self.ensure_one()
        self._vita_check_stripe_rights()  # the e-mail carries the link that subscribes
        template = self.env.ref("vita_subscriptions.mail_template_subscription", raise_if_not_found=False)
        return {
            "type": "ir.actions.act_window",
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": self._name,
                "default_res_ids": self.ids,
                "default_template_id": template.id if template else False,
                "default_composition_mode": "comment",
                "default_email_layout_xmlid": "mail.mail_notification_layout_with_responsible_signature",
                "force_email": True,
            },
        }

    def action_preview(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "target": "self", "url": self.get_portal_url()}

    def action_cancel(self):
        self.ensure_one()
        self._vita_check_stripe_rights()
        self._check_can_cancel()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Cancel subscription"),
            "res_model": "vita.subscription.cancel",
            "view_mode": "form",
            "target": "new",
            "context": {"default_subscription_id": self.id},
        }

    def _check_can_cancel(self):
        if not self.stripe_subscription_id or self.state in ENDED_STATES:
            raise UserError(self.env._("Only a running subscription can be cancelled."))

    def action_cancel_now(self):
        self._vita_check_stripe_rights()
        for subscription in self:
            subscription._check_can_cancel()
            subscription._vita_stripe_cancel(now=True)

    def action_cancel_at_period_end(self):
        self._vita_check_stripe_rights()
        for subscription in self:
            subscription._check_can_cancel()
            if not subscription.cancel_at_period_end:
                subscription._vita_stripe_cancel(now=False)

    def _vita_can_reactivate(self):
        self.ensure_one()
        return bool(self.stripe_subscription_id and self.cancel_at_period_end and self.state not in ENDED_STATES)

    def action_reactivate(self):
        self._vita_check_stripe_rights()
        for subscription in self:
            if not subscription._vita_can_reactivate():
                raise UserError(
                    self.env._(
                        "Only a subscription cancelled at the end of its billing period, "
                        "and not ended yet, can be reactivated."
                    )
                )
            stripe_subscription = subscription._vita_gateway().update_subscription(
                subscription.stripe_subscription_id, {"cancel_at_period_end": False}
            )
            subscription._vita_apply_stripe_subscription(stripe_subscription)

    def action_view_invoices(self):
        """The invoices of the subscription; the invoice itself when there is one."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [("vita_subscription_id", "=", self.id)]
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        if len(self.invoice_ids) == 1:
            action.update(
                {
                    "view_mode": "form",
                    "views": [(self.env.ref("account.view_move_form").id, "form")],
                    "res_id": self.invoice_ids.id,
                }
            )
        return action

    def action_sync_from_stripe_button(self):
        """Sync from Stripe on the form, then say what the record shows now."""
        self.action_sync_from_stripe()
        states = dict(self._fields["state"]._description_selection(self.env))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Synchronised with Stripe"),
                "message": self.env._(
                    "%(name)s: %(state)s.", name=self.display_name, state=states.get(self[:1].state, "")
                )
                if len(self) == 1
                else self.env._("%s subscriptions synchronised.", len(self)),
                "type": "warning" if self.filtered("stripe_drift") else "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }


def _first_billing_ahead(stripe_subscription):
    """Whether Stripe has not reached the first billing date yet."""
    now = datetime.now(UTC).timestamp()
    start = max(
        getattr(stripe_subscription, "trial_end", None) or 0,
        getattr(stripe_subscription, "billing_cycle_anchor", None) or 0,
    )
    return start > now


def _next_billing_date(stripe_subscription, items):
    """Where the current period ends; newer API versions keep it on items."""
    period_end = (getattr(items[0], "current_period_end", None) if items else None) or getattr(
        stripe_subscription, "current_period_end", None
    )
    if stripe_subscription.status in ENDED_STATES or not period_end:
        return False
    return datetime.fromtimestamp(period_end, UTC).date()
