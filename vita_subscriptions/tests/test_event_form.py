from lxml import etree

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestEventForm(HttpCase):
    """The Stripe event form opens without a missing asset and offers Retry
    as the next step only for a failed event."""

    def form_arch(self):
        view = self.env["vita.stripe.event"].get_view(view_type="form")
        return etree.fromstring(view["arch"])

    def test_payload_highlighting_mode_is_one_odoo_ships(self):
        code_fields = self.form_arch().xpath("//field[@widget='code']")
        self.assertEqual(len(code_fields), 1)
        mode = eval(code_fields[0].get("options"))["mode"]  # noqa: S307 - our own view's literal
        response = self.url_open(f"/web/static/lib/ace/mode-{mode}.js")
        self.assertEqual(response.status_code, 200, f"ace mode {mode!r} is not shipped by Odoo")

    def test_retry_is_primary_only_for_a_failed_event(self):
        buttons = self.form_arch().xpath("//header/button[@name='action_retry']")
        self.assertEqual(len(buttons), 2)
        primary = [b for b in buttons if "btn-primary" in b.get("class", "")]
        self.assertEqual(len(primary), 1)
        self.assertEqual(primary[0].get("invisible"), "state != 'failed'")
