import { registry } from "@web/core/registry";
import { withDeadlines } from "@vita_subscriptions/../tests/tours/vita_tour_utils";

// A back-office user cancels a running subscription at the end of its
// billing period (giving the customer's reason), then reactivates it, from
// the subscription form.
registry.category("web_tour.tours").add("vita_backoffice_cancel_reactivate_tour", {
    steps: () =>
        withDeadlines([
            {
                content: "Running",
                trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Active')",
            },
            {
                content: "Cancel",
                trigger: ".o_form_view .o_statusbar_buttons button[name=action_cancel]",
                run: "click",
            },
            {
                content: "At period end is the default",
                trigger: ".modal .o_field_widget[name=when] input[data-value=period_end]:checked",
            },
            { content: "Reason", trigger: ".modal .o_field_widget[name=reason_id] input", run: "edit Too" },
            {
                content: "Too expensive",
                trigger:
                    ".modal .o_field_widget[name=reason_id] .o-autocomplete--dropdown-menu a:contains('Too expensive')",
                run: "click",
            },
            { content: "Confirm", trigger: ".modal button[name=action_confirm]", run: "click" },
            {
                content: "Banner",
                trigger: ".o_form_view .alert-info:contains('Cancels at the end of the billing period')",
            },
            {
                content: "Reactivate",
                trigger: ".o_form_view .o_statusbar_buttons button[name=action_reactivate]",
                run: "click",
            },
            { content: "Banner gone", trigger: ".o_form_view:not(:has(.alert-info:visible))" },
            {
                content: "Cancel is offered again",
                trigger: ".o_form_view .o_statusbar_buttons button[name=action_cancel]",
            },
            {
                content: "Sync",
                trigger: ".o_form_view .o_statusbar_buttons button[name=action_sync_from_stripe_button]",
                run: "click",
            },
            { content: "Told it is done", trigger: ".o_notification:contains('Synchronised with Stripe')" },
        ]),
});

// Odoo's integer field would truncate 1.5 to 1 without a word.
registry.category("web_tour.tours").add("vita_backoffice_quantity_tour", {
    steps: () =>
        withDeadlines([
            { content: "Quantity", trigger: ".o_form_view .o_field_widget[name=quantity] input", run: "edit 1.5" },
            { content: "Leave the field", trigger: ".o_form_view .o_field_widget[name=name] input", run: "click" },
            { content: "Told why", trigger: ".o_notification:contains('whole number')" },
            { content: "Marked invalid", trigger: ".o_form_view .o_field_widget[name=quantity].o_field_invalid" },
            { content: "Discard", trigger: ".o_form_view .o_form_button_cancel", run: "click" },
            { content: "Unchanged", trigger: ".o_form_view .o_field_widget[name=quantity] input:value(2)" },
        ]),
});
