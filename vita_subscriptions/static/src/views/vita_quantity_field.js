import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { IntegerField, integerField } from "@web/views/fields/integer/integer_field";
import { useInputField } from "@web/views/fields/input_field_hook";
import { useNumpadDecimal } from "@web/views/fields/numpad_decimal_hook";
import { InvalidNumberError, parseFloat } from "@web/views/fields/parsers";
import { useState } from "@odoo/owl";

/**
 * A subscription quantity. Odoo's integer field silently truncates 1.5 to 1;
 * Stripe bills whole units, so this one refuses it and says why.
 */
export class VitaQuantityField extends IntegerField {
    setup() {
        this.state = useState({ hasFocus: false });
        this.notification = useService("notification");
        useInputField({
            getValue: () => this.formattedValue,
            refName: "numpadDecimal",
            parse: (value) => this.parseQuantity(value),
        });
        useNumpadDecimal();
    }

    parseQuantity(value) {
        const quantity = parseFloat(value);
        if (!Number.isInteger(quantity)) {
            this.notification.add(
                _t("The quantity must be a whole number (1, 2, 3…): Stripe bills whole units."),
                { type: "danger" }
            );
            throw new InvalidNumberError(`"${value}" is not a whole number`);
        }
        return quantity;
    }
}

registry.category("fields").add("vita_quantity", { ...integerField, component: VitaQuantityField });
