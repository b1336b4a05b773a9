"""Bring the Stripe subscriptions Odoo does not know into Odoo.

*Load* lists them with a proposal each (customer, plan, quantity, taxes);
*Import* creates the records, links the Stripe customers to the partners
and writes ``odoo_subscription_id`` into Stripe's metadata. One batch is
imported in the request; more go to a cron job that commits after every
batch, shows its progress on the wizard and, killed, carries on where the
last commit left it. Running it again skips what is already linked.
"""

import logging
from datetime import UTC, datetime, time
from time import monotonic

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from .. import cron_limits
from ..const import MODES, STRIPE_SUBSCRIPTION_STATUSES, state_from_stripe
from ..stripe_gateway import StripeGateway
from ..stripe_shapes import item_price_id, single_item, subscription_items, subscription_tax_rate_ids
from ..utils import reopen_wizard, stripe_date

_logger = logging.getLogger(__name__)

BATCH_SIZE = 50
# Seconds of importing per cron run; Odoo runs the job again at once while
# lines remain (ir.cron progress), so other jobs get their turn. A run also
# stops between two lines before the CPU or wall-clock limit of the cron
# poll (Odoo counts both over all its runs in one poll, cron_limits.py),
# with these reserves for a line (four Stripe calls), and is triggered for
# the next poll, which starts with fresh limits.
CRON_TIME_BUDGET = 60
CRON_CPU_RESERVE = 10
CRON_REAL_RESERVE = 20
# Listed only on request: never charged, nothing to bring over.
HIDDEN_STATUSES = ("incomplete_expired",)


