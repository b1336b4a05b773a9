"""Run localstripe on 127.0.0.1 only (its own command binds every address).

--state FILE keeps localstripe's objects across restarts (the demo);
without it every start is from scratch (the tests).

localstripe's fake Stripe.js declares a global `class Element`, which
shadows the DOM's `Element` for every script of the page and breaks
Bootstrap (`Element.prototype.querySelectorAll`). The launcher serves the
same script wrapped in a function scope, with the API address it would have
read from its own <script src>.

localstripe 1.15 refuses `cancellation_details` on a subscription update
(real Stripe accepts it); the launcher keeps it on the subscription instead.
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
    if args.state:
        resources.store.try_load_from_disk()
    server.app.middlewares.insert(0, scoped_stripe_js)
    logging.basicConfig(level=logging.INFO)
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=None)


if __name__ == "__main__":
    main()
