"""Customer portal: /my/subscriptions, /my/credit_card."""
