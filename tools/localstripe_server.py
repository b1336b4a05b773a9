"""Run localstripe on 127.0.0.1 only (its own command binds every address).

--state FILE keeps localstripe's objects across restarts (the demo);
without it every start is from scratch (the tests). The state is written
once a request is done (and after changes made outside a request), to a
temporary file renamed over the old one: a failure to save is logged, never
answered to the request, and never leaves a half-written file.

localstripe's fake Stripe.js declares a global `class Element`, which
shadows the DOM's `Element` for every script of the page and breaks
Bootstrap (`Element.prototype.querySelectorAll`). The launcher serves the
same script wrapped in a function scope, with the API address it would have
read from its own <script src>.

localstripe ignores a subscription's own ``default_payment_method`` (it
refuses the parameter and always charges the customer's default). Real
Stripe charges a subscription's own default payment method first
(https://docs.stripe.com/api/subscriptions/object#subscription_object-default_payment_method);
the launcher teaches localstripe the same, so a new card pays its first
invoice without becoming the customer's default beforehand.

localstripe 1.15 refuses `cancellation_details` on a subscription update
(real Stripe accepts it); the launcher keeps it on the subscription instead.

localstripe 1.15 knows subscription items by `plan` only and refuses
`proration_behavior` on updates; current Stripe takes `price` (a plan's id is
its price's id) and `proration_behavior`. The launcher reads `price` as the
plan and keeps the last `proration_behavior` on the subscription.

localstripe 1.15 credits a subscription's past invoices in full when its
items change, and bills any pending item of a customer with the next
invoice of any subscription; the launcher prorates as Stripe does (see
`_prorate_like_stripe`).

localstripe 1.15 sends no `customer.subscription.updated`, `invoice.paid`
nor `invoice.finalized`; the launcher sends them as Stripe does (the update
with `data.previous_attributes`). Like Stripe, it retries a delivery the
endpoint did not take (not reachable yet, 5xx), with a growing delay.

localstripe 1.15's `POST /v1/invoices/create_preview` needs a customer and
ignores the item being replaced; the launcher answers it as current Stripe
does for a change of an existing subscription: prorations over the current
period, then the next invoice (see `_preview_invoice`).

An unexpected error inside localstripe is answered as Stripe answers its
own failures (HTTP 500, `api_error`), and a retry with the same
`Idempotency-Key` gets that same answer instead of running the request again
(https://docs.stripe.com/api/idempotent_requests): stripe-python's retries
then never create the object three times.
"""

import argparse
import asyncio
import contextlib
import contextvars
import datetime
import hashlib
import hmac
import html
import json
import logging
import os
import pathlib
import pickle
import secrets
import time
from collections import namedtuple
from decimal import ROUND_HALF_UP, Decimal

import aiohttp
import localstripe
from aiohttp import web
from dateutil.relativedelta import relativedelta
from localstripe import resources, server, webhooks
from localstripe.errors import UserError

_logger = logging.getLogger("localstripe_server")

STRIPE_JS_PATH = "/js.stripe.com/v3/"
# Seconds between delivery attempts of a webhook the endpoint did not take:
# about ten minutes in all, enough for `make run` to start Odoo after the
# demo's subscriptions were paid. (Stripe retries for days.)
WEBHOOK_RETRY_DELAYS = (1, 2, 4, 8, 15, 30, 60, 60, 60, 120, 120, 120)
WEBHOOK_TIMEOUT = 30
RETRIED_STATUSES = frozenset({408, 429})

# (customer id, payment method id) paying the invoice being paid now.
_PAYING_WITH = contextvars.ContextVar("paying_with", default=None)
# True while a subscription is created (its creation event tells it all)
# or while one of its changes is being announced (one event per change).
_CREATING_SUBSCRIPTION = contextvars.ContextVar("creating_subscription", default=False)
_ANNOUNCING_CHANGE = contextvars.ContextVar("announcing_change", default=False)
# The subscription whose items are being replaced, or invoiced now.
_REPLACING_ITEMS_OF = contextvars.ContextVar("replacing_items_of", default=None)
_INVOICING_SUBSCRIPTION = contextvars.ContextVar("invoicing_subscription", default=None)
# (Authorization, Idempotency-Key) -> the answer of a request that crashed.
_CRASHED_REQUESTS = {}


