from odoo.tests import tagged

from .test_portal import PortalCase


@tagged("post_install", "-at_install")
class TestPortalCancellationReason(PortalCase):
    """The portal's Cancel asks why; the reason reaches Stripe."""

    def test_form_offers_the_active_reasons_to_the_owner_only(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        retired = self.env["vita.cancellation.reason"].create({"name": "Retired reason", "active": False})
        self.authenticate("vita_owner", "vita_owner")
        page = self.url_open(self.url(subscription)).text
        self.assertIn("o_vita_cancel_reason", page)
        self.assertIn(self.env.ref("vita_subscriptions.cancellation_reason_too_expensive").name, page)
        self.assertNotIn(retired.name, page)
        self.authenticate("vita_colleague", "vita_colleague")
        self.assertNotIn("o_vita_cancel_reason", self.url_open(self.url(subscription)).text)

    def test_reason_and_comment_reach_stripe(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        reason = self.env.ref("vita_subscriptions.cancellation_reason_too_expensive")
        self.authenticate("vita_owner", "vita_owner")
        self.url_open(
            self.url(subscription, "/cancel"),
            data={
                "csrf_token": self.csrf_token(),
                "when": "period_end",
                "reason_id": str(reason.id),
                "comment": "  Half the price elsewhere ",
            },
        )
        self.assertTrue(subscription.cancel_at_period_end)
        self.assertEqual(subscription.cancellation_reason_id, reason)
        self.assertEqual(subscription.cancellation_comment, "Half the price elsewhere")
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        self.assertEqual(
            stripe_subscription["cancellation_details"],
            {"feedback": "too_expensive", "comment": "Half the price elsewhere"},
        )

    def test_no_reason_is_fine_and_a_forged_one_is_ignored(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        retired = self.env["vita.cancellation.reason"].create({"name": "Retired", "active": False})
        self.authenticate("vita_owner", "vita_owner")
        self.url_open(
            self.url(subscription, "/cancel"),
            data={"csrf_token": self.csrf_token(), "when": "period_end", "reason_id": str(retired.id)},
        )
        self.assertTrue(subscription.cancel_at_period_end)
        self.assertFalse(subscription.cancellation_reason_id)
        stripe_subscription = self.localstripe.get(f"subscriptions/{subscription.stripe_subscription_id}")
        self.assertFalse(stripe_subscription.get("cancellation_details"))

    def test_colleague_cannot_set_a_reason(self):
        subscription = self.subscribed(contact_id=self.contact.id)
        reason = self.env.ref("vita_subscriptions.cancellation_reason_unused")
        self.authenticate("vita_colleague", "vita_colleague")
        self.url_open(
            self.url(subscription, "/cancel"),
            data={"csrf_token": self.csrf_token(), "when": "now", "reason_id": str(reason.id)},
        )
        self.assertEqual(subscription.state, "active")
        self.assertFalse(subscription.cancellation_reason_id)
