import { registry } from "@web/core/registry";
import { withDeadlines } from "@vita_subscriptions/../tests/tours/vita_tour_utils";

// An admin opens Subscriptions > Configuration > Billing plans, fetches the
// plans from Stripe and sees them listed.
registry.category("web_tour.tours").add("vita_catalogue_tour", {
    url: "/odoo/action-vita_subscriptions.vita_stripe_plan_action",
    steps: () =>
        withDeadlines([
            {
                content: "The plans list is open",
                trigger: ".o_list_view",
            },
            {
                content: "Look for the new plan first (the test database holds many; the search stays after the sync)",
                trigger: ".o_searchview_input",
                run: "edit Tour Gold",
            },
            {
                trigger: ".o_searchview_input",
                run: "press Enter",
            },
            {
                trigger: ".o_searchview_facet:contains('Tour Gold')",
            },
            {
                content: "Fetch plans from Stripe",
                trigger: ".o_list_view button[name=action_sync_from_stripe]",
                run: "click",
            },
            {
                content: "The Stripe plan is listed with its price",
                trigger: ".o_data_row:contains('Tour Gold'):contains('49.00')",
            },
            {
                content: "Open the tax rates",
                trigger: ".o_main_navbar button:contains('Configuration')",
                run: "click",
            },
            {
                trigger: ".dropdown-item:contains('Tax rates')",
                run: "click",
            },
            {
                content: "The tax rates list is open",
                trigger: ".o_breadcrumb:contains('Tax rates')",
                run() {},
            },
            {
                trigger: ".o_searchview_input",
                run: "edit Tour VAT",
            },
            {
                trigger: ".o_searchview_input",
                run: "press Enter",
            },
            {
                content: "The Stripe tax rate is mapped to an Odoo tax",
                trigger: ".o_data_row:contains('Tour VAT') td[name=tax_id]:contains('20')",
            },
        ]),
});
