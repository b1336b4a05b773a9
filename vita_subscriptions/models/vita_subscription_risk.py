import calendar
import logging
from datetime import UTC, date, datetime

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..stripe_shapes import stripe_id

_logger = logging.getLogger(__name__)

# Why a renewal is at risk, most urgent first (issue 11, part 3).
AT_RISK_REASONS = [
    ("payment_failed", "Payment failed"),
    ("authentication", "Authentication needed"),
    ("card_expires", "Card expires before the next billing"),
]
# Stripe still renews these; ended ones are not at risk any more.
RENEWING_STATES = ("future", "active", "past_due", "unpaid")


def card_vals(card):
    """Subscription values for a card dict (``StripeGateway.card_details``);
    the card number never reaches Odoo, only its brand, last 4 and expiry."""
    if not card:
        return {
            "card_payment_method_id": False,
            "card_brand": False,
            "card_last4": False,
            "card_exp_month": 0,
            "card_exp_year": 0,
        }
    return {
        "card_payment_method_id": card["id"],
        "card_brand": card["brand"] or False,
        "card_last4": card["last4"] or False,
        "card_exp_month": card["exp_month"] or 0,
        "card_exp_year": card["exp_year"] or 0,
    }


class VitaSubscription(models.Model):
    """Renewals at risk: the card, failed payments, authentications."""

    _inherit = "vita.subscription"  # pylint: disable=consider-merging-classes-inherited

    card_payment_method_id = fields.Char("Stripe card", readonly=True, copy=False, groups="base.group_user")
    card_brand = fields.Char(readonly=True, copy=False)
    card_last4 = fields.Char("Card last 4 digits", size=4, readonly=True, copy=False)
    card_exp_month = fields.Integer("Card expiry month", readonly=True, copy=False)
    card_exp_year = fields.Integer("Card expiry year", readonly=True, copy=False)
    card_expiry_date = fields.Date(
        compute="_compute_card_expiry_date", store=True, help="The last day the card may be charged."
    )
    stripe_next_retry = fields.Datetime(
        "Next payment retry", readonly=True, copy=False, help="When Stripe tries the failed payment again."
    )
    renewal_needs_authentication = fields.Boolean(
        "Last renewal needed authentication",
        readonly=True,
        copy=False,
        help="The bank asked the customer to authenticate the last renewal (3-D Secure); cleared once paid.",
    )
    at_risk = fields.Boolean("Renewal at risk", compute="_compute_at_risk", store=True, index=True, compute_sudo=True)
    at_risk_reason = fields.Selection(AT_RISK_REASONS, compute="_compute_at_risk", store=True, compute_sudo=True)

    @api.depends("card_exp_month", "card_exp_year")
    def _compute_card_expiry_date(self):
        for subscription in self:
            month, year = subscription.card_exp_month, subscription.card_exp_year
            if 1 <= month <= 12 and year:
                subscription.card_expiry_date = date(year, month, calendar.monthrange(year, month)[1])
            else:
                subscription.card_expiry_date = False

    @api.depends(
        "state", "cancel_at_period_end", "renewal_needs_authentication", "card_expiry_date", "next_billing_date"
    )
    def _compute_at_risk(self):
        for subscription in self:
            subscription.at_risk_reason = subscription._vita_at_risk_reason()
            subscription.at_risk = bool(subscription.at_risk_reason)

    def _vita_at_risk_reason(self):
        self.ensure_one()
        if self.state not in RENEWING_STATES:
            return False
        if self.state in ("past_due", "unpaid"):
            return "payment_failed"
        if self.renewal_needs_authentication:
            return "authentication"
        if (
            not self.cancel_at_period_end
            and self.card_expiry_date
            and self.next_billing_date
            and self.card_expiry_date < self.next_billing_date
        ):
            return "card_expires"
        return False

    # ------------------------------------------------------------------
    # Keeping the card current
    # ------------------------------------------------------------------

    def _vita_set_card(self, card):
        vals = card_vals(card)
        changed = self.filtered(lambda s: any(s[name] != value for name, value in vals.items()))
        changed.with_context(vita_from_stripe=True).write(vals)

    def _vita_refresh_card(self, gateway, customer_id):
        """The customer's default card, read from Stripe after a subscribe.
        The card is only shown and checked for expiry: Stripe failing to say
        it must not undo a subscription that went through."""
        try:
            card = gateway.default_card(customer_id)
        except UserError as error:
            _logger.warning("Subscription %s: card details not read from Stripe: %s", self.ids, error)
            return
        self._vita_set_card(card)

    def _vita_stripe_subscribed(self, gateway, stripe_subscription):
        result = super()._vita_stripe_subscribed(gateway, stripe_subscription)
        self._vita_refresh_card(gateway, stripe_id(stripe_subscription.customer))
        return result

    # ------------------------------------------------------------------
    # Failed payments and authentication
    # ------------------------------------------------------------------

    def _vita_payment_problem(self, stripe_invoice, action_required):
        handled = super()._vita_payment_problem(stripe_invoice, action_required)
        if handled:
            vals = {}
            if action_required:
                # The first payment's authentication is the portal's
                # business (state incomplete); later ones are renewals.
                if stripe_invoice.get("billing_reason") != "subscription_create":
                    vals["renewal_needs_authentication"] = True
            else:
                retry = stripe_invoice.get("next_payment_attempt")
                vals["stripe_next_retry"] = datetime.fromtimestamp(retry, UTC).replace(tzinfo=None) if retry else False
            if vals:
                self.with_context(vita_from_stripe=True).write(vals)
        return handled

    def _vita_invoice_paid(self, stripe_invoice):
        move = super()._vita_invoice_paid(stripe_invoice)
        if self.stripe_next_retry or self.renewal_needs_authentication:
            self.with_context(vita_from_stripe=True).write(
                {"stripe_next_retry": False, "renewal_needs_authentication": False}
            )
        return move

    # ------------------------------------------------------------------
    # Card-update e-mail
    # ------------------------------------------------------------------

    def action_send_card_update_email(self):
        """E-mail the primary contact of each subscription a link to the
        portal's card page."""
        self._vita_check_stripe_rights()
        template = self.env.ref("vita_subscriptions.mail_template_card_update")
        for subscription in self:
            subscription.message_post_with_source(template, message_type="comment", subtype_xmlid="mail.mt_comment")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("Card-update e-mail sent to %s customer(s).", len(self)),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    def _vita_card_changed(self, gateway, payment_method_id):
        """The portal's new card is the one renewals are charged on."""
        result = super()._vita_card_changed(gateway, payment_method_id)
        card = gateway.card_details(payment_method_id)
        self.env["vita.subscription"].sudo().search(
            [
                ("commercial_partner_id", "=", self.commercial_partner_id.id),
                ("mode", "=", gateway.mode),
                ("stripe_subscription_id", "!=", False),
                ("state", "not in", ("canceled", "incomplete_expired")),
            ]
        )._vita_set_card(card)
        return result
