import importlib.util
import tempfile
from pathlib import Path

from odoo.tests import HttpCase, tagged

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "screenshots.py"


@tagged("post_install", "-at_install")
class TestScreenshotScript(HttpCase):
    """tools/screenshots.py (`make screenshots`) keeps working: it logs in
    with requests and captures one page in headless Chromium."""

    def test_capture_one_page(self):
        spec = importlib.util.spec_from_file_location("vita_screenshots", SCRIPT)
        screenshots = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(screenshots)
        admin = screenshots.Odoo(self.base_url(), "admin", "admin")
        with tempfile.TemporaryDirectory() as folder:
            png = screenshots.capture(
                self.base_url(),
                "/my/subscriptions",
                Path(folder) / "list.png",
                session_id=admin.session_id,
                ready_selector="#wrap",
            ).read_bytes()
        # Requests the page started (lazy assets) end before the test's cursor closes.
        self._wait_remaining_requests()
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertGreater(len(png), 5000, "a page, not a blank image")
