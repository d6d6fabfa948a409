"""The demo, Chromium and the `visit` helper of test_widget_browser.py, for every browser test of
the widget in this folder (keyboard journeys, accessibility, layout)."""

from tests.extensions.widget.test_widget_browser import browser, demo, visit

__all__ = ["browser", "demo", "visit"]