class VitaStripeImport(models.TransientModel):
    _name = "vita.stripe.import"
    _description = "Import subscriptions from Stripe"

    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)
    mode = fields.Selection(MODES, readonly=True)
    include_incomplete_expired = fields.Boolean(
        "Include expired incomplete subscriptions",
        help="Subscriptions whose first payment never succeeded; hidden by default.",
    )
    backfill_invoices = fields.Boolean(
        "Import paid invoices",
        help="Paid Stripe invoices of the imported subscriptions become paid Odoo invoices, "
        "exactly as webhooks book them.",
    )
    backfill_since = fields.Date("Paid invoices since", help="Empty: every paid invoice.")
    line_ids = fields.One2many("vita.stripe.import.line", "import_id", string="Stripe subscriptions")
    state = fields.Selection(
        [("draft", "Draft"), ("loaded", "Loaded"), ("running", "Importing"), ("done", "Done")], default="draft"
    )
    summary = fields.Text(readonly=True)
    queued_count = fields.Integer("Subscriptions to import", readonly=True)
    processed_count = fields.Integer("Subscriptions processed", compute="_compute_progress")
    progress = fields.Float(compute="_compute_progress")

    @api.depends("queued_count", "line_ids.done")
    def _compute_progress(self):
        Line = self.env["vita.stripe.import.line"]
        counts = dict(
            Line._read_group(
                [("import_id", "in", self.ids), ("queued", "=", True), ("done", "=", True)], ["import_id"], ["__count"]
            )
        )
        for wizard in self:
            wizard.processed_count = counts.get(wizard, 0)
            wizard.progress = 100.0 * wizard.processed_count / wizard.queued_count if wizard.queued_count else 0.0

    # ------------------------------------------------------------------
    # Load
    # ------------------------------------------------------------------

    def _vita_gateway(self):
        return StripeGateway.for_company(self.env, self.company_id)

    def action_load(self):
        """List the Stripe subscriptions unknown to Odoo, with proposals."""
        self.ensure_one()
        self.check_access("write")  # managers only: it may sync the catalogue in sudo
        gateway = self._vita_gateway()
        stripe_subscriptions = [subscription.to_dict() for subscription in gateway.list_subscriptions_with_customers()]
        known = set(
            self.env["vita.subscription"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("stripe_subscription_id", "in", [s["id"] for s in stripe_subscriptions]),
                ]
            )
            .mapped("stripe_subscription_id")
        )
        unknown = [s for s in stripe_subscriptions if s["id"] not in known]
        hidden = () if self.include_incomplete_expired else HIDDEN_STATUSES
        listed = [s for s in unknown if s.get("status") not in hidden]
        plans = self._vita_plans_by_stripe_id(gateway, [s for s in listed if not self._vita_shape_reason(s)])
        self.line_ids.unlink()
        self.write(
            {
                "mode": gateway.mode,
                "state": "loaded",
                "summary": self._vita_nothing_to_import_message(hidden_count=len(unknown)) if not listed else False,
                "line_ids": [Command.create(self._vita_line_vals(s, gateway, plans)) for s in listed],
            }
        )
        return self._vita_reopen()

    def _vita_nothing_to_import_message(self, hidden_count):
        """Said instead of an empty list, which reads as "did Load work?"."""
        if hidden_count:
            return self.env._(
                "Nothing to import: every Stripe subscription of this account is already in Odoo, except "
                "%s that expired before their first payment (tick “Include expired incomplete "
                "subscriptions” to list them).",
                hidden_count,
            )
        return self.env._("Nothing to import: every Stripe subscription of this account is already in Odoo.")

    def _vita_plans_by_stripe_id(self, gateway, stripe_subscriptions):
        """{Stripe plan id: vita.stripe.plan} of the proposed plans; syncs
        the catalogue once when one of them is not in Odoo yet."""
        wanted = {plan_id for s in stripe_subscriptions if (plan_id := _single_plan_id(s))}
        wanted |= {rate for s in stripe_subscriptions for rate in _tax_rate_ids(s)}
        Plan = self.env["vita.stripe.plan"].sudo().with_context(active_test=False)
        Rate = self.env["vita.stripe.tax.rate"].sudo().with_context(active_test=False)
        domain = [("company_id", "=", self.company_id.id), ("mode", "=", gateway.mode)]

        def found():
            return {
                record.stripe_id: record
                for model in (Plan, Rate)
                for record in model.search([*domain, ("stripe_id", "in", list(wanted))])
            }

        records = found()
        if wanted - set(records):
            Plan.with_company(self.company_id)._vita_sync_catalogue_from_stripe(gateway)
            records = found()
        return records

    def _vita_line_vals(self, stripe_subscription, gateway, catalogue):
        customer = stripe_subscription.get("customer")
        customer = customer if isinstance(customer, dict) else {"id": customer}
        status = stripe_subscription.get("status")
        vals = {
            "stripe_subscription_id": stripe_subscription["id"],
            # A status Stripe adds after this list is named in the reason instead.
            "stripe_status": status if status in dict(STRIPE_SUBSCRIPTION_STATUSES) else False,
            "stripe_customer_id": customer.get("id"),
            "customer_name": customer.get("name") or customer.get("description") or False,
            "customer_email": customer.get("email") or False,
            "stripe_partner_ref": str((customer.get("metadata") or {}).get("odoo_partner_id") or "") or False,
        }
        reason = self._vita_not_importable_reason(stripe_subscription, customer, catalogue)
        if not reason:
            item = stripe_subscription["items"]["data"][0]
            vals["plan_id"] = catalogue[_single_plan_id(stripe_subscription)].id
            vals["quantity"] = item.get("quantity") or 1
            vals["tax_rate_ids"] = [Command.set([catalogue[rate].id for rate in _tax_rate_ids(stripe_subscription)])]
            partner, match = self._vita_propose_partner(customer, gateway)
            vals.update(partner_id=partner.id, match=match)
        vals.update(importable=not reason, to_import=not reason, reason=reason or False)
        return vals

    def _vita_not_importable_reason(self, stripe_subscription, customer, catalogue):
        reason = self._vita_shape_reason(stripe_subscription)
        if reason:
            return reason
        if customer.get("deleted") or not customer.get("id"):
            return self.env._("The Stripe customer was deleted.")
        price_id = _single_plan_id(stripe_subscription)
        if price_id not in catalogue:
            return self.env._("Billing plan %s is not in Odoo (check its currency).", price_id)
        missing = [rate for rate in _tax_rate_ids(stripe_subscription) if rate not in catalogue]
        if missing:
            return self.env._("Tax rate %s is not in Odoo.", ", ".join(missing))
        odoo_id = str((stripe_subscription.get("metadata") or {}).get("odoo_subscription_id") or "")
        if odoo_id.isdigit():
            attempt = self.env["vita.subscription"].sudo().browse(int(odoo_id)).exists()
            if attempt and attempt.company_id == self.company_id and not attempt.stripe_subscription_id:
                return self.env._("An abandoned subscribe attempt of %s.", attempt.display_name)
        return None

    def _vita_shape_reason(self, stripe_subscription):
        """Why Odoo cannot represent this subscription (one per-unit,
        licensed plan × a quantity, a known status), or None."""
        items = subscription_items(stripe_subscription)
        if len(items) != 1:
            return self.env._("%s items: only subscriptions with one item can be imported.", len(items))
        price = items[0].get("plan") or items[0].get("price") or {}
        if price.get("billing_scheme") == "tiered":
            return self.env._("Tiered price %s: only per-unit prices are supported.", price.get("id"))
        usage = price.get("usage_type") or (price.get("recurring") or {}).get("usage_type")
        if usage == "metered":
            return self.env._("Metered price %s: only licensed prices are supported.", price.get("id"))
        if state_from_stripe(stripe_subscription.get("status"), False) is None:
            return self.env._("Stripe status “%s” is unknown to Odoo.", stripe_subscription.get("status"))
        return None

    def _vita_propose_partner(self, customer, gateway):
        """(partner, how it was found): the partner already linked to this
        Stripe customer, the one its metadata names, one with its e-mail,
        or none (a new partner is created from Stripe's data)."""
        company = self.company_id
        Partner = self.env["res.partner"].with_company(company)
        company_domain = [("company_id", "in", (False, company.id))]
        field = f"vita_stripe_customer_{gateway.mode}_id"
        linked = Partner.search([*company_domain, (field, "=", customer["id"])], limit=1)
        if linked:
            return linked, "linked"
        partner_id = str((customer.get("metadata") or {}).get("odoo_partner_id") or "")
        if partner_id.isdigit():
            partner = Partner.search([*company_domain, ("id", "=", int(partner_id))])
            if partner:
                return partner, "metadata"
        email = (customer.get("email") or "").strip()
        if email:
            partner = Partner.search(
                [*company_domain, ("email", "=ilike", email)], order="is_company desc, parent_id desc, id", limit=1
            )
            if partner:
                return partner.commercial_partner_id, "email"
        return Partner, "new"

    def _vita_reopen(self):
        return reopen_wizard(self, self.env._("Import subscriptions from Stripe"))

    # ------------------------------------------------------------------
    # Import
    # ------------------------------------------------------------------

    def action_import(self):
        """Queue the checked lines. One batch is imported at once; more are
        imported by a cron job, one committed batch at a time."""
        self.ensure_one()
        self.check_access("write")  # managers, before Stripe's metadata is written
        if self.state == "draft":
            self.action_load()
        self._check_mode(self._vita_gateway())
        lines = self.line_ids.filtered(lambda line: line.to_import and line.importable and not line.subscription_id)
        lines.write({"queued": True, "done": False})
        self.write({"state": "running", "queued_count": len(lines), "summary": False})
        if len(lines) <= BATCH_SIZE:
            self._vita_import_queued(commit=lambda: None)
        else:
            self.env.ref("vita_subscriptions.ir_cron_stripe_import")._trigger()
        return self._vita_reopen()

    def action_refresh(self):
        return self._vita_reopen()

    def _check_mode(self, gateway):
        if gateway.mode != self.mode:
            raise UserError(self.env._("Stripe changed mode since the list was loaded: load it again."))

    @api.model
    def _cron_import(self, commit=None, time_budget=CRON_TIME_BUDGET):
        """Import the queued lines of every running import, as the user who
        started it, committing after each batch; tells the cron machinery
        what remains so the job runs again at once."""
        commit = commit or self.env.cr.commit
        deadline = monotonic() + time_budget

        def should_stop():
            return monotonic() > deadline or cron_limits.running_out(CRON_CPU_RESERVE, CRON_REAL_RESERVE)

        done = 0
        for running in self.sudo().search([("state", "=", "running")], order="id"):
            wizard = running.with_user(running.create_uid).with_company(running.company_id)
            before = wizard.processed_count
            remaining = wizard._vita_import_queued(commit, should_stop)
            done += wizard.processed_count - before
            if remaining:
                self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
                # A run that got nothing done counts as finished until the
                # job's next hour: triggered, it goes on at the next poll.
                self.env.ref("vita_subscriptions.ir_cron_stripe_import")._trigger()
                return

    def _vita_pending_lines(self, limit=None):
        return self.env["vita.stripe.import.line"].search(
            [("import_id", "=", self.id), ("queued", "=", True), ("done", "=", False)], limit=limit
        )

    def _vita_import_queued(self, commit, should_stop=None):
        """Import the queued lines batch by batch, each line in its own
        savepoint so one failure does not stop the others, ``commit()``
        after every batch: a killed import keeps what was committed and
        goes on from there. Stops between two lines once ``should_stop()``
        says so. Returns how many lines remain."""
        self.ensure_one()
        try:
            gateway = self._vita_gateway()
            self._check_mode(gateway)
        except UserError as error:
            self.write({"state": "done", "summary": str(error.args[0] if error.args else error)})
            commit()
            return 0
        while batch := self._vita_pending_lines(limit=BATCH_SIZE):
            for line in batch:
                if should_stop and should_stop():
                    break
                try:
                    with self.env.cr.savepoint():
                        line._vita_import(gateway)
                except UserError as error:
                    line.result = error.args[0] if error.args else str(error)
                    _logger.warning("Import of Stripe subscription %s failed: %s", line.stripe_subscription_id, error)
                line.done = True
            commit()  # pylint: disable=invalid-commit
            if should_stop and should_stop() and (remaining := len(self._vita_pending_lines())):
                return remaining
        self._vita_finish()
        commit()
        return 0

    def _vita_finish(self):
        lines = self.line_ids.filtered("queued")
        imported = lines.filtered("subscription_id")
        self.write(
            {
                "state": "done",
                "summary": self.env._(
                    "%(imported)s subscriptions imported, %(failed)s failed, %(invoices)s paid invoices imported.",
                    imported=len(imported),
                    failed=len(lines - imported),
                    invoices=sum(imported.mapped("invoice_count")),
                ),
            }
        )

    def _vita_backfill_since_timestamp(self):
        if not self.backfill_since:
            return 0
        return int(datetime.combine(self.backfill_since, time.min, tzinfo=UTC).timestamp())


