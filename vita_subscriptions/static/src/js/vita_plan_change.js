import publicWidget from "@web/legacy/js/public/public_widget";
import { rpc } from "@web/core/network/rpc";
import { _t } from "@web/core/l10n/translation";

/**
 * The portal's "Change plan": Stripe's invoice preview of the chosen plan
 * and quantity is shown before the change can be confirmed; choosing
 * another plan or quantity asks for a new preview.
 */
publicWidget.registry.VitaPlanChange = publicWidget.Widget.extend({
    selector: ".o_vita_plan_change",
    events: {
        "click .o_vita_preview_plan": "_onPreview",
        "change .o_vita_new_plan": "_onEdit",
        "input .o_vita_new_quantity": "_onEdit",
    },

    _el(selector) {
        return this.el.querySelector(selector);
    },

    _showError(message) {
        const box = this._el(".o_vita_error");
        box.textContent = message || "";
        box.classList.toggle("d-none", !message);
    },

    _onEdit() {
        this._el(".o_vita_plan_preview").classList.add("d-none");
        this._el(".o_vita_confirm_plan").disabled = true;
        this._el(".o_vita_proration_date").value = "";
        this._showError("");
    },

    async _onPreview() {
        const button = this._el(".o_vita_preview_plan");
        this._onEdit();
        button.disabled = true;
        try {
            const answer = await rpc(this.el.dataset.previewUrl, {
                csrf_token: odoo.csrf_token,
                plan_id: this._el(".o_vita_new_plan").value,
                quantity: this._el(".o_vita_new_quantity").value,
            });
            if (answer.error) {
                this._showError(answer.error);
                return;
            }
            this._el(".o_vita_preview_now").textContent = answer.amount_now;
            this._el(".o_vita_preview_next").textContent = answer.amount_next;
            this._el(".o_vita_preview_proration").textContent = answer.amount_proration || "";
            this._el(".o_vita_preview_proration_row").classList.toggle("d-none", !answer.amount_proration);
            this._el(".o_vita_preview_date").textContent = answer.next_date || "";
            this._el(".o_vita_preview_date_label").classList.toggle("d-none", !answer.next_date);
            this._el(".o_vita_proration_date").value = answer.proration_date;
            this._el(".o_vita_plan_preview").classList.remove("d-none");
            this._el(".o_vita_confirm_plan").disabled = false;
        } catch {
            this._showError(_t("The connection was lost. Please check your network and try again."));
        } finally {
            button.disabled = false;
        }
    },
});
