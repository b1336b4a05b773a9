from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from ..utils import from_stripe_amount, stripe_exponent, to_stripe_amount


@tagged("post_install", "-at_install")
class TestStripeAmounts(TransactionCase):
    """Stripe's currency table, both ways, and currencies Odoo cannot hold
    as Stripe bills them. https://docs.stripe.com/currencies"""

    def currency(self, code):
        return self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)])

    def test_exponents(self):
        for code, exponent in {"EUR": 2, "JPY": 0, "KRW": 0, "UGX": 0, "ISK": 2, "HUF": 2, "BHD": 3, "TND": 3}.items():
            with self.subTest(code=code):
                self.assertEqual(stripe_exponent(code), exponent)
                self.assertEqual(stripe_exponent(code.lower()), exponent)

    def test_from_stripe(self):
        for code, amount, value in [
            ("EUR", 2499, 24.99),
            ("JPY", 5000, 5000.0),
            ("KRW", 5000, 5000.0),
            ("ISK", 500000, 5000.0),
            ("HUF", 123456, 1234.56),
            ("BHD", 12340, 12.34),
        ]:
            with self.subTest(code=code):
                self.assertEqual(from_stripe_amount(amount, self.currency(code)), value)

    def test_to_stripe_with_the_charge_rules(self):
        for code, value, amount in [
            ("EUR", 24.99, 2499),
            ("JPY", 5000, 5000),
            ("KRW", 5000, 5000),
            ("ISK", 5000, 500000),
            ("ISK", 4999.6, 500000),  # whole krónur only
            ("HUF", 1234.56, 123456),
            ("BHD", 12.345, 12350),  # last digit 0
            ("BHD", 12.344, 12340),
        ]:
            with self.subTest(code=code, value=value):
                self.assertEqual(to_stripe_amount(value, self.currency(code)), amount)

    def test_amount_odoo_cannot_hold_is_refused(self):
        for code, amount in [("ISK", 500050), ("TWD", 10050)]:
            with self.subTest(code=code), self.assertRaisesRegex(UserError, "adjust the rounding"):
                from_stripe_amount(amount, self.currency(code))
        with self.assertRaises(UserError):
            from_stripe_amount("12", self.currency("EUR"))
