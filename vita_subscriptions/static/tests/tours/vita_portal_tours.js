import { registry } from "@web/core/registry";
import { withDeadlines } from "@vita_subscriptions/../tests/tours/vita_tour_utils";

const tours = registry.category("web_tour.tours");

/** Type a card into localstripe's fake card element. */
function fillCard(number) {
    return [
        { content: "Card number", trigger: ".o_vita_card_element input[placeholder=number]", run: `edit ${number}` },
        { trigger: ".o_vita_card_element input[placeholder=exp_month]", run: "edit 12" },
        { trigger: ".o_vita_card_element input[placeholder=exp_year]", run: "edit 34" },
        { trigger: ".o_vita_card_element input[placeholder=cvc]", run: "edit 123" },
        { trigger: ".o_vita_card_element input[placeholder=postal_code]", run: "edit 75001" },
    ];
}

function expectState(state) {
    return {
        content: `State is ${state}`,
        trigger: `.o_vita_subscription_page .o_vita_state[data-state=${state}]`,
    };
}

const complete3ds = {
    content: "Complete 3-D Secure",
    trigger: "button:contains('Complete authentication')",
    run: "click",
};
const fail3ds = { ...complete3ds, content: "Fail 3-D Secure", trigger: "button:contains('Fail authentication')" };

tours.add("vita_portal_subscribe_tour", {
    steps: () =>
        withDeadlines([
            { content: "Terms above the button", trigger: ".o_vita_terms:contains('Terms for the tour')" },
            ...fillCard("4242424242424242"),
            { content: "Subscribe", trigger: ".o_vita_submit", run: "click" },
            expectState("active"),
            { content: "Thanked", trigger: ".o_vita_portal_message:contains('you are subscribed')" },
            { content: "The card in use", trigger: ".o_vita_card_in_use:contains('4242') .o_vita_change_card" },
        ]),
});

tours.add("vita_portal_declined_tour", {
    steps: () =>
        withDeadlines([
            ...fillCard("4000000000000341"),
            { content: "Subscribe", trigger: ".o_vita_submit", run: "click" },
            {
                content: "Plain error",
                trigger: ".o_vita_error:not(.d-none):contains('Please try another card')",
            },
            expectState("not_subscribed"),
            {
                content: "The button is usable again",
                trigger: ".o_vita_submit:enabled",
                run: () => window.location.reload(),
            },
            {
                content: "The declined card is not offered",
                trigger: ".o_vita_saved_card:contains('4242'):not(:contains('0341'))",
            },
        ]),
});

tours.add("vita_portal_3ds_left_then_confirmed_tour", {
    steps: () =>
        withDeadlines([
            ...fillCard("4000002500003155"),
            { content: "Subscribe", trigger: ".o_vita_submit", run: "click" },
            { ...complete3ds, content: "3-D Secure of the card set-up" },
            {
                content: "The customer leaves the 3-D Secure box of the first payment",
                trigger: "button:contains('Complete authentication')",
                run: () => window.location.reload(),
            },
            expectState("incomplete"),
            { content: "Told what is missing", trigger: ".o_vita_incomplete" },
            { content: "Confirm the payment", trigger: ".o_vita_complete_payment", run: "click" },
            { ...complete3ds, content: "3-D Secure of the first payment" },
            expectState("active"),
        ]),
});

tours.add("vita_portal_incomplete_other_card_tour", {
    steps: () =>
        withDeadlines([
            expectState("incomplete"),
            ...fillCard("4242424242424242"),
            { content: "Pay with another card", trigger: ".o_vita_submit", run: "click" },
            expectState("active"),
        ]),
});

tours.add("vita_portal_empty_card_tour", {
    steps: () =>
        withDeadlines([
            { content: "Subscribe without a card", trigger: ".o_vita_submit", run: "click" },
            {
                content: "A plain message, no script error",
                trigger:
                    ".o_vita_error:not(.d-none):contains('Please fill in every card field'):not(:contains('undefined'))",
            },
            expectState("not_subscribed"),
            { content: "The button is usable again", trigger: ".o_vita_submit:enabled" },
        ]),
});

tours.add("vita_portal_3ds_tour", {
    steps: () =>
        withDeadlines([
            ...fillCard("4000002500003155"),
            { content: "Subscribe", trigger: ".o_vita_submit", run: "click" },
            { ...complete3ds, content: "3-D Secure of the card set-up" },
            { ...complete3ds, content: "3-D Secure of the first payment" },
            expectState("active"),
        ]),
});

tours.add("vita_portal_3ds_abandoned_tour", {
    steps: () =>
        withDeadlines([
            ...fillCard("4000002500003155"),
            { content: "Subscribe", trigger: ".o_vita_submit", run: "click" },
            fail3ds,
            { content: "Plain error", trigger: ".o_vita_error:not(.d-none)" },
            expectState("not_subscribed"),
        ]),
});

tours.add("vita_portal_saved_card_tour", {
    steps: () =>
        withDeadlines([
            { content: "One click", trigger: ".o_vita_saved_card:contains('4242')", run: "click" },
            expectState("active"),
        ]),
});

tours.add("vita_portal_cancel_reactivate_tour", {
    steps: () =>
        withDeadlines([
            expectState("active"),
            { content: "Cancel", trigger: ".o_vita_cancel", run: "click" },
            { content: "At period end is proposed", trigger: "#o_vita_when_end:checked" },
            { content: "Confirm", trigger: ".o_vita_cancel_confirm:visible", run: "click" },
            { content: "Ends at period end", trigger: ".o_vita_state[data-ending]:contains('Ends on')" },
            { content: "Told", trigger: ".o_vita_portal_message:contains('ends at the end of the billing period')" },
            { content: "Reactivate", trigger: ".o_vita_reactivate", run: "click" },
            { content: "Running again", trigger: ".o_vita_cancel:contains('Cancel subscription')" },
            { content: "Told", trigger: ".o_vita_portal_message:contains('active again')" },
            { trigger: "body:not(:has(.o_vita_state[data-ending]))" },
        ]),
});

tours.add("vita_portal_cancel_now_tour", {
    steps: () =>
        withDeadlines([
            { content: "Cancel", trigger: ".o_vita_cancel", run: "click" },
            { content: "Now", trigger: "#o_vita_when_now", run: "click" },
            { content: "Confirm", trigger: ".o_vita_cancel_confirm:visible", run: "click" },
            expectState("canceled"),
            { content: "Nothing left to do", trigger: "body:not(:has(.o_vita_reactivate, .o_vita_cancel))" },
        ]),
});

tours.add("vita_portal_credit_card_tour", {
    steps: () =>
        withDeadlines([
            { content: "Current card", trigger: ".o_vita_current_card .o_vita_last4:contains('4242')" },
            ...fillCard("5555555555554444"),
            { content: "Save", trigger: ".o_vita_submit", run: "click" },
            {
                content: "New card shown",
                trigger: ".o_vita_current_card .o_vita_last4:contains('4444')",
            },
            { content: "Told", trigger: ".o_vita_portal_message:contains('Your new card is saved')" },
        ]),
});