# ----------------------------------------------------------------------
# State file
# ----------------------------------------------------------------------


class _StateFile:
    """localstripe saves its whole store on every assignment, in the middle
    of requests; the launcher saves it when the request is done."""

    def __init__(self, path):
        self.path = path
        self.dirty = False

    def load(self, store):
        try:
            with open(self.path, "rb") as f:
                saved = pickle.load(f)  # noqa: S301 - our own state file
        except FileNotFoundError:
            return
        except Exception:
            # e.g. cut short by an older launcher that crashed while saving
            broken = f"{self.path}.broken"
            os.replace(self.path, broken)
            _logger.exception("Unreadable state file %s (kept as %s): starting from scratch", self.path, broken)
            return
        dict.clear(store)
        dict.update(store, saved)

    def save(self, store):
        self.dirty = False
        if not self.path:
            return
        partial = f"{self.path}.tmp"
        try:
            with open(partial, "wb") as f:
                pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(partial, self.path)
        except Exception:
            _logger.exception("Could not save localstripe's state to %s", self.path)
            with contextlib.suppress(OSError):
                os.remove(partial)

    def changed(self, store):
        """A change outside a request (a payment settled later) is saved
        once the event loop is free; inside one, the request's end saves."""
        if self.dirty or not self.path:
            return
        self.dirty = True
        with contextlib.suppress(RuntimeError):  # no loop yet: loading
            asyncio.get_running_loop().call_soon(self.save_if_changed, store)

    def save_if_changed(self, store):
        if self.dirty:
            self.save(store)


def _use_state_file(path):
    state = _StateFile(path)
    store_cls = type(resources.store)

    def setitem(store, key, value):
        dict.__setitem__(store, key, value)
        state.changed(store)

    def delitem(store, key):
        dict.__delitem__(store, key)
        state.changed(store)

    def load(store):
        state.load(store)

    def save(store):  # localstripe's own middleware calls it after every POST and DELETE
        state.save(store)

    store_cls.__setitem__ = setitem
    store_cls.__delitem__ = delitem
    store_cls.try_load_from_disk = load
    store_cls.dump_to_disk = save


# ----------------------------------------------------------------------
# Subscriptions: parameters of current Stripe
# ----------------------------------------------------------------------


def _accept_cancellation_details():
    update = resources.Subscription._update

    def _update(self, *args, cancellation_details=None, **kwargs):
        if cancellation_details is not None:
            self.cancellation_details = cancellation_details
        return update(self, *args, **kwargs)

    resources.Subscription._update = _update


def _accept_price_and_proration_behavior():
    update = resources.Subscription._update

    def _update(self, *args, items=None, proration_behavior=None, **kwargs):
        for item in items or []:
            if isinstance(item, dict) and item.get("price") and not item.get("plan"):
                item["plan"] = item.pop("price")
        if proration_behavior is not None:
            self.proration_behavior = proration_behavior
        return update(self, *args, items=items, **kwargs)

    resources.Subscription._update = _update


def _subscription_default_payment_method():
    """``default_payment_method`` on subscription create and update, used
    to pay the subscription's invoices before the customer's default.

    The card is handed to the customer's default lookup through a context
    variable, at class level: anything put on the customer object would be
    saved with it (and a function cannot be)."""
    subscription_cls, invoice_cls, customer_cls = resources.Subscription, resources.Invoice, resources.Customer
    original_init, original_update = subscription_cls.__init__, subscription_cls._update
    original_pay = invoice_cls._api_pay_invoice.__func__
    original_default = customer_cls._get_default_payment_method_or_source

    def init(self, *args, default_payment_method=None, **kwargs):
        self.default_payment_method = default_payment_method or None
        original_init(self, *args, **kwargs)

    def update(self, *args, default_payment_method=None, **kwargs):
        if default_payment_method is not None:
            self.default_payment_method = default_payment_method or None
        return original_update(self, *args, **kwargs)

    def default_payment_method_or_source(customer):
        paying = _PAYING_WITH.get()
        if paying and paying[0] == customer.id:
            return resources.PaymentMethod._api_retrieve(paying[1])
        return original_default(customer)

    def pay(cls, id):
        invoice = invoice_cls._api_retrieve(id)
        subscription = invoice.subscription and resources.store.get(f"subscription:{invoice.subscription}")
        payment_method_id = getattr(subscription, "default_payment_method", None)
        if not payment_method_id:
            return original_pay(cls, id)
        token = _PAYING_WITH.set((invoice.customer, payment_method_id))
        try:
            return original_pay(cls, id)
        finally:
            _PAYING_WITH.reset(token)

    subscription_cls.__init__ = init
    subscription_cls._update = update
    customer_cls._get_default_payment_method_or_source = default_payment_method_or_source
    invoice_cls._api_pay_invoice = classmethod(pay)


