from odoo import models


class AccountEdiXmlCii(models.AbstractModel):
    _inherit = "account.edi.xml.cii"

    def _export_invoice_constraints(self, invoice, vals):
        """Stripe collects the invoices of subscriptions (card or direct
        debit): they name no bank account to transfer to, and the Factur-X
        needs none (payment instructions, BG-16, are optional in EN 16931;
        Odoo requires them after the German rule BR-DE-1)."""
        constraints = super()._export_invoice_constraints(invoice, vals)
        if invoice.vita_stripe_invoice_id:
            constraints.pop("seller_payment_instructions_1", None)
            constraints.pop("seller_payment_instructions_2", None)
        return constraints
