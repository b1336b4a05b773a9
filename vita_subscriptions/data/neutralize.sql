-- Never let a copied database receive or answer the real Stripe webhooks.
UPDATE ir_config_parameter
   SET value = ''
 WHERE key IN ('vita_subscriptions.webhook_key',
               'vita_subscriptions.webhook_secret');
