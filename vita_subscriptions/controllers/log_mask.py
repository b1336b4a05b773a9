"""Keep the webhook key out of Odoo's access log.

The key is the secret part of the webhook URL; Odoo's HTTP server logs
every request line (logger ``werkzeug``, INFO), so without this each Stripe
delivery would write the key to the log. The filter rewrites the record in
place: every handler (file, syslog, the test's capture) sees the masked
line, whatever the level configuration.
"""

import logging
import re

from ..const import WEBHOOK_ROUTE

MASK = "***"
_KEY_IN_PATH = re.compile(re.escape(WEBHOOK_ROUTE) + r"/[^\s\"?/]+")


def mask_webhook_key(text):
    return _KEY_IN_PATH.sub(f"{WEBHOOK_ROUTE}/{MASK}", text)


class WebhookKeyFilter(logging.Filter):
    def filter(self, record):
        message = record.getMessage() if record.args else str(record.msg)
        if WEBHOOK_ROUTE in message:
            record.msg, record.args = mask_webhook_key(message), ()
        return True


def install():
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(existing, WebhookKeyFilter) for existing in logger.filters):
        logger.addFilter(WebhookKeyFilter())


install()
