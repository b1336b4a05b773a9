import time

from odoo import models
from odoo.exceptions import UserError

from ..const import PARAM_PRORATION
from ..utils import from_stripe_amount

# A plan or quantity changes only while Stripe bills the subscription.
CHANGEABLE_STATES = ("future", "active")
MAX_PORTAL_QUANTITY = 9999


class VitaSubscription(models.Model):
    """Plan and quantity changes with Stripe's price preview (issue 11,
    part 4): the portal's "Change plan" and the back office's wizard both
    preview the change, then apply it."""

    _inherit = "vita.subscription"  # pylint: disable=consider-merging-classes-inherited

    def _vita_proration_behavior(self):
        """The proration setting: Stripe credits the unused time and
        charges the new price on the next invoice, or simply bills the new
        price from the next period on."""
        if self.env["ir.config_parameter"].sudo().get_param(PARAM_PRORATION):
            return "create_prorations"
        return "none"

    def _vita_portal_plans(self):
        """The plans the customer may switch to from the portal: offered
        there by the company, in the subscription's currency and mode."""
        self.ensure_one()
        return (
            self.env["vita.stripe.plan"]
            .sudo()
            .search(
                [
                    ("offered_in_portal", "=", True),
                    ("company_id", "=", self.company_id.id),
                    ("mode", "=", self.mode),
                    ("currency_id", "=", self.currency_id.id),
                ]
            )
        )

    def _vita_can_change_plan(self):
        self.ensure_one()
        return bool(
            self.stripe_subscription_id
            and self.stripe_item_id
            and self.state in CHANGEABLE_STATES
            and not self.cancel_at_period_end
        )

    def _vita_check_plan_change(self, plan, quantity, portal=False):
        self.ensure_one()
        if not self._vita_can_change_plan():
            raise UserError(self.env._("Only a running subscription that is not being cancelled can change its plan."))
        if not plan or not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise UserError(self.env._("Choose a plan and a quantity of at least 1."))
        if portal and (plan not in self._vita_portal_plans() or quantity > MAX_PORTAL_QUANTITY):
            raise UserError(self.env._("This plan is not offered here."))
        if plan.currency_id != self.currency_id or plan.mode != self.mode or plan.company_id != self.company_id:
            raise UserError(
                self.env._(
                    "The new plan must be in %(currency)s, like the subscription.", currency=self.currency_id.name
                )
            )
        if not plan.active:
            raise UserError(self.env._("The plan %s is archived in Stripe.", plan.display_name))
        if plan == self.plan_id and quantity == self.quantity:
            raise UserError(self.env._("This is already the current plan and quantity."))

    def _vita_plan_change_item(self, plan, quantity):
        """The one item of the subscription, on its new price and quantity
        (a plan's id is its price's id)."""
        item = {"id": self.stripe_item_id, "price": plan.stripe_id, "quantity": quantity}
        tax_rates = self.tax_rate_ids.mapped("stripe_id")
        if tax_rates:
            item["tax_rates"] = tax_rates
        return item

    def _vita_preview_plan_change(self, plan, quantity, portal=False):
        """What Stripe will charge for the change: nothing today (the
        change is billed with the next invoice), then the next invoice's
        amount, prorations for the rest of the period included.

        ``proration_date`` is returned for the change to be prorated exactly
        as previewed."""
        self.ensure_one()
        self._vita_check_plan_change(plan, quantity, portal=portal)
        behavior = self._vita_proration_behavior()
        proration_date = int(time.time())
        preview = self._vita_gateway().preview_subscription_change(
            self.stripe_subscription_id,
            [self._vita_plan_change_item(plan, quantity)],
            behavior,
            proration_date if behavior != "none" else None,
        )
        currency = self.currency_id
        return {
            "plan_id": plan.id,
            "quantity": quantity,
            "proration_behavior": behavior,
            "proration_date": proration_date,
            "currency_id": currency.id,
            "amount_now": 0.0,
            "amount_next": from_stripe_amount(preview["amount_due"], currency),
            "amount_proration": from_stripe_amount(preview["proration"], currency),
            "next_date": self.next_billing_date,
        }

    def _vita_change_plan(self, plan, quantity, proration_date=None, portal=False):
        """Apply the change in Stripe, then here; the chatter says who
        changed what. The row lock makes a double click change once."""
        self.ensure_one()
        self._vita_check_stripe_rights()
        self.env.cr.execute("SELECT id FROM vita_subscription WHERE id = %s FOR NO KEY UPDATE", [self.id])
        self.invalidate_recordset()
        self._vita_check_plan_change(plan, quantity, portal=portal)
        behavior = self._vita_proration_behavior()
        params = {
            "items": [self._vita_plan_change_item(plan, quantity)],
            "proration_behavior": behavior,
            "metadata": self._vita_stripe_metadata(),
        }
        if proration_date and behavior != "none":
            params["proration_date"] = int(proration_date)
        before = self._vita_plan_label()
        stripe_subscription = self._vita_gateway().update_subscription(self.stripe_subscription_id, params)
        self.with_context(vita_from_stripe=True).write({"plan_id": plan.id, "quantity": quantity})
        self._vita_apply_stripe_subscription(stripe_subscription)
        author = self.env.user.partner_id
        values = {"author": author.name, "before": before, "after": self._vita_plan_label()}
        self.message_post(
            body=self.env._("%(author)s changed the plan from the customer portal: %(before)s → %(after)s.", **values)
            if portal
            else self.env._("%(author)s changed the plan: %(before)s → %(after)s.", **values),
            author_id=author.id,
            subtype_xmlid="mail.mt_note",
        )

    def _vita_plan_label(self):
        return f"{self.quantity} × {self.plan_id.display_name}"

    def action_change_plan(self):
        self.ensure_one()
        self._vita_check_stripe_rights()
        if not self._vita_can_change_plan():
            raise UserError(self.env._("Only a running subscription that is not being cancelled can change its plan."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Change plan"),
            "res_model": "vita.subscription.plan.change",
            "view_mode": "form",
            "target": "new",
            "context": {"default_subscription_id": self.id},
        }
