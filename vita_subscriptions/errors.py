"""What a failed Stripe call tells each reader.

The back office gets the technical detail (HTTP status, Stripe's error
code, what to check); a customer on the portal gets what they can act on
(try again later, use another card). Controllers show
``customer_message`` and leave the detail in the subscription's chatter.
"""

from odoo.exceptions import UserError


class StripeFailure(UserError):
    """A Stripe call that failed: ``str()`` is the clerk's message,
    ``customer_message`` the customer's."""

    def __init__(self, message, customer_message):
        super().__init__(message)
        self.customer_message = customer_message
