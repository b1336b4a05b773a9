from odoo import fields, models
from odoo.exceptions import UserError

from ..const import PARAM_PORTAL_ENABLED
from ..stripe_gateway import StripeGateway
from .vita_subscription import ENDED_STATES


class ResPartner(models.Model):
    _inherit = "res.partner"

    # One Stripe customer per commercial partner, per company (its Stripe
    # account) and per mode. No card data is ever stored in Odoo.
    vita_stripe_customer_test_id = fields.Char(
        "Stripe customer (test)", company_dependent=True, copy=False, groups="base.group_user"
    )
    vita_stripe_customer_live_id = fields.Char(
        "Stripe customer (live)", company_dependent=True, copy=False, groups="base.group_user"
    )
    vita_subscription_count = fields.Integer(
        compute="_compute_vita_subscription_count", groups="vita_subscriptions.group_subscription_user"
    )

    def _compute_vita_subscription_count(self):
        counts = dict(
            self.env["vita.subscription"]._read_group(
                [("commercial_partner_id", "in", self.commercial_partner_id.ids)],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.vita_subscription_count = counts.get(partner.commercial_partner_id, 0)

    def action_view_vita_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("vita_subscriptions.vita_subscription_action")
        action["domain"] = [("commercial_partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    def _vita_stripe_customer(self, gateway):
        """Stripe customer id of this partner's company, created on first need.

        The row lock makes two simultaneous first subscriptions wait for each
        other; the idempotency key makes a retried creation return the same
        customer.
        """
        partner = self.commercial_partner_id
        field = f"vita_stripe_customer_{gateway.mode}_id"
        partner_sudo = partner.sudo().with_company(gateway.provider.company_id)
        if partner_sudo[field]:
            return partner_sudo[field]
        self.env.cr.execute("SELECT id FROM res_partner WHERE id = %s FOR NO KEY UPDATE", [partner.id])
        partner_sudo.invalidate_recordset([field])
        if partner_sudo[field]:
            return partner_sudo[field]
        customer = gateway.create_customer(
            partner.name,
            partner.email,
            {"odoo_partner_id": str(partner.id)},
            idempotency_key=gateway.idempotency_key(partner, f"customer-{gateway.mode}"),
        )
        partner_sudo[field] = customer.id
        return customer.id

    def _vita_card_changed(self, gateway, payment_method_id):
        """A new default card: running subscriptions that carry their own
        default payment method (set in the Stripe dashboard) switch to it
        too; the others already follow the customer's default."""
        self.ensure_one()
        running = (
            self.env["vita.subscription"]
            .sudo()
            .search(
                [
                    ("commercial_partner_id", "=", self.commercial_partner_id.id),
                    ("mode", "=", gateway.mode),
                    ("stripe_subscription_id", "!=", False),
                    ("state", "not in", ("canceled", "incomplete_expired")),
                ]
            )
        )
        for subscription in running:
            stripe_subscription = gateway.retrieve_subscription(subscription.stripe_subscription_id)
            current = getattr(stripe_subscription, "default_payment_method", None)
            current_id = current if isinstance(current, str) or current is None else current.id
            if current_id and current_id != payment_method_id:
                gateway.update_subscription(
                    subscription.stripe_subscription_id, {"default_payment_method": payment_method_id}
                )
            subscription.message_post(body=self.env._("The customer replaced the card used for payments."))

    def _vita_may_change_card(self, user):
        """The customer itself or the primary contact of one of its
        subscriptions may replace the card."""
        commercial = self.commercial_partner_id
        if user.partner_id == commercial:
            return True
        return bool(
            self.env["vita.subscription"]
            .sudo()
            .search_count(
                [("commercial_partner_id", "=", commercial.id), ("contact_id", "=", user.partner_id.id)], limit=1
            )
        )

    # ------------------------------------------------------------------
    # Portal card page (called on the logged-in user's commercial partner,
    # sudo; the controller only routes and checks CSRF)
    # ------------------------------------------------------------------

    def _vita_card_page_company(self):
        """The company whose Stripe account the card page is about (the
        customer's own company, else the current one) when it bills a
        running subscription of this customer; none otherwise, or with the
        portal setting off: then there is no card page and no menu entry."""
        Company = self.env["res.company"]
        if not self.env["ir.config_parameter"].sudo().get_param(PARAM_PORTAL_ENABLED):
            return Company
        partner = self.sudo().commercial_partner_id
        company = partner.company_id or self.env.company
        provider = StripeGateway.find_provider(self.env, company)
        if not provider or provider.state == "disabled":
            return Company
        billed = (
            self.env["vita.subscription"]
            .sudo()
            .search_count(
                [
                    ("commercial_partner_id", "=", partner.id),
                    ("company_id", "=", company.id),
                    ("mode", "=", StripeGateway.mode_of(provider)),
                    ("stripe_subscription_id", "!=", False),
                    ("state", "not in", ENDED_STATES),
                ],
                limit=1,
            )
        )
        return company if billed else Company

    def _vita_card_gateway(self, user, change=False):
        """The gateway of the card page's Stripe account; ``change`` checks
        that ``user`` may replace the card."""
        self.ensure_one()
        if change and not self._vita_may_change_card(user):
            raise UserError(self.env._("Only the primary contact of a subscription may change the card."))
        company = self._vita_card_page_company()
        if not company:
            raise UserError(self.env._("You have no running subscription to pay by card."))
        return StripeGateway.for_company(self.env, company)

    def _vita_portal_card_values(self, user):
        """The card page: the default card Stripe holds and Stripe.js. Read
        only (a GET): a customer Stripe does not know yet has no card."""
        gateway = self._vita_card_gateway(user)
        partner_sudo = self.commercial_partner_id.sudo().with_company(gateway.provider.company_id)
        customer_id = partner_sudo[f"vita_stripe_customer_{gateway.mode}_id"]
        card = gateway.default_card(customer_id) if customer_id else None
        return {"card": card, **gateway.provider.company_id._vita_stripe_js_values()}

    def _vita_portal_card_setup_intent(self, user, attempt):
        """The client secret of a SetupIntent for a new card, for the Stripe
        customer (created now if need be); ``attempt`` (one per click, kept
        on network retries) makes the idempotency key."""
        gateway = self._vita_card_gateway(user, change=True)
        customer_id = self._vita_stripe_customer(gateway)
        key = gateway.idempotency_key(self, "card-setup-intent", attempt or "")
        return gateway.create_setup_intent(customer_id, key).client_secret

    def _vita_portal_card_update(self, user, payment_method_id):
        """Make a confirmed card the customer's default in Stripe."""
        if not payment_method_id:
            raise UserError(self.env._("No card was given."))
        gateway = self._vita_card_gateway(user, change=True)
        customer_id = self._vita_stripe_customer(gateway)
        gateway.make_default_card(customer_id, payment_method_id)
        self._vita_card_changed(gateway, payment_method_id)