def _prorate_like_stripe():
    """Item changes prorated as Stripe does: a credit for the unused time of
    the old items and a charge for the remaining time of the new ones, as
    pending invoice items of that subscription (none with
    ``proration_behavior=none``). localstripe instead credits every past
    invoice of the subscription in full, and puts any pending item of the
    customer on the next invoice of any subscription: the customer's next
    subscription was then paid by the old one's credit."""
    subscription_cls, invoice_cls, item_cls = resources.Subscription, resources.Invoice, resources.InvoiceItem
    original_update, original_create_invoice = subscription_cls._update, subscription_cls._create_invoice
    original_list_invoices = invoice_cls._api_list_all.__func__
    original_list_items = item_cls._api_list_all.__func__

    def update(self, *args, items=None, proration_behavior=None, proration_date=None, **kwargs):
        pending = []
        when = resources.try_convert_to_int(proration_date or int(time.time()))
        if items and isinstance(items, list) and isinstance(when, int):  # else localstripe refuses it
            change = _items_change(self, items, proration_behavior or "create_prorations", when)
            pending = [_pending_invoice_item(self, line) for line in change.prorations]
        token = _REPLACING_ITEMS_OF.set(self.id)
        try:
            return original_update(
                self, *args, items=items, proration_behavior=proration_behavior, proration_date=proration_date, **kwargs
            )
        except Exception:
            for item in pending:
                del resources.store[f"invoiceitem:{item.id}"]
            raise
        finally:
            _REPLACING_ITEMS_OF.reset(token)

    def list_invoices(cls, url, *args, subscription=None, **kwargs):
        answer = original_list_invoices(cls, url, *args, subscription=subscription, **kwargs)
        if subscription is not None and subscription == _REPLACING_ITEMS_OF.get():
            answer._list = []  # what localstripe would credit in full
        return answer

    def create_invoice(self):
        token = _INVOICING_SUBSCRIPTION.set(self.id)
        try:
            return original_create_invoice(self)
        finally:
            _INVOICING_SUBSCRIPTION.reset(token)

    def list_items(cls, url, *args, **kwargs):
        answer = original_list_items(cls, url, *args, **kwargs)
        invoicing = _INVOICING_SUBSCRIPTION.get()
        if invoicing:
            answer._list = [item for item in answer._list if item.subscription in (None, invoicing)]
        return answer

    subscription_cls._update = update
    subscription_cls._create_invoice = create_invoice
    invoice_cls._api_list_all = classmethod(list_invoices)
    item_cls._api_list_all = classmethod(list_items)


def _pending_invoice_item(subscription, line):
    return resources.InvoiceItem(
        subscription=subscription.id,
        customer=subscription.customer,
        plan=line["pricing"]["price_details"]["price"],
        amount=line["amount"],
        currency=line["currency"],
        period_start=line["period"]["start"],
        period_end=line["period"]["end"],
        proration=True,
        description=line["description"],
        tax_rates=[tax["tax_rate_details"]["tax_rate"] for tax in line["taxes"]],
    )


# ----------------------------------------------------------------------
# Events Stripe sends and localstripe does not
# ----------------------------------------------------------------------


