"""Run localstripe on 127.0.0.1 only (its own command binds every address).

--state FILE keeps localstripe's objects across restarts (the demo);
without it every start is from scratch (the tests).

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
"""

import argparse
import json
import logging
import pathlib
import pickle

import localstripe
from aiohttp import web
from localstripe import resources, server

STRIPE_JS_PATH = "/js.stripe.com/v3/"


def _use_state_file(path):
    store_cls = type(resources.store)

    def load(store):
        try:
            with open(path, "rb") as f:
                store.clear()
                store.update(pickle.load(f))  # noqa: S301 - our own state file
        except FileNotFoundError:
            pass

    def dump(store):
        if path:
            with open(path, "wb") as f:
                pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)

    store_cls.try_load_from_disk = load
    store_cls.dump_to_disk = dump


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
    to pay the subscription's invoices before the customer's default."""
    subscription_cls, invoice_cls = resources.Subscription, resources.Invoice
    original_init, original_update = subscription_cls.__init__, subscription_cls._update
    original_pay = invoice_cls._api_pay_invoice.__func__

    def init(self, *args, default_payment_method=None, **kwargs):
        self.default_payment_method = default_payment_method or None
        original_init(self, *args, **kwargs)

    def update(self, *args, default_payment_method=None, **kwargs):
        if default_payment_method is not None:
            self.default_payment_method = default_payment_method or None
        return original_update(self, *args, **kwargs)

    def pay(cls, id):
        invoice = invoice_cls._api_retrieve(id)
        subscription = invoice.subscription and resources.store.get(f"subscription:{invoice.subscription}")
        payment_method_id = getattr(subscription, "default_payment_method", None)
        if not payment_method_id:
            return original_pay(cls, id)
        customer = resources.Customer._api_retrieve(invoice.customer)
        customer._get_default_payment_method_or_source = lambda: resources.PaymentMethod._api_retrieve(
            payment_method_id
        )
        try:
            return original_pay(cls, id)
        finally:
            del customer._get_default_payment_method_or_source

    subscription_cls.__init__ = init
    subscription_cls._update = update
    invoice_cls._api_pay_invoice = classmethod(pay)


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
    _use_state_file(args.state)
    _accept_cancellation_details()
    _accept_price_and_proration_behavior()
    _subscription_default_payment_method()
    if args.state:
        resources.store.try_load_from_disk()
    server.app.middlewares.insert(0, scoped_stripe_js)
    logging.basicConfig(level=logging.INFO)
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=None)


if __name__ == "__main__":
    main()
