"""Customer portal: /my/subscriptions, /my/credit_card.

Who may do what (SPEC §5):
- the primary contact, logged in: view, subscribe, cancel, reactivate, change the card;
- a visitor holding the e-mailed access token: view and subscribe;
- other users of the same customer: view;
- anyone else: 404 (no existence leak), or the login page when anonymous without token.
Every state-changing request is a POST checked against Odoo's CSRF token.
"""

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request
from odoo.tools import consteq, format_date

from ..const import PARAM_PORTAL_ENABLED
from ..errors import StripeFailure
from ..models.vita_subscription import ENDED_STATES

PAGE_SIZE = 20
# The customer's own words about a cancellation, as Stripe keeps them.
MAX_COMMENT_LENGTH = 500
# Roles, from most to least powerful.
OWNER, TOKEN, VIEWER = "owner", "token", "viewer"


class VitaSubscriptionPortal(CustomerPortal):
    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    @staticmethod
    def _vita_portal_enabled():
        return bool(request.env["ir.config_parameter"].sudo().get_param(PARAM_PORTAL_ENABLED))

    @staticmethod
    def _vita_domain():
        partner = request.env.user.partner_id
        return [("commercial_partner_id", "=", partner.commercial_partner_id.id)]

    def _vita_access(self, subscription_id, access_token=None):
        """The subscription (sudo, as the visitor) and the visitor's role, or
        NotFound. Who may see it is Odoo's portal policy
        (``_document_check_access``): the record rules (portal users: their
        customer's subscriptions; staff: their groups) or the access token."""
        try:
            self._document_check_access("vita.subscription", subscription_id, access_token)
        except (AccessError, MissingError):
            raise NotFound() from None
        # sudo() keeps the visitor as env.user (chatter authors, card rights)
        subscription_sudo = request.env["vita.subscription"].sudo().browse(subscription_id)
        user = request.env.user
        if not user._is_public() and user.partner_id == subscription_sudo.contact_id:
            return subscription_sudo, OWNER
        if access_token and subscription_sudo.access_token and consteq(subscription_sudo.access_token, access_token):
            return subscription_sudo, TOKEN
        return subscription_sudo, VIEWER

    @staticmethod
    def _vita_check_csrf(csrf_token):
        if not request.validate_csrf(csrf_token):
            raise UserError(request.env._("Your session expired: reload the page and try again."))

    def _vita_require(self, role, allowed):
        if role not in allowed:
            raise UserError(request.env._("Only the primary contact of this subscription may do this."))

    @staticmethod
    def _vita_customer_message(error, subscription_sudo=None, attempt=False):
        """What the customer reads of a failed request. Nothing of it is
        kept (rolled back). A Stripe failure is told as what the customer
        can do (try again later, another card) and its technical detail
        goes to the subscription's chatter for the back office; our own
        messages are already meant for the customer."""
        request.env.cr.rollback()
        if not isinstance(error, StripeFailure):
            return str(error.args[0]) if error.args else str(error)
        if subscription_sudo:
            subscription_sudo._vita_portal_failed(str(error), attempt=attempt)
        return error.customer_message

    def _vita_json_error(self, error, subscription_sudo=None, attempt=False):
        return {"error": self._vita_customer_message(error, subscription_sudo, attempt)}

    # ------------------------------------------------------------------
    # Home and list
    # ------------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "vita_subscription_count" in counters:
            Subscription = request.env["vita.subscription"]
            visible = self._vita_portal_enabled() and Subscription.has_access("read")
            values["vita_subscription_count"] = Subscription.search_count(self._vita_domain()) if visible else 0
        return values

    def _prepare_portal_layout_values(self):
        values = super()._prepare_portal_layout_values()
        values["vita_portal_enabled"] = self._vita_portal_enabled()
        return values

    @http.route(
        ["/my/subscriptions", "/my/subscriptions/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        methods=["GET"],
    )
    def portal_my_vita_subscriptions(self, page=1, sortby=None, **kw):
        if not self._vita_portal_enabled():
            raise NotFound()
        # Listed as the visitor: the record rules decide what it may see.
        Subscription = request.env["vita.subscription"]
        if not Subscription.has_access("read"):
            raise NotFound()
        sortings = {
            "date": {"label": request.env._("Newest"), "order": "id desc"},
            "name": {"label": request.env._("Name"), "order": "name"},
            "state": {"label": request.env._("Status"), "order": "state, id desc"},
        }
        sortby = sortby if sortby in sortings else "date"
        domain = self._vita_domain()
        pager = portal_pager(
            url="/my/subscriptions",
            url_args={"sortby": sortby},
            total=Subscription.search_count(domain),
            page=page,
            step=PAGE_SIZE,
        )
        subscriptions = Subscription.search(
            domain, order=sortings[sortby]["order"], limit=PAGE_SIZE, offset=pager["offset"]
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "vita_subscriptions",
                "subscriptions": subscriptions.sudo(),
                "pager": pager,
                "searchbar_sortings": sortings,
                "sortby": sortby,
                "default_url": "/my/subscriptions",
            }
        )
        return request.render("vita_subscriptions.portal_my_subscriptions", values)

    # ------------------------------------------------------------------
    # Detail and actions
    # ------------------------------------------------------------------

    @http.route("/my/subscriptions/<int:subscription_id>", type="http", auth="public", website=True, methods=["GET"])
    def portal_vita_subscription(self, subscription_id, access_token=None, **kw):
        if request.env.user._is_public() and not access_token:
            return request.redirect(f"/web/login?redirect=/my/subscriptions/{subscription_id}")
        subscription_sudo, role = self._vita_access(subscription_id, access_token)
        # The back office previews the page (Preview button): nothing live.
        preview = request.env.user._is_internal()
        if preview:
            role = VIEWER
        # An incomplete subscription (3-D Secure never finished) is paid
        # from the page too: confirmed again, or with another card.
        can_subscribe = role in (OWNER, TOKEN) and subscription_sudo.state in ("not_subscribed", "incomplete")
        running = subscription_sudo.stripe_subscription_id and subscription_sudo.state not in ENDED_STATES
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "vita_subscription",
                "subscription": subscription_sudo,
                "role": role,
                "preview": preview,
                "backend_url": f"/odoo/action-vita_subscriptions.vita_subscription_action/{subscription_sudo.id}",
                "access_token": access_token if role == TOKEN else None,
                "can_subscribe": can_subscribe,
                "can_manage": role == OWNER,
                "can_reactivate": role == OWNER and subscription_sudo._vita_can_reactivate(),
                "cancellation_reasons": request.env["vita.cancellation.reason"].sudo().search([])
                if role == OWNER
                else None,
                "change_plans": self._vita_change_plans(subscription_sudo, role),
                "invoices": subscription_sudo.invoice_ids.filtered(lambda move: move.state == "posted"),
                "saved_card": None,
                "card_in_use": None,
                "stripe_error": None,
                "portal_message": request.session.pop("vita_portal_message", None),
                "portal_error": request.session.pop("vita_portal_error", None),
            }
        )
        try:
            if can_subscribe:
                values.update(subscription_sudo.company_id._vita_stripe_js_values())
                values["saved_card"] = subscription_sudo._vita_portal_saved_card()
            elif running and role in (OWNER, VIEWER):
                values["card_in_use"] = subscription_sudo._vita_portal_saved_card()
        except UserError as error:
            values["stripe_error"] = self._vita_customer_message(error)
        return request.render("vita_subscriptions.portal_subscription_page", values)

    @http.route("/my/subscriptions/<int:subscription_id>/setup_intent", type="json", auth="public", methods=["POST"])
    def portal_vita_setup_intent(self, subscription_id, csrf_token=None, access_token=None, attempt=None):
        """A SetupIntent for a new card; ``attempt`` (one per click, kept on
        network retries) makes the idempotency key."""
        subscription_sudo, role = self._vita_access(subscription_id, access_token)
        try:
            self._vita_check_csrf(csrf_token)
            self._vita_require(role, (OWNER, TOKEN))
            return {"client_secret": subscription_sudo._vita_portal_setup_intent(attempt)}
        except UserError as error:
            return self._vita_json_error(error, subscription_sudo, attempt=True)

    @http.route("/my/subscriptions/<int:subscription_id>/subscribe", type="json", auth="public", methods=["POST"])
    def portal_vita_subscribe(self, subscription_id, csrf_token=None, access_token=None, payment_method_id=None):
        subscription_sudo, role = self._vita_access(subscription_id, access_token)
        try:
            self._vita_check_csrf(csrf_token)
            self._vita_require(role, (OWNER, TOKEN))
            return self._vita_subscribed_message(subscription_sudo._vita_portal_subscribe(payment_method_id))
        except UserError as error:
            return self._vita_json_error(error, subscription_sudo, attempt=True)

    @http.route("/my/subscriptions/<int:subscription_id>/authenticated", type="json", auth="public", methods=["POST"])
    def portal_vita_authenticated(self, subscription_id, csrf_token=None, access_token=None):
        """After 3-D Secure in the page: Stripe says how it went."""
        subscription_sudo, role = self._vita_access(subscription_id, access_token)
        try:
            self._vita_check_csrf(csrf_token)
            self._vita_require(role, (OWNER, TOKEN))
            if not subscription_sudo.stripe_subscription_id:
                return {"state": subscription_sudo.state}
            return self._vita_subscribed_message(subscription_sudo._vita_stripe_first_payment_outcome())
        except UserError as error:
            return self._vita_json_error(error, subscription_sudo, attempt=True)

    @staticmethod
    def _vita_subscribed_message(outcome):
        """The page reloads after subscribing: tell the customer it worked."""
        if outcome.get("state") in ("future", "active"):
            request.session["vita_portal_message"] = request.env._("Thank you: you are subscribed.")
        return outcome

    @http.route(
        "/my/subscriptions/<int:subscription_id>/cancel", type="http", auth="user", methods=["POST"], website=True
    )
    def portal_vita_cancel(self, subscription_id, when="period_end", reason_id=None, comment=None, **kw):
        subscription_sudo, role = self._vita_access(subscription_id)
        reason = self._vita_cancellation_reason(reason_id)
        comment = (comment or "").strip()[:MAX_COMMENT_LENGTH]

        def cancel(action):
            def run():
                # Stored first: the Stripe call sends it as cancellation_details.
                if reason:
                    subscription_sudo._vita_set_cancellation_reason(reason, comment)
                action()

            return run

        if when == "now":
            return self._vita_manage(
                subscription_sudo,
                role,
                cancel(subscription_sudo.action_cancel_now),
                request.env._("Your subscription is cancelled."),
            )
        return self._vita_manage(
            subscription_sudo,
            role,
            cancel(subscription_sudo.action_cancel_at_period_end),
            request.env._("Your subscription is cancelled: it ends at the end of the billing period."),
        )

    @staticmethod
    def _vita_cancellation_reason(reason_id):
        """The active reason the customer picked, or an empty recordset
        (none picked, or a forged id)."""
        Reason = request.env["vita.cancellation.reason"].sudo()
        if not reason_id or not str(reason_id).isdigit():
            return Reason
        return Reason.browse(int(reason_id)).exists().filtered("active")

    # ------------------------------------------------------------------
    # Plan and quantity change (issue 11, part 4)
    # ------------------------------------------------------------------

    @staticmethod
    def _vita_change_plans(subscription_sudo, role):
        """The plans the primary contact may switch to, or None."""
        if role != OWNER or not subscription_sudo._vita_can_change_plan():
            return None
        return subscription_sudo._vita_portal_plans() or None

    @staticmethod
    def _vita_requested_plan(subscription_sudo, plan_id, quantity):
        """(plan, quantity) as the page sent them; the model checks them."""
        plan = request.env["vita.stripe.plan"].sudo()
        if plan_id and str(plan_id).isdigit():
            plan = plan.browse(int(plan_id)).exists()
        try:
            quantity = int(quantity)
        except (TypeError, ValueError):
            quantity = 0
        return plan, quantity

    @http.route("/my/subscriptions/<int:subscription_id>/plan_preview", type="json", auth="user", methods=["POST"])
    def portal_vita_plan_preview(self, subscription_id, csrf_token=None, plan_id=None, quantity=None):
        """Stripe's invoice preview of the change, formatted for the page."""
        subscription_sudo, role = self._vita_access(subscription_id)
        try:
            self._vita_check_csrf(csrf_token)
            self._vita_require(role, (OWNER,))
            plan, quantity = self._vita_requested_plan(subscription_sudo, plan_id, quantity)
            preview = subscription_sudo._vita_preview_plan_change(plan, quantity, portal=True)
        except UserError as error:
            return self._vita_json_error(error, subscription_sudo)
        currency = subscription_sudo.currency_id
        return {
            "amount_now": currency.format(preview["amount_now"]),
            "amount_next": currency.format(preview["amount_next"]),
            "amount_proration": currency.format(preview["amount_proration"]) if preview["amount_proration"] else False,
            "next_date": format_date(request.env, preview["next_date"]) if preview["next_date"] else False,
            "proration_date": preview["proration_date"],
        }

    @http.route(
        "/my/subscriptions/<int:subscription_id>/change_plan", type="http", auth="user", methods=["POST"], website=True
    )
    def portal_vita_change_plan(self, subscription_id, plan_id=None, quantity=None, proration_date=None, **kw):
        subscription_sudo, role = self._vita_access(subscription_id)
        plan, quantity = self._vita_requested_plan(subscription_sudo, plan_id, quantity)
        when = int(proration_date) if proration_date and str(proration_date).isdigit() else None
        return self._vita_manage(
            subscription_sudo,
            role,
            lambda: subscription_sudo._vita_change_plan(plan, quantity, proration_date=when, portal=True),
            request.env._("Your plan is changed."),
        )

    @http.route(
        "/my/subscriptions/<int:subscription_id>/reactivate", type="http", auth="user", methods=["POST"], website=True
    )
    def portal_vita_reactivate(self, subscription_id, **kw):
        subscription_sudo, role = self._vita_access(subscription_id)
        return self._vita_manage(
            subscription_sudo,
            role,
            subscription_sudo.action_reactivate,
            request.env._("Your subscription is active again."),
        )

    def _vita_manage(self, subscription_sudo, role, action, success_message):
        url = f"/my/subscriptions/{subscription_sudo.id}"
        try:
            self._vita_require(role, (OWNER,))
            action()
            request.session["vita_portal_message"] = success_message
        except UserError as error:
            request.session["vita_portal_error"] = self._vita_customer_message(error, subscription_sudo)
        return request.redirect(url)

    # ------------------------------------------------------------------
    # Credit card
    # ------------------------------------------------------------------

    @staticmethod
    def _vita_card_partner():
        """The logged-in user's customer (sudo: its Stripe customer ids are
        internal fields); the model checks who may change the card."""
        return request.env.user.partner_id.commercial_partner_id.sudo()

    @http.route("/my/credit_card", type="http", auth="user", website=True, methods=["GET"])
    def portal_vita_credit_card(self, **kw):
        partner = self._vita_card_partner()
        if not partner._vita_card_page_company():
            raise NotFound()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "vita_credit_card",
                "card": None,
                "stripe_error": None,
                "can_change_card": partner._vita_may_change_card(request.env.user),
                "portal_message": request.session.pop("vita_portal_message", None),
            }
        )
        try:
            values.update(partner._vita_portal_card_values(request.env.user))
        except UserError as error:
            values["stripe_error"] = self._vita_customer_message(error)
        return request.render("vita_subscriptions.portal_credit_card_page", values)

    @http.route("/my/credit_card/setup_intent", type="json", auth="user", methods=["POST"])
    def portal_vita_card_setup_intent(self, csrf_token=None, attempt=None):
        try:
            self._vita_check_csrf(csrf_token)
            partner = self._vita_card_partner()
            return {"client_secret": partner._vita_portal_card_setup_intent(request.env.user, attempt)}
        except UserError as error:
            return self._vita_json_error(error)

    @http.route("/my/credit_card/update", type="json", auth="user", methods=["POST"])
    def portal_vita_card_update(self, csrf_token=None, payment_method_id=None):
        try:
            self._vita_check_csrf(csrf_token)
            self._vita_card_partner()._vita_portal_card_update(request.env.user, payment_method_id)
            request.session["vita_portal_message"] = request.env._(
                "Your new card is saved: it pays your subscriptions from now on."
            )
            return {"state": "updated"}
        except UserError as error:
            return self._vita_json_error(error)
