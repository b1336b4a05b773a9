import { registry } from "@web/core/registry";
import { changePlanWithPreview, withDeadlines } from "@vita_subscriptions/../tests/tours/vita_tour_utils";

const tours = registry.category("web_tour.tours");

/** The customer switches to the yearly plan × 2: Stripe's preview first. */
tours.add("vita_portal_change_plan_tour", {
    steps: () =>
        withDeadlines([
            ...changePlanWithPreview("Yearly", 2, { now: "0.00", proration: "456.00", next: "956.00" }),
            { content: "Told", trigger: ".o_vita_portal_message:contains('Your plan is changed')" },
            { content: "New quantity", trigger: ".o_vita_summary td:contains('2')" },
            { content: "New plan", trigger: ".o_vita_summary td:contains('Yearly')" },
        ]),
});

/** The back office changes the quantity from the form: preview, then apply. */
tours.add("vita_backoffice_change_plan_tour", {
    steps: () =>
        withDeadlines([
            {
                content: "Plan and quantity go through the preview once subscribed",
                trigger: ".o_form_view .o_field_widget[name=quantity]:not(:has(input))",
            },
            {
                content: "Change plan",
                trigger: ".o_form_view .o_statusbar_buttons button[name=action_change_plan]",
                run: "click",
            },
            { content: "Quantity", trigger: ".modal .o_field_widget[name=quantity] input", run: "edit 4" },
            { content: "Preview", trigger: ".modal button[name=action_preview]", run: "click" },
            { content: "Nothing now", trigger: ".modal .o_field_widget[name=amount_now]:contains('0.00')" },
            { content: "Next invoice", trigger: ".modal .o_field_widget[name=amount_next]:contains('160.00')" },
            { content: "Apply", trigger: ".modal button[name=action_apply]", run: "click" },
            { content: "Closed", trigger: "body:not(:has(.modal))" },
            { content: "New quantity", trigger: ".o_form_view .o_field_widget[name=quantity]:contains('4')" },
        ]),
});

/** Subscriptions > Renewals at risk: the list, the reason, the e-mail. */
tours.add("vita_renewals_at_risk_tour", {
    steps: () =>
        withDeadlines([
            { content: "Filtered", trigger: ".o_searchview .o_facet_value:contains('Renewals at risk')" },
            {
                content: "The expiring card is listed",
                trigger: ".o_data_row:contains('Risky care') td[name=at_risk_reason]:contains('Card expires')",
            },
            { content: "Select it", trigger: ".o_data_row:contains('Risky care') .o_list_record_selector input", run: "click" },
            {
                content: "Send card-update e-mail",
                trigger: ".o_list_buttons button[name=action_send_card_update_email], .o_control_panel button[name=action_send_card_update_email]",
                run: "click",
            },
            { content: "Told", trigger: ".o_notification:contains('Card-update e-mail sent')" },
        ]),
});

/** Subscriptions > Revenue: MRR by month with its movements, then the graph. */
tours.add("vita_revenue_report_tour", {
    steps: () =>
        withDeadlines([
            { content: "Apps", trigger: ".o_navbar_apps_menu button:enabled", run: "click" },
            {
                content: "Subscriptions app",
                trigger: ".o_app[data-menu-xmlid='vita_subscriptions.menu_root']",
                run: "click",
            },
            {
                content: "Revenue",
                trigger: ".o_main_navbar [data-menu-xmlid='vita_subscriptions.menu_revenue']",
                run: "click",
            },
            { content: "Pivot", trigger: ".o_pivot" },
            { content: "Movements", trigger: ".o_pivot th:contains('New')" },
            { content: "Figures", trigger: ".o_pivot td.o_pivot_cell_value" },
            { content: "Graph", trigger: ".o_switch_view.o_graph", run: "click" },
            { content: "Drawn", trigger: ".o_graph_renderer canvas" },
        ]),
});
