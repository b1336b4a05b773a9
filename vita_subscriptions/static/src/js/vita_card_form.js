import publicWidget from "@web/legacy/js/public/public_widget";
import { loadJS } from "@web/core/assets";
import { rpc } from "@web/core/network/rpc";
import { _t } from "@web/core/l10n/translation";

/**
 * A card entered in a Stripe.js card element (card data never reaches Odoo),
 * confirmed with a SetupIntent (3-D Secure handled by Stripe.js), then sent
 * by id to Odoo: to subscribe (/my/subscriptions/<id>) or to become the
 * customer's default card (/my/credit_card).
 */
publicWidget.registry.VitaCardForm = publicWidget.Widget.extend({
    selector: ".o_vita_card_form",
    events: {
        "click .o_vita_submit": "_onSubmitNewCard",
        "click .o_vita_saved_card": "_onSubmitSavedCard",
        "click .o_vita_complete_payment": "_onCompletePayment",
    },

    async willStart() {
        await this._super(...arguments);
        await loadJS(this.el.dataset.stripeJsUrl);
        // Stripe.js speaks the page's language, its card messages included.
        const locale = (document.documentElement.lang || "auto").split("-")[0] || "auto";
        this.stripe = window.Stripe(this.el.dataset.publishableKey, { locale });
        this.card = this.stripe.elements().create("card");
    },

    start() {
        this.card.mount(this.el.querySelector(".o_vita_card_element"));
        return this._super(...arguments);
    },

    _params(extra) {
        return {
            csrf_token: odoo.csrf_token,
            access_token: this.el.dataset.accessToken || undefined,
            ...extra,
        };
    },

    _setBusy(busy) {
        for (const button of this.el.querySelectorAll("button")) {
            button.disabled = busy;
        }
    },

    _showError(message) {
        const box = this.el.querySelector(".o_vita_error");
        box.textContent = message;
        box.classList.toggle("d-none", !message);
    },

    _newAttempt() {
        return window.crypto?.randomUUID?.() || `${Date.now()}-${Math.random()}`;
    },

    async _run(steps) {
        this._setBusy(true);
        this._showError("");
        try {
            const answer = await steps();
            if (answer && answer.error) {
                this._showError(answer.error);
                this._setBusy(false);
                return;
            }
            window.location.reload();
        } catch {
            this._showError(_t("The connection was lost. Please check your network and try again."));
            this._setBusy(false);
        }
    },

    async _onSubmitNewCard() {
        await this._run(async () => {
            const setup = await rpc(this.el.dataset.setupUrl, this._params({ attempt: this._newAttempt() }));
            if (setup.error) {
                return setup;
            }
            const result = await this.stripe.confirmCardSetup(setup.client_secret, {
                payment_method: { card: this.card },
            });
            if (result.error) {
                return { error: this._cardErrorMessage(result.error) };
            }
            const paymentMethod = result.setupIntent.payment_method;
            const answer = await rpc(
                this.el.dataset.confirmUrl,
                this._params({ payment_method_id: paymentMethod.id || paymentMethod })
            );
            return this._afterConfirm(answer);
        });
    },

    async _onSubmitSavedCard() {
        await this._run(async () => {
            const answer = await rpc(this.el.dataset.confirmUrl, this._params({}));
            return this._afterConfirm(answer);
        });
    },

    /** A first payment left waiting for 3-D Secure: confirm it again. */
    async _onCompletePayment() {
        await this._run(async () => {
            const answer = await rpc(this.el.dataset.authenticatedUrl, this._params({}));
            return this._afterConfirm(answer);
        });
    },

    /**
     * Stripe.js reports card problems as plain objects with a message meant
     * for the customer; a script failure (an Error) is not for their eyes.
     */
    _cardErrorMessage(error) {
        if (error && !(error instanceof Error) && error.message) {
            return error.message;
        }
        return _t("The card could not be checked. Please fill in every card field and try again.");
    },

    /** The first payment may need 3-D Secure: confirm it in the page. */
    async _afterConfirm(answer) {
        if (!answer.requires_action) {
            return answer;
        }
        await this.stripe.confirmCardPayment(answer.client_secret);
        return rpc(this.el.dataset.authenticatedUrl, this._params({}));
    },
});