def _send_event(event_type, obj, previous_attributes=None):
    event = resources.Event(event_type, obj)
    if previous_attributes is not None:
        event.data["previous_attributes"] = previous_attributes
    webhooks.schedule_webhook(event)


@contextlib.contextmanager
def _announcing_change(subscription):
    """``customer.subscription.updated`` with what changed, once the change
    is done (https://docs.stripe.com/api/events/object#event_object-data-previous_attributes).
    Nothing while the subscription is being created, nor for the nested
    steps of a change already being announced."""
    if _CREATING_SUBSCRIPTION.get() or _ANNOUNCING_CHANGE.get():
        yield
        return
    before = subscription._export()
    token = _ANNOUNCING_CHANGE.set(True)
    try:
        yield
    finally:
        _ANNOUNCING_CHANGE.reset(token)
    after = subscription._export()
    previous = {key: before.get(key) for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    if previous:
        _send_event("customer.subscription.updated", subscription, previous)


def _send_missing_events():
    subscription_cls, invoice_cls = resources.Subscription, resources.Invoice
    original_init = subscription_cls.__init__

    def init(self, *args, **kwargs):
        token = _CREATING_SUBSCRIPTION.set(True)
        try:
            original_init(self, *args, **kwargs)
        finally:
            _CREATING_SUBSCRIPTION.reset(token)

    subscription_cls.__init__ = init
    # Its API updates, and the status changes a payment makes later.
    for name in (
        "_update",
        "_on_initial_payment_success",
        "_on_recurring_payment_failure",
        "_on_initial_payment_voided",
    ):
        setattr(subscription_cls, name, _announced(getattr(subscription_cls, name)))

    original_finalize, original_paid = invoice_cls._finalize, invoice_cls._on_payment_success

    def finalize(self):
        original_finalize(self)
        # Stripe gives every finalized invoice its payment page.
        self.hosted_invoice_url = f"{_HOSTED_INVOICE_BASE[0]}{HOSTED_INVOICE_PATH}{self.id}"
        _send_event("invoice.finalized", self)
        if self.status == "paid":  # nothing to charge: paid as finalized
            self.status_transitions["paid_at"] = self.status_transitions["finalized_at"]
            _send_event("invoice.paid", self)

    def on_payment_success(self):
        original_paid(self)
        _send_event("invoice.paid", self)

    invoice_cls._finalize = finalize
    invoice_cls._on_payment_success = on_payment_success


def _announced(method):
    def announced(self, *args, **kwargs):
        with _announcing_change(self):
            return method(self, *args, **kwargs)

    return announced


# ----------------------------------------------------------------------
# Webhook deliveries, retried
# ----------------------------------------------------------------------


class _Deliveries:
    """Replaces localstripe's one-shot sender (``webhooks._send_webhook``,
    which ``schedule_webhook`` calls): each delivery is signed at the time
    it is sent, as Stripe does, and retried while the endpoint is not
    reachable or fails (5xx). A 4xx is an answer (a wrong secret or key): not
    retried. A retry stops once the endpoint is registered again otherwise.
    Logs name the endpoint by its id: its URL holds Odoo's webhook key."""

    def __init__(self):
        self.session = None

    async def send(self, event):
        payload = json.dumps(event._export(), indent=2, sort_keys=True).encode()
        await asyncio.sleep(1)  # as localstripe: the request that caused it is answered first
        endpoints = [
            (endpoint_id, endpoint)
            for endpoint_id, endpoint in list(webhooks._webhooks.items())
            if endpoint.events is None or event.type in endpoint.events
        ]
        await asyncio.gather(
            *(self.deliver(endpoint_id, endpoint, event.type, payload) for endpoint_id, endpoint in endpoints)
        )

    async def deliver(self, endpoint_id, endpoint, event_type, payload):
        for delay in (*WEBHOOK_RETRY_DELAYS, None):
            if not _still_wanted(endpoint_id, endpoint, event_type):
                return
            outcome = await self.post(endpoint, payload)
            if isinstance(outcome, int) and (outcome < 500 and outcome not in RETRIED_STATUSES):
                _logger.info('webhook "%s" to endpoint %s: HTTP %s', event_type, endpoint_id, outcome)
                return
            if delay is None:
                _logger.warning('webhook "%s" to endpoint %s given up: %s', event_type, endpoint_id, outcome)
                return
            _logger.info(
                'webhook "%s" to endpoint %s failed (%s): retried in %s s', event_type, endpoint_id, outcome, delay
            )
            await asyncio.sleep(delay)

    async def post(self, endpoint, payload):
        """The HTTP status, or why there is none."""
        timestamp = int(time.time())
        signature = hmac.new(endpoint.secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={timestamp},v1={signature}",
        }
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT))
        try:
            async with self.session.post(endpoint.url, data=payload, headers=headers) as response:
                return response.status
        except (TimeoutError, aiohttp.ClientError) as error:
            return type(error).__name__


