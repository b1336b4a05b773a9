"""The readers of Stripe shapes, on webhook dicts and stripe-python objects,
across API versions."""

import unittest

import stripe

from .. import stripe_shapes as shapes


def as_object(data):
    """A stripe-python object, as the gateway returns it (not a dict)."""
    return stripe.StripeObject.construct_from(data, "sk_test_shapes")


class TestStripeShapes(unittest.TestCase):
    def test_expandable_ids(self):
        self.assertEqual(shapes.stripe_id("in_1"), "in_1")
        self.assertEqual(shapes.stripe_id({"id": "in_2", "object": "invoice"}), "in_2")
        self.assertEqual(shapes.stripe_id(as_object({"id": "in_3"})), "in_3")
        for empty in (None, "", {}, {"id": ""}):
            self.assertIsNone(shapes.stripe_id(empty))

    def test_subscription_item_on_both_shapes(self):
        data = {
            "id": "sub_1",
            "default_tax_rates": [{"id": "txr_default"}],
            "items": {"object": "list", "data": [{"id": "si_1", "quantity": 2, "price": {"id": "price_1"}}]},
        }
        for subscription in (data, as_object(data)):
            item = shapes.single_item(subscription)
            self.assertEqual(shapes.item_price_id(item), "price_1")
            # No tax rate on the item: the subscription's default ones.
            self.assertEqual(shapes.subscription_tax_rate_ids(subscription, item), ["txr_default"])
        two = {"items": {"data": [{"id": "si_1"}, {"id": "si_2"}]}}
        self.assertIsNone(shapes.single_item(two))
        self.assertEqual(len(shapes.subscription_items(two)), 2)
        self.assertEqual(shapes.subscription_items({"id": "sub_no_items"}), [])

    def test_invoice_subscription_before_and_since_basil(self):
        before = {"subscription": "sub_old", "subscription_details": {"metadata": {"odoo_subscription_id": "7"}}}
        since = {
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": {"id": "sub_new"}, "metadata": {"odoo_subscription_id": "8"}},
            }
        }
        self.assertEqual(shapes.invoice_subscription_ref(before), ("sub_old", {"odoo_subscription_id": "7"}))
        self.assertEqual(shapes.invoice_subscription_ref(since), ("sub_new", {"odoo_subscription_id": "8"}))

    def test_invoice_line_price_and_taxes(self):
        basil = {
            "pricing": {"price_details": {"price": "price_new"}},
            "taxes": [{"type": "tax_rate_details", "tax_rate_details": {"tax_rate": "txr_1"}}],
        }
        older = {"price": {"id": "price_old"}, "tax_amounts": [{"tax_rate": {"id": "txr_2"}, "amount": 10}]}
        self.assertEqual((shapes.line_price_id(basil), shapes.line_tax_rate_ids(basil)), ("price_new", ["txr_1"]))
        self.assertEqual((shapes.line_price_id(older), shapes.line_tax_rate_ids(older)), ("price_old", ["txr_2"]))

    def test_credit_note_refunds(self):
        since_2024 = {
            "refunds": [{"refund": {"id": "re_1"}, "amount_refunded": 500}, {"refund": "re_2", "amount_refunded": 200}]
        }
        before = {"refund": "re_3", "amount": 900, "out_of_band_amount": 100}
        self.assertEqual(shapes.credit_note_refunds(since_2024), [("re_1", 500), ("re_2", 200)])
        self.assertEqual(shapes.credit_note_refunds(before), [("re_3", 800)])
