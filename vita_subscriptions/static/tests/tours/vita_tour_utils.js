/** The steps of our tours wait on the server (Stripe calls, page loads):
 * on a loaded 2-core machine Odoo's 10 s default per step is too short. A
 * deadline, not a delay: a step goes on as soon as its trigger is there. */
export const SERVER_WAIT = 45000;

export function withDeadlines(steps) {
    return steps.map((step) => ({ timeout: SERVER_WAIT, ...step }));
}

/** The portal's plan change up to its confirmation: plan (by its label) and
 * quantity, then Stripe's preview, which must show these amounts. */
export function changePlanWithPreview(planLabel, quantity, { now, proration, next }) {
    return [
        { content: "Change plan", trigger: ".o_vita_change_plan", run: "click" },
        { content: "Plan", trigger: ".o_vita_new_plan:visible", run: `selectByLabel ${planLabel}` },
        { content: "Quantity", trigger: ".o_vita_new_quantity", run: `edit ${quantity}` },
        { content: "Not before the preview", trigger: ".o_vita_confirm_plan:disabled" },
        { content: "See the price", trigger: ".o_vita_preview_plan", run: "click" },
        { content: "Charged now", trigger: `.o_vita_plan_preview:visible .o_vita_preview_now:contains('${now}')` },
        { content: "Prorations", trigger: `.o_vita_preview_proration:contains('${proration}')` },
        { content: "Next invoice", trigger: `.o_vita_preview_next:contains('${next}')` },
        { content: "Confirm", trigger: ".o_vita_confirm_plan:enabled", run: "click" },
    ];
}
