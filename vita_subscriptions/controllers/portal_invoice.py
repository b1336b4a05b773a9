from odoo.addons.account.controllers import portal


class VitaInvoicePortal(portal.PortalAccount):
    """Account's invoice pages for invoices Stripe collects."""

    def _get_overdue_invoices_domain(self, partner_id=None):
        """Stripe retries and collects the subscriptions' overdue invoices
        itself (its page is linked on each invoice): the portal's "Pay
        overdue" never takes their payment through Odoo."""
        return [*super()._get_overdue_invoices_domain(partner_id), ("vita_stripe_invoice_id", "=", False)]
