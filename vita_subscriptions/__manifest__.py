{
    "name": "Vita Subscriptions (Stripe Billing)",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "summary": "Bill customers through Stripe Billing subscriptions from Odoo",
    "author": "Vita",
    "website": "https://github.com/vita/vita_subscriptions",
    "license": "LGPL-3",
    "depends": ["account", "portal", "mail", "payment_stripe"],
    "external_dependencies": {"python": ["stripe"]},
    "data": [
        "security/vita_subscriptions_security.xml",
        "security/ir.model.access.csv",
        "data/ir_config_parameter_data.xml",
        "data/ir_cron_data.xml",
        "views/vita_stripe_plan_views.xml",
        "views/vita_stripe_tax_rate_views.xml",
        "views/res_config_settings_views.xml",
        "views/vita_subscriptions_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "vita_subscriptions/static/tests/tours/**/*",
        ],
    },
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
    "application": True,
}