class VitaStripeImportLine(models.TransientModel):
    _name = "vita.stripe.import.line"
    _description = "Stripe subscription to import"
    _order = "importable desc, id"

    import_id = fields.Many2one("vita.stripe.import", string="Import run", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="import_id.company_id")
    mode = fields.Selection(related="import_id.mode")
    stripe_subscription_id = fields.Char("Stripe subscription", readonly=True)
    stripe_status = fields.Selection(STRIPE_SUBSCRIPTION_STATUSES, "Stripe status", readonly=True)
    stripe_customer_id = fields.Char("Stripe customer", readonly=True)
    customer_name = fields.Char("Name in Stripe", readonly=True)
    customer_email = fields.Char("E-mail in Stripe", readonly=True)
    stripe_partner_ref = fields.Char(readonly=True, help="The odoo_partner_id in the Stripe customer's metadata.")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        domain="[('company_id', 'in', (False, company_id))]",
        help="Empty: a new partner is created from the name, e-mail and address in Stripe.",
    )
    match = fields.Selection(
        [
            ("linked", "Already linked"),
            ("metadata", "Stripe metadata"),
            ("email", "Same e-mail"),
            ("new", "New partner"),
        ],
        string="Found by",
        readonly=True,
    )
    plan_id = fields.Many2one("vita.stripe.plan", string="Billing plan", readonly=True)
    quantity = fields.Integer(readonly=True)
    tax_rate_ids = fields.Many2many("vita.stripe.tax.rate", string="Taxes", readonly=True)
    importable = fields.Boolean(readonly=True)
    reason = fields.Char("Not importable because", readonly=True)
    to_import = fields.Boolean("Import")
    queued = fields.Boolean(readonly=True, help="Taken by the import run.")
    done = fields.Boolean(readonly=True, help="Processed by the import run (imported or failed).")
    subscription_id = fields.Many2one("vita.subscription", readonly=True)
    invoice_count = fields.Integer("Paid invoices imported", readonly=True)
    result = fields.Char(readonly=True)

    def _vita_import(self, gateway):
        """One Stripe subscription: record, customer link, Stripe metadata,
        then optionally its paid invoices (the webhook's path)."""
        self.ensure_one()
        Subscription = self.env["vita.subscription"]
        existing = Subscription.sudo().search(
            [("company_id", "=", self.company_id.id), ("stripe_subscription_id", "=", self.stripe_subscription_id)],
            limit=1,
        )
        if existing:
            self.write({"subscription_id": existing.id, "result": self.env._("Already in Odoo.")})
            return existing
        stripe_subscription = gateway.retrieve_subscription(self.stripe_subscription_id)
        partner = self.partner_id.commercial_partner_id
        if not partner:
            # An earlier line of the same new Stripe customer created it.
            partner, _match = self.import_id._vita_propose_partner({"id": self.stripe_customer_id}, gateway)
        created_partner = not partner
        if created_partner:
            partner = self._vita_create_partner(gateway)
        self._vita_link_stripe_customer(partner, gateway)
        state = state_from_stripe(stripe_subscription.status, False)
        if state is None:
            raise UserError(self.env._("Stripe status “%s” is unknown to Odoo.", stripe_subscription.status))
        partner_company = partner.with_company(self.company_id)
        currency = partner_company.property_product_pricelist.currency_id or self.company_id.currency_id
        if currency != self.plan_id.currency_id:
            if not created_partner:
                raise UserError(
                    self.env._(
                        "%(partner)s is billed in %(currency)s but the Stripe subscription in %(plan_currency)s: "
                        "give the partner a pricelist in %(plan_currency)s first.",
                        partner=partner.display_name,
                        currency=currency.name,
                        plan_currency=self.plan_id.currency_id.name,
                    )
                )
            self._vita_set_pricelist(partner)
        metadata = stripe_subscription.metadata.to_dict() if stripe_subscription.metadata else {}
        subscription = Subscription.with_context(vita_from_stripe=True, mail_create_nolog=True).create(
            {
                "name": metadata.get("odoo_name") or self.plan_id.product_name or self.stripe_subscription_id,
                "description": metadata.get("odoo_description") or False,
                "company_id": self.company_id.id,
                "partner_id": partner.id,
                "plan_id": self.plan_id.id,
                "quantity": self.quantity,
                "tax_rate_ids": [Command.set(self.tax_rate_ids.ids)],
                "mode": gateway.mode,
                "state": state,
                "stripe_subscription_id": self.stripe_subscription_id,
                "first_billing_date": stripe_date(getattr(stripe_subscription, "start_date", None), self) or False,
            }
        )
        subscription._vita_apply_stripe_subscription(stripe_subscription)
        # Idempotent: the same values every run.
        gateway.update_subscription(self.stripe_subscription_id, {"metadata": subscription._vita_stripe_metadata()})
        subscription.message_post(body=self.env._("Imported from Stripe (%s).", self.stripe_subscription_id))
        self.write({"subscription_id": subscription.id, "result": self.env._("Imported.")})
        if self.import_id.backfill_invoices:
            self._vita_backfill(subscription, gateway)
        return subscription

    def _vita_create_partner(self, gateway):
        customer = gateway.retrieve_customer(self.stripe_customer_id)
        address = customer.address.to_dict() if getattr(customer, "address", None) else {}
        country = self.env["res.country"]
        if address.get("country"):
            country = country.search([("code", "=ilike", address["country"])], limit=1)
        state = self.env["res.country.state"]
        if country and address.get("state"):
            state = state.search(
                [
                    ("country_id", "=", country.id),
                    "|",
                    ("code", "=ilike", address["state"]),
                    ("name", "=ilike", address["state"]),
                ],
                limit=1,
            )
        return self.env["res.partner"].create(
            {
                "name": customer.name or customer.email or customer.id,
                "email": customer.email or False,
                "phone": getattr(customer, "phone", None) or False,
                "street": address.get("line1") or False,
                "street2": address.get("line2") or False,
                "city": address.get("city") or False,
                "zip": address.get("postal_code") or False,
                "country_id": country.id,
                "state_id": state.id,
                "company_id": False,
            }
        )

    def _vita_link_stripe_customer(self, partner, gateway):
        """Link the partner to the Stripe customer both ways: its Stripe
        customer id in Odoo, ``odoo_partner_id`` in Stripe's metadata."""
        field = f"vita_stripe_customer_{gateway.mode}_id"
        partner_sudo = partner.sudo().with_company(self.company_id)
        current = partner_sudo[field]
        if current and current != self.stripe_customer_id:
            raise UserError(
                self.env._(
                    "%(partner)s is already the Stripe customer %(current)s; choose another partner "
                    "or leave the customer empty to create one.",
                    partner=partner.display_name,
                    current=current,
                )
            )
        if not current:
            partner_sudo[field] = self.stripe_customer_id
        partner_ref = str(partner.id)
        if self.stripe_partner_ref != partner_ref:
            # The next import (and the webhooks) find the partner by it.
            gateway.update_customer_metadata(self.stripe_customer_id, {"odoo_partner_id": partner_ref})
            self.search(
                [("import_id", "=", self.import_id.id), ("stripe_customer_id", "=", self.stripe_customer_id)]
            ).stripe_partner_ref = partner_ref

    def _vita_set_pricelist(self, partner):
        """Bill ``partner`` in the plan's currency: a pricelist in that
        currency, as a user would choose it on the partner."""
        currency = self.plan_id.currency_id
        pricelist = self.env["product.pricelist"].search(
            [("currency_id", "=", currency.id), ("company_id", "in", (False, self.company_id.id))], limit=1
        )
        if not pricelist:
            raise UserError(self.env._("No pricelist in %s: create one to bill this customer.", currency.name))
        partner.with_company(self.company_id).property_product_pricelist = pricelist

    def _vita_backfill(self, subscription, gateway):
        """Paid invoices since the date, oldest first, booked by the method
        the ``invoice.paid`` webhook uses: one Odoo invoice per Stripe
        invoice whichever comes first."""
        since = self.import_id._vita_backfill_since_timestamp()
        paid = []
        for stripe_invoice in gateway.list_paid_invoices(subscription.stripe_subscription_id):
            if (stripe_invoice.get("created") or 0) < since:
                break  # Stripe lists the newest first.
            paid.append(stripe_invoice)
        moves = self.env["account.move"]
        for stripe_invoice in reversed(paid):
            moves |= subscription._vita_invoice_paid(stripe_invoice)
        self.invoice_count = len(moves)
        return moves


def _single_plan_id(stripe_subscription):
    item = single_item(stripe_subscription)
    return item_price_id(item) if item else None


def _tax_rate_ids(stripe_subscription):
    """The item's tax rates, else the subscription's default ones."""
    item = single_item(stripe_subscription)
    return subscription_tax_rate_ids(stripe_subscription, item) if item else []
