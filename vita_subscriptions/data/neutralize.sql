-- Never let a copied database receive or answer the real Stripe webhooks:
-- every Stripe provider's webhook key (the URL) and signing secret go.
UPDATE payment_provider
   SET vita_webhook_key = NULL,
       vita_webhook_secret = NULL;
-- Left by versions before 18.0.1.2 (the migration deletes them).
UPDATE ir_config_parameter
   SET value = ''
 WHERE key IN ('vita_subscriptions.webhook_key',
               'vita_subscriptions.webhook_secret');