def _still_wanted(endpoint_id, endpoint, event_type):
    """Whether the endpoint is still registered as it was, for this type."""
    current = webhooks._webhooks.get(endpoint_id)
    return (
        current is not None
        and (current.url, current.secret) == (endpoint.url, endpoint.secret)
        and (current.events is None or event_type in current.events)
    )


# ----------------------------------------------------------------------
# POST /v1/invoices/create_preview
# ----------------------------------------------------------------------

_Item = namedtuple("_Item", "id plan quantity tax_rates")
PRORATION_BEHAVIORS = ("create_prorations", "always_invoice", "none")


def _preview_invoice(subscription=None, customer=None, subscription_details=None, **unsupported):
    """The invoice Stripe would issue after changing an existing
    subscription's items (https://docs.stripe.com/api/invoices/create_preview):
    with prorations, a credit for the unused time of each replaced item and
    a charge for the remaining time of its replacement, from
    ``proration_date`` to the end of the current period; then the next
    period at the new prices. A change of billing interval restarts the
    billing cycle: the credit and the new period are invoiced at once.
    Nothing is stored (Stripe keeps a preview 72 hours; localstripe never)."""
    if unsupported:
        raise UserError(400, "Unexpected " + ", ".join(sorted(unsupported)))
    if not isinstance(subscription, str):
        raise UserError(400, "The launcher previews changes of an existing subscription: pass `subscription`")
    stripe_subscription = resources.Subscription._api_retrieve(subscription)
    if customer not in (None, stripe_subscription.customer):
        raise UserError(400, "This subscription belongs to another customer")
    details = dict(subscription_details or {})
    changes = details.pop("items", None) or []
    behavior = details.pop("proration_behavior", None) or "create_prorations"
    proration_date = resources.try_convert_to_int(details.pop("proration_date", None) or int(time.time()))
    if details:
        raise UserError(400, "Unexpected subscription_details: " + ", ".join(sorted(details)))
    if behavior not in PRORATION_BEHAVIORS or not isinstance(proration_date, int) or not isinstance(changes, list):
        raise UserError(400, "Bad request")

    change = _items_change(stripe_subscription, changes, behavior, proration_date)
    lines, moment = list(change.prorations), change.proration_date
    if change.cycle_restarts:
        issued, period = moment, (moment, moment)
        lines += _period_lines(change.after, moment)
    elif behavior == "always_invoice":
        issued, period = moment, (moment, moment)
    else:
        issued, period = change.end, (change.start, change.end)
        lines += _period_lines(change.after, change.end)
    return _invoice(stripe_subscription, lines, issued, period, moment if behavior != "none" else None)


_ItemsChange = namedtuple("_ItemsChange", "after start end proration_date cycle_restarts prorations")


