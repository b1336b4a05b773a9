"""Stripe webhook endpoint: POST /vita_subscriptions/webhook/<webhook key>,
one key per Stripe payment provider (one Stripe account per company).

Fail closed: an unknown key is a 404, a request without a valid signature
(or with a stale one) a 400, and without a signing secret nothing is
accepted at all (503). Nothing is stored before the signature checks out.

A verified event is recorded (once per Stripe id) and answered 200 at once,
as Stripe asks, before any handling: the request only wakes a queue cron
lane (``ir.cron._trigger``). The lanes handle the events in the background,
several cron workers and servers at once, each event once, the events of a
Stripe subscription in Stripe's order (models/vita_stripe_event.py,
``_vita_process_queue``). A handler error marks the event failed (retry cron,
Retry button); a crash before the event is recorded (no 2xx) leaves Stripe's
own redelivery to do its job.
"""

import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..const import WEBHOOK_ROUTE

_logger = logging.getLogger(__name__)

# Stripe events are a few kB; anything this big is not one.
MAX_BODY_BYTES = 1024 * 1024


class VitaStripeWebhook(http.Controller):
    @http.route(
        f"{WEBHOOK_ROUTE}/<string:key>",
        type="http",
        # Stripe is no user: no session, no public user to look up.
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        # It writes: Odoo 18 starts auth="none" routes on a read-only
        # cursor (a replica when there is one) and, on the first INSERT,
        # redoes the whole request on a read/write one.
        readonly=False,
        # werkzeug stops reading past this, also for chunked bodies.
        max_content_length=MAX_BODY_BYTES,
    )
    def vita_stripe_webhook(self, key, **kwargs):
        try:
            provider, event, payload = self._vita_verified_event(key)
        except _Refused as refusal:
            return self._vita_answer({"error": refusal.reason}, refusal.status)
        # Recorded and queued, not handled: the answer does not wait.
        record = (
            request.env["vita.stripe.event"]
            .with_user(SUPERUSER_ID)
            ._vita_receive(event, payload.decode("utf-8"), provider=provider)
        )
        if not record:
            return self._vita_answer({"received": True, "duplicate": True}, 200)
        return self._vita_answer({"received": True, "state": record.state}, 200)

    @staticmethod
    def _vita_verified_event(key):
        """(Stripe provider, event dict, raw body) of a request that passes
        every check, in the order that reveals least: key, secret, size,
        signature. The key names the provider (one Stripe account per
        company), whose secret must have signed the body."""
        provider = request.env["payment.provider"].sudo()._vita_find_by_webhook_key(key)
        if not provider:
            raise _Refused(404, "not found")
        if not provider._vita_webhook_signing_secret():
            _logger.warning("Stripe webhook refused: provider %s has no signing secret", provider.id)
            raise _Refused(503, "webhook signing secret not configured")
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > MAX_BODY_BYTES:
            raise _Refused(413, "body too large")
        try:
            payload = httprequest.get_data(cache=True)
        except RequestEntityTooLarge:
            raise _Refused(413, "body too large") from None
        if len(payload) > MAX_BODY_BYTES:
            raise _Refused(413, "body too large")
        event = provider._vita_verify_webhook(payload, httprequest.headers.get("Stripe-Signature"))
        if event is None:
            raise _Refused(400, "invalid signature or body")
        return provider, event, payload

    @staticmethod
    def _vita_answer(body, status):
        return request.make_json_response(body, status=status)


class _Refused(Exception):
    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason
