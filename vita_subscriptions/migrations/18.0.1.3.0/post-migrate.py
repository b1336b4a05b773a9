def migrate(cr, version):
    """Upgrading from 18.0.1.2.x: every company keeps booking Stripe
    invoices when they are paid, as before (new companies and databases book
    them at finalization: README, "Invoice of record")."""
    if not version:
        return
    cr.execute("UPDATE res_company SET vita_invoice_booking = 'paid'")
