/** The steps of our tours wait on the server (Stripe calls, page loads):
 * on a loaded 2-core machine Odoo's 10 s default per step is too short. A
 * deadline, not a delay: a step goes on as soon as its trigger is there. */
export const SERVER_WAIT = 45000;

export function withDeadlines(steps) {
    return steps.map((step) => ({ timeout: SERVER_WAIT, ...step }));
}
