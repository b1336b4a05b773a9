import { registry } from "@web/core/registry";
import { withDeadlines } from "@vita_subscriptions/../tests/tours/vita_tour_utils";

const tours = registry.category("web_tour.tours");

/** The customer switches to the yearly plan × 2: Stripe's preview first. */
tours.add("vita_portal_change_plan_tour", {
    steps: () =>
        withDeadlines([
            { content: "Change plan", trigger: ".o_vita_change_plan", run: "click" },
            { content: "Yearly", trigger: ".o_vita_new_plan:visible", run: "selectByLabel Yearly" },
            { content: "Two", trigger: ".o_vita_new_quantity", run: "edit 2" },
            { content: "Not before the preview", trigger: ".o_vita_confirm_plan:disabled" },
            { content: "See the price", trigger: ".o_vita_preview_plan", run: "click" },
            { content: "Nothing now", trigger: ".o_vita_plan_preview:visible .o_vita_preview_now:contains('0.00')" },
            { content: "Prorations", trigger: ".o_vita_preview_proration:contains('456.00')" },
            { content: "Next invoice", trigger: ".o_vita_preview_next:contains('956.00')" },
            { content: "Confirm", trigger: ".o_vita_confirm_plan:enabled", run: "click" },
            { content: "Told", trigger: ".o_vita_portal_message:contains('Your plan is changed')" },
            { content: "New quantity", trigger: ".o_vita_summary td:contains('2')" },
            { content: "New plan", trigger: ".o_vita_summary td:contains('Yearly')" },
        ]),
});