def _items_change(stripe_subscription, changes, behavior, proration_date):
    """What replacing a subscription's items does to its billing: its items
    after the change, the current period, whether the billing cycle
    restarts (another interval), and the proration lines (invoice lines of
    the current API shape)."""
    before = [
        _Item(item.id, item.plan, item.quantity, list(item.tax_rates)) for item in stripe_subscription.items._list
    ]
    after = _changed_items(before, changes)
    trial_end = resources.try_convert_to_int(stripe_subscription.trial_end)
    if isinstance(trial_end, int) and trial_end > proration_date:  # nothing paid yet: billed from its end
        return _ItemsChange(after, proration_date, trial_end, proration_date, False, [])
    old_plan = before[0].plan
    start, end = _period_containing(stripe_subscription.start_date, old_plan, proration_date)
    proration_date = min(max(proration_date, start), end)
    unused = (end - proration_date) / (end - start)
    # Another price or quantity is prorated; other tax rates are not.
    billed_before = {(item.id, item.plan.id, item.quantity) for item in before}
    billed_after = {(item.id, item.plan.id, item.quantity) for item in after}
    replaced = [item for item in before if (item.id, item.plan.id, item.quantity) not in billed_after]
    added = [item for item in after if (item.id, item.plan.id, item.quantity) not in billed_before]
    cycle_restarts = any(_interval(item.plan) != _interval(old_plan) for item in after)
    prorations = []
    if behavior != "none" and unused:
        prorations = _proration_lines(replaced, [] if cycle_restarts else added, unused, (proration_date, end))
    return _ItemsChange(after, start, end, proration_date, cycle_restarts, prorations)


def _proration_lines(replaced, added, unused, period):
    """A credit for the unused time of each replaced item, a charge for the
    remaining time of each new one, over ``period`` (proration date to the
    end of the current period)."""
    when = _day(period[0])
    credits = [
        _line(item, -_cents(_amount(item) * unused), f"Unused time on {_label(item)} after {when}", period, True)
        for item in replaced
    ]
    charges = [
        _line(item, _cents(_amount(item) * unused), f"Remaining time on {_label(item)} after {when}", period, True)
        for item in added
    ]
    return credits + charges


def _period_lines(items, start):
    """A full billing period of each item from ``start``."""
    return [_line(item, _amount(item), _renewal(item), (start, _next(start, item.plan)), False) for item in items]


def _changed_items(before, changes):
    """The subscription's items once ``changes`` (Stripe's ``items``
    parameter: by ``id`` to change or delete one, without to add one) apply."""
    after = list(before)
    for change in changes:
        if not isinstance(change, dict):
            raise UserError(400, "Bad request")
        current = next((item for item in after if change.get("id") and item.id == change["id"]), None)
        if change.get("id") and current is None:
            raise UserError(404, f"No such subscription item: '{change['id']}'")
        if current:
            after.remove(current)
        if resources.try_convert_to_bool(change.get("deleted")) is True:
            continue
        plan_id = change.get("price") or change.get("plan") or (current and current.plan.id)
        quantity = resources.try_convert_to_int(change.get("quantity") or (current and current.quantity) or 1)
        if not isinstance(plan_id, str) or not isinstance(quantity, int) or quantity < 1:
            raise UserError(400, "Bad request")
        tax_rates = change.get("tax_rates")
        if tax_rates is None:
            tax_rates = current.tax_rates if current else []
        elif tax_rates == "":  # Stripe clears a list with an empty string
            tax_rates = []
        else:
            tax_rates = [resources.TaxRate._api_retrieve(rate) for rate in tax_rates]
        item_id = current.id if current else f"si_preview_{secrets.token_hex(7)}"
        after.append(_Item(item_id, resources.Plan._api_retrieve(plan_id), quantity, tax_rates))
    return after


def _interval(plan):
    return plan.interval, resources.try_convert_to_int(plan.interval_count or 1)


def _next(moment, plan):
    """``moment`` one billing interval of ``plan`` later (calendar months
    and years, in UTC as Stripe counts them)."""
    interval, count = _interval(plan)
    moment = datetime.datetime.fromtimestamp(moment, datetime.UTC)
    return int((moment + relativedelta(**{f"{interval}s": count})).timestamp())


def _period_containing(anchor, plan, moment):
    """The billing period around ``moment`` of a subscription started at
    ``anchor``: localstripe itself only knows the first one."""
    start, end = anchor, _next(anchor, plan)
    while end <= moment:
        start, end = end, _next(end, plan)
    return start, end


def _amount(item):
    return item.plan.amount * item.quantity


