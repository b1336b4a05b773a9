import { registry } from "@web/core/registry";
import { changePlanWithPreview, withDeadlines } from "@vita_subscriptions/../tests/tours/vita_tour_utils";

/** The customer goes from Tour Basic (12.00 a year) to 2 × Tour Plus (20.00
 * a year) right after subscribing, priced by Stripe's own preview (the
 * launcher's localstripe, nothing recorded): -12.00 unused, +40.00 for the
 * rest of the year, then 40.00 a year. */
registry.category("web_tour.tours").add("vita_portal_change_plan_stripe_preview_tour", {
    steps: () =>
        withDeadlines([
            ...changePlanWithPreview("Tour Plus", 2, { now: "0.00", proration: "28.00", next: "68.00" }),
            { content: "Told", trigger: ".o_vita_portal_message:contains('Your plan is changed')" },
            { content: "New plan", trigger: ".o_vita_summary td:contains('Tour Plus')" },
        ]),
});
