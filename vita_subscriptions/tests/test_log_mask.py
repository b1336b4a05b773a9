import logging
import time

import requests

from odoo.tests import HttpCase, tagged

from ..controllers.log_mask import MASK
from .webhook_common import WebhookCase


@tagged("post_install", "-at_install")
class TestWebhookKeyStaysOutOfTheLog(WebhookCase, HttpCase):
    def test_access_log_masks_the_key(self):
        path = self.webhook_path()
        key = path.rsplit("/", 1)[1]
        with self.assertLogs("werkzeug", logging.INFO) as logs:
            response = requests.post(
                self.base_url() + path, data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"}, timeout=30
            )
            # Odoo's server logs the request line once the response is sent.
            self.wait_for_log(logs, "/vita_subscriptions/webhook/")
        self.assertEqual(response.status_code, 400)
        lines = [line for line in logs.output if "/vita_subscriptions/webhook/" in line]
        self.assertTrue(lines)
        for line in lines:
            self.assertNotIn(key, line)
            self.assertIn(f"/vita_subscriptions/webhook/{MASK}", line)

    def wait_for_log(self, logs, fragment, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not any(fragment in line for line in logs.output):
            time.sleep(0.05)