def _cents(amount):
    """Stripe rounds each proration line to the smallest unit, half up."""
    sign = -1 if amount < 0 else 1
    return sign * int(Decimal(str(abs(amount))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _day(moment):
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).strftime("%d %b %Y")


def _product(plan):
    product = resources.store.get(f"product:{plan.product}")
    return getattr(product, "name", None) or plan.nickname or plan.id


def _label(item):
    return f"{item.quantity} × {_product(item.plan)}" if item.quantity > 1 else _product(item.plan)


def _renewal(item):
    interval, count = _interval(item.plan)
    every = interval if count == 1 else f"{count} {interval}s"
    price = f"{item.plan.amount / 100:.2f} {item.plan.currency.upper()}"
    return f"{item.quantity} × {_product(item.plan)} (at {price} / {every})"


def _taxes(item, amount):
    """Each rate's tax on the line: added to an exclusive price, taken out
    of an inclusive one."""
    taxes = []
    for rate in item.tax_rates:
        if rate.inclusive:
            tax = _cents(amount * rate.percentage / (100 + rate.percentage))
            taxable = amount - tax
        else:
            tax, taxable = _cents(amount * rate.percentage / 100), amount
        taxes.append(
            {
                "amount": tax,
                "tax_behavior": "inclusive" if rate.inclusive else "exclusive",
                "tax_rate_details": {"tax_rate": rate.id},
                "taxability_reason": "standard_rated",
                "taxable_amount": taxable,
                "type": "tax_rate_details",
            }
        )
    return taxes


def _line(item, amount, description, period, proration):
    """An invoice line of the current API shape
    (https://docs.stripe.com/api/invoice-line-item/object)."""
    return {
        "id": f"il_tmp_{secrets.token_hex(12)}",
        "object": "line_item",
        "amount": amount,
        "currency": item.plan.currency,
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "livemode": False,
        "metadata": {},
        "parent": {
            "type": "subscription_item_details",
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": None,
                "subscription_item": item.id,
            },
        },
        "period": {"start": period[0], "end": period[1]},
        "pretax_credit_amounts": [],
        "pricing": {
            "type": "price_details",
            "price_details": {"price": item.plan.id, "product": item.plan.product},
            "unit_amount_decimal": str(item.plan.amount),
        },
        "quantity": item.quantity,
        "subtotal": amount,
        "taxes": _taxes(item, amount),
    }


def _invoice(stripe_subscription, lines, issued, period, proration_date):
    """A preview invoice (https://docs.stripe.com/api/invoices/object):
    totals from the lines, the customer's balance applied first."""
    invoice_id = f"upcoming_in_{secrets.token_hex(12)}"
    taxes = {}
    for line in lines:
        line["invoice"] = invoice_id
        line["parent"]["subscription_item_details"]["subscription"] = stripe_subscription.id
        for tax in line["taxes"]:
            total_tax = taxes.setdefault(tax["tax_rate_details"]["tax_rate"], {**tax, "amount": 0, "taxable_amount": 0})
            total_tax["amount"] += tax["amount"]
            total_tax["taxable_amount"] += tax["taxable_amount"]
    subtotal = sum(line["amount"] for line in lines)
    inclusive = sum(tax["amount"] for tax in taxes.values() if tax["tax_behavior"] == "inclusive")
    exclusive = sum(tax["amount"] for tax in taxes.values() if tax["tax_behavior"] == "exclusive")
    total = subtotal + exclusive
    customer = resources.Customer._api_retrieve(stripe_subscription.customer)
    starting_balance = -customer.account_balance  # localstripe keeps Stripe's balance negated
    owed = total + starting_balance
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": max(owed, 0),
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": max(owed, 0),
        "amount_shipping": 0,
        "attempt_count": 0,
        "attempted": False,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "billing_reason": "upcoming" if issued == period[1] and period[0] != period[1] else "subscription_update",
        "collection_method": "charge_automatically",
        "created": issued,
        "currency": lines[0]["currency"] if lines else stripe_subscription.plan.currency,
        "customer": customer.id,
        "customer_email": customer.email,
        "customer_name": customer.name,
        "default_payment_method": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ending_balance": min(owed, 0),
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "total_count": len(lines),
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": issued,
        "number": None,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {
                "metadata": dict(stripe_subscription.metadata or {}),
                "subscription": stripe_subscription.id,
                "subscription_proration_date": proration_date,
            },
        },
        "period_end": period[1],
        "period_start": period[0],
        "starting_balance": starting_balance,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal - inclusive,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": subtotal - inclusive,
        "total_pretax_credit_amounts": [],
        "total_taxes": list(taxes.values()),
        "webhooks_delivered_at": None,
    }


