"""What the storefront widget says and looks like, as the merchant set it (no Flask here).

The admin's Widget settings are the one source of these values: the app writes the document
below to an app-data metafield, and the theme app extension's blocks render it (README
"Widget settings have one source: the admin"). A text the merchant left at its default is
sent as null, so the blocks show their own translation in each store language instead of the
English default.
"""

from __future__ import annotations

from typing import Any

from app.loyalty.program import DEFAULT_SETTINGS, WIDGET_POSITIONS, ProgramSettings, is_hex_color

TEXT_KEYS = ("launcher_label", "panel_title", "guest_intro")


def storefront_widget(settings: ProgramSettings) -> dict[str, Any]:
    """The widget document the blocks read: texts (null = translated default), launcher
    position and the four colours.

    Every value was validated when saved; it is checked again here because it is rendered
    into the storefront's HTML and CSS, so a colour that is not `#rrggbb` or an unknown
    position falls back to the default rather than reaching a shopper's page.
    """
    widget, defaults = settings.widget, DEFAULT_SETTINGS["widget"]
    texts: dict[str, Any] = {}
    for key in TEXT_KEYS:
        text = widget.get(key)
        own = isinstance(text, str) and text.strip() != "" and text != defaults[key]
        texts[key] = text if own else None
    colors = widget.get("colors") or {}
    position = widget.get("position")
    return {
        **texts,
        "position": position if position in WIDGET_POSITIONS else defaults["position"],
        "colors": {key: (colors[key] if is_hex_color(colors.get(key)) else default).lower()
                   for key, default in defaults["colors"].items()},
    }
