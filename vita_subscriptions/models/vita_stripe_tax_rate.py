from odoo import api, fields, models


class VitaStripeTaxRate(models.Model):
    """A Stripe tax rate, read from Stripe and mapped to an Odoo sale tax.

    The mapped tax has the same percentage and price-inclusion, so the Odoo
    invoice of a paid Stripe invoice totals what Stripe charged.
    """

    _name = "vita.stripe.tax.rate"
    _inherit = "vita.stripe.mirror"
    _description = "Stripe tax rate"
    _order = "name, percentage"

    name = fields.Char(required=True, readonly=True)
    percentage = fields.Float(digits=(16, 4), readonly=True)
    inclusive = fields.Boolean(readonly=True, help="Stripe's amount already includes this tax.")
    tax_id = fields.Many2one(
        "account.tax",
        string="Odoo tax",
        readonly=True,
        check_company=True,
        help="Sale tax used on the Odoo invoices for this Stripe tax rate.",
    )

    @api.depends("name", "percentage")
    @api.depends_context("lang")
    def _compute_display_name(self):
        """“VAT (20 %)”, “TVA (5,5 %)”: no trailing zeros, the user's decimal point."""
        decimal_point = self.env["res.lang"]._get_data(code=self.env.lang or "en_US").decimal_point or "."
        for rate in self:
            percentage = f"{rate.percentage:g}".replace(".", decimal_point)
            rate.display_name = f"{rate.name} ({percentage}\N{NO-BREAK SPACE}%)"

    @api.model
    def _vita_vals_from_stripe(self, stripe_object, cache):
        rate = stripe_object
        return {
            "name": rate.display_name,
            "percentage": rate.percentage,
            "inclusive": bool(rate.inclusive),
            "active": bool(rate.active),
        }

    @api.model
    def _vita_mirror(self, gateway, stripe_objects):
        rates = super()._vita_mirror(gateway, stripe_objects)
        rates.sudo().filtered(lambda r: not r.tax_id)._vita_map_to_odoo_tax()
        return rates

    def _vita_map_to_odoo_tax(self):
        """Link each rate to a sale tax of its company with the same
        percentage and inclusion; create that tax if the company has none."""
        Tax = self.env["account.tax"]
        for rate in self:
            company = rate.company_id
            included = "tax_included" if rate.inclusive else "tax_excluded"
            tax = Tax.search(
                [
                    *Tax._check_company_domain(company),
                    ("type_tax_use", "=", "sale"),
                    ("amount_type", "=", "percent"),
                    ("amount", "=", rate.percentage),
                    ("price_include", "=", rate.inclusive),
                ],
                limit=1,
            )
            if not tax:
                tax = rate._vita_create_odoo_tax(included)
            rate.tax_id = tax

    def _vita_create_odoo_tax(self, included):
        """A copy of the company's default sale tax keeps its accounts and
        tax group; without one, a plain tax with Odoo's defaults."""
        self.ensure_one()
        vals = {
            "name": f"{self.name} {self.percentage:g}% (Stripe)",
            "amount": self.percentage,
            "amount_type": "percent",
            "type_tax_use": "sale",
            "price_include_override": included,
            "company_id": self.company_id.id,
            "description": f"{self.percentage:g}%",
        }
        template = self.company_id.account_sale_tax_id
        if template and template.amount_type == "percent":
            return template.copy(vals)
        return self.env["account.tax"].create(vals)

    def action_sync_from_stripe(self):
        return self.env["vita.stripe.plan"].action_sync_from_stripe()