# Requests the launcher answers itself, after localstripe's authentication.
OWN_ROUTES = {("POST", "/v1/invoices/create_preview"): _preview_invoice}


@web.middleware
async def own_routes(request, handler):
    answer = OWN_ROUTES.get((request.method, request.path))
    if answer is None:
        return await handler(request)
    data = await server.get_post_data(request) or {}
    data.update(server.unflatten_data(request.query) or {})
    data.pop("expand", None)
    return server.json_response(answer(**data))


# ----------------------------------------------------------------------
# HTTP
# ----------------------------------------------------------------------


@web.middleware
async def stripe_errors_for_crashes(request, handler):
    """Stripe's answer to its own failure, replayed for the same
    Idempotency-Key (Stripe saves the first answer, 500s included)."""
    key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
    replay_key = (request.headers.get("Authorization"), key)
    if key and replay_key in _CRASHED_REQUESTS:
        return web.json_response(_CRASHED_REQUESTS[replay_key], status=500)
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        _logger.exception("localstripe failed on %s %s", request.method, request.path)
        body = {"error": {"type": "api_error", "message": "localstripe failed on this request: see its log."}}
        if key:
            _CRASHED_REQUESTS[replay_key] = body
        return web.json_response(body, status=500)


# Stripe's hosted invoice page (https://invoice.stripe.com/i/…), stood in
# for by a plain page of localstripe's own: number, amount due, status.
HOSTED_INVOICE_PATH = "/i/"
_HOSTED_INVOICE_BASE = ["http://127.0.0.1"]


@web.middleware
async def hosted_invoice_pages(request, handler):
    if request.method != "GET" or not request.path.startswith(HOSTED_INVOICE_PATH):
        return await handler(request)
    invoice = resources.store.get(f"invoice:{request.path[len(HOSTED_INVOICE_PATH) :]}")
    if invoice is None:
        raise web.HTTPNotFound()
    amount = f"{invoice.amount_due / 100:.2f} {invoice.currency.upper()}"
    title = html.escape(f"Invoice {getattr(invoice, 'number', None) or invoice.id}")
    body = f"<h1>{title}</h1><p>{html.escape(amount)} — {html.escape(invoice.status)}</p>"
    return web.Response(text=f"<!doctype html><title>{title}</title>{body}", content_type="text/html")


@web.middleware
async def scoped_stripe_js(request, handler):
    if request.path != STRIPE_JS_PATH:
        return await handler(request)
    source = (pathlib.Path(localstripe.__file__).parent / "localstripe-v3.js").read_text()
    own_url = json.dumps(f"{request.scheme}://{request.host}{STRIPE_JS_PATH}")
    body = "(function () {\n" + source.replace("document.currentScript.src", own_url) + "\n})();\n"
    response = web.Response(text=body, content_type="application/javascript")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", default="")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    _use_state_file(args.state)
    _accept_cancellation_details()
    _accept_price_and_proration_behavior()
    _subscription_default_payment_method()
    _prorate_like_stripe()
    _send_missing_events()  # last: it sees the changes of the wrappers above
    webhooks._send_webhook = _Deliveries().send
    if args.state:
        resources.store.try_load_from_disk()
    _HOSTED_INVOICE_BASE[0] = f"http://127.0.0.1:{args.port}"
    server.app.middlewares.insert(0, scoped_stripe_js)
    server.app.middlewares.insert(0, hosted_invoice_pages)
    server.app.middlewares.insert(0, stripe_errors_for_crashes)
    server.app.middlewares.append(own_routes)
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=None)


if __name__ == "__main__":
    main()
