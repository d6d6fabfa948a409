"""What the storefront widget is told to show: the admin's Widget settings, made safe to render."""

from __future__ import annotations

import copy
import json

import pytest

from app.loyalty.program import DEFAULT_SETTINGS, ProgramSettings, validate
from app.loyalty.widget_appearance import storefront_widget
from app.shopify.widget_settings import widget_metafield


def program(**widget: object) -> ProgramSettings:
    """Settings with these widget values over the defaults."""
    data = copy.deepcopy(DEFAULT_SETTINGS)
    data["widget"].update(widget)
    return ProgramSettings(version=3, data=data)


def test_the_defaults_send_no_text_so_each_store_language_shows_its_own():
    assert storefront_widget(program()) == {
        "launcher_label": None, "panel_title": None, "guest_intro": None, "position": "right",
        "colors": {"accent": "#1f6f50", "accent_text": "#ffffff",
                   "panel_background": "#ffffff", "panel_text": "#1f2933"}}


def test_the_merchants_own_texts_position_and_colours_are_sent_as_written():
    widget = storefront_widget(program(
        launcher_label="Club points", panel_title="The Club", guest_intro="Join us.",
        position="left", colors={"accent": "#AA0044", "accent_text": "#fefefe",
                                 "panel_background": "#101010", "panel_text": "#e0e0e0"}))

    assert widget == {
        "launcher_label": "Club points", "panel_title": "The Club", "guest_intro": "Join us.",
        "position": "left", "colors": {"accent": "#aa0044", "accent_text": "#fefefe",
                                       "panel_background": "#101010", "panel_text": "#e0e0e0"}}


@pytest.mark.parametrize("colour", ["red", "#aa0044;x", "#aa004", "#aa00449", " #aa0044",
                                    "#aa0044\n", "url(x)", None, 7])
def test_a_colour_that_is_not_hex_is_refused_when_saved_and_never_sent(colour):
    data = copy.deepcopy(DEFAULT_SETTINGS)
    data["widget"]["colors"]["accent"] = colour

    assert validate(data) == {"widget.colors.accent": "must be a color like #1f6f50"}
    assert storefront_widget(ProgramSettings(1, data))["colors"]["accent"] == "#1f6f50"


def test_an_unknown_position_is_never_sent():
    assert storefront_widget(program(position="top"))["position"] == "right"


def test_the_metafield_is_json_on_the_app_installation_in_the_apps_namespace():
    field = widget_metafield("gid://shopify/AppInstallation/9", {"panel_title": "Café"})

    assert field.as_input() == {
        "ownerId": "gid://shopify/AppInstallation/9", "namespace": "$app", "key": "widget",
        "type": "json", "value": '{"panel_title":"Café"}'}
    assert json.loads(field.value) == {"panel_title": "Café"}
