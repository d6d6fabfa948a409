"""What the blocks render on the server, before any script: exact text for each visitor.

Shopify renders the blocks with the visitor's `customer` (nil when logged out) and its
app-owned metafields (`customer.metafields['$app']`), so the balance and tier are in the HTML
the shopper first sees.
"""

from __future__ import annotations

import copy
import json

import pytest

from app.loyalty.program import DEFAULT_SETTINGS
from devstore.storefront import render_block, storefront_page
from tests.extensions.widget.dom import Element, parse

# A logged-in customer with the app-owned metafields the blocks read.
MEMBER = {
    "id": 115310627314723954,
    "first_name": "Ada",
    "email": "ada@example.com",
    "metafields": {"$app": {
        "points": {"value": 1250},
        "pending": {"value": 300},
        "pending_until": {"value": "2026-12-22"},
        "tier": {"value": "Silver"},
    }},
}
NEW_MEMBER = {"id": 7, "first_name": "Grace", "metafields": {}}
WIDGET_MESSAGES = {"loading", "copied", "redeemed", "birthday_saved", "generic", "not_logged_in",
                   "insufficient_points", "reward_unavailable", "rate_limited"}


def launcher(**kwargs: object) -> Element:
    """The rendered app embed as a tree."""
    return parse(render_block("launcher", **kwargs)).find("div", data_ll_root=True)


def page_block(**kwargs: object) -> Element:
    """The rendered loyalty page block as a tree."""
    return parse(render_block("loyalty-page", **kwargs)).find("section", data_ll_root=True)


def panel_text(root: Element) -> str:
    """What the closed panel shows once opened, before live data arrives."""
    return root.find(data_ll_panel=True).text(even_if_hidden=True)


def test_a_visitor_sees_a_closed_launcher_without_points():
    root = launcher()
    button = root.find("button", data_ll_toggle=True)

    assert button.text() == "Rewards"
    assert button.attrs["aria-expanded"] == "false"
    assert button.attrs["aria-controls"] == "ll-test-panel"
    assert root.find(id="ll-test-panel").hidden
    assert "data-ll-member" not in root.attrs


def test_a_visitor_is_invited_to_join_or_sign_in():
    root = launcher()

    assert panel_text(root) == (
        "Rewards Join our rewards program: earn points on every order and turn them into "
        "discounts. Join now Already a member? Sign in Ways to earn Ways to redeem VIP tiers")
    assert root.find("a", class_="ll-btn").attrs["href"] == "/account/register"
    assert root.find("a", href="/account/login").text() == "Sign in"


def test_a_member_sees_balance_pending_points_and_tier_from_metafields():
    root = launcher(customer=MEMBER)

    assert root.find("button", data_ll_toggle=True).text() == "Rewards 1250 pts"
    assert root.find("p", class_="ll-greeting").text() == "Welcome back, Ada"
    assert root.find("p", class_="ll-balance").text() == "1250 points available"
    assert root.find(data_ll_if="points.pending").text() == (
        "300 points pending (available from 12/22/2026)")
    assert root.find("p", class_="ll-tier").text() == "Tier: Silver"
    assert "data-ll-member" in root.attrs


def test_a_member_without_metafields_yet_sees_zero_points_and_no_tier():
    root = launcher(customer=NEW_MEMBER)

    assert root.find("button", data_ll_toggle=True).text() == "Rewards 0 pts"
    assert root.find("p", class_="ll-balance").text() == "0 points available"
    assert root.find(data_ll_if="points.pending").hidden
    assert root.find("p", class_="ll-tier").hidden


def test_pending_points_without_an_unlock_date_show_no_date():
    member = copy.deepcopy(MEMBER)
    del member["metafields"]["$app"]["pending_until"]

    assert launcher(customer=member).find(data_ll_if="points.pending").text() == (
        "300 points pending")


def test_french_shoppers_get_french_text_and_day_first_dates():
    root = launcher(customer=MEMBER, locale="fr")

    assert root.find("button", data_ll_toggle=True).text() == "Récompenses 1250 pts"
    assert root.find("p", class_="ll-greeting").text() == "Bon retour, Ada"
    assert root.find(data_ll_if="points.pending").text() == (
        "300 points en attente (disponibles à partir du 22/12/2026)")
    assert root.find("p", class_="ll-tier").text() == "Niveau : Silver"
    assert root.attrs["data-ll-locale"] == "fr"


def widget_app(**document: object) -> dict[str, object]:
    """The `app` object once the app wrote the merchant's Widget settings (the app-data
    metafield widget, app/shopify/widget_settings.py)."""
    widget = {"launcher_label": None, "panel_title": None, "guest_intro": None,
              "position": "right", "colors": {"accent": "#1f6f50", "accent_text": "#ffffff",
                                              "panel_background": "#ffffff",
                                              "panel_text": "#1f2933"}}
    widget.update(document)
    return {"metafields": {"$app": {"widget": {"value": widget, "type": "json"}}}}


def test_the_admins_widget_settings_set_label_title_side_and_colours():
    root = launcher(customer=MEMBER, app=widget_app(
        launcher_label="Club points", panel_title="The Club", position="left",
        colors={"accent": "#aa0000", "accent_text": "#fefefe", "panel_background": "#101010",
                "panel_text": "#e0e0e0"}),
        settings={"show_balance": False, "edge_distance": 32})

    assert root.find("button", data_ll_toggle=True).text() == "Club points"
    assert root.find("h2").text() == "The Club"
    assert "ll--left" in root.attrs["class"].split()
    assert root.attrs["style"] == ("--ll-accent: #aa0000; --ll-on-accent: #fefefe; "
                                   "--ll-bg: #101010; --ll-fg: #e0e0e0; --ll-offset: 32px;")


def test_the_page_block_shows_the_admins_title_invitation_and_accent_colours():
    root = page_block(app=widget_app(
        panel_title="The Club", guest_intro="Join the club.",
        colors={"accent": "#aa0000", "accent_text": "#fefefe", "panel_background": "#101010",
                "panel_text": "#e0e0e0"}))

    assert root.find("h2").text() == "The Club"
    assert root.find("p", class_="ll-intro").text() == "Join the club."
    assert root.attrs["style"].startswith("--ll-accent: #aa0000; --ll-on-accent: #fefefe;")


def test_before_the_app_writes_its_widget_settings_the_blocks_show_the_admins_defaults():
    defaults = DEFAULT_SETTINGS["widget"]
    colors = defaults["colors"]

    assert launcher().attrs["style"] == (
        f"--ll-accent: {colors['accent']}; --ll-on-accent: {colors['accent_text']}; "
        f"--ll-bg: {colors['panel_background']}; --ll-fg: {colors['panel_text']}; "
        "--ll-offset: 20px;")
    assert "ll--" + defaults["position"] in launcher().attrs["class"].split()
    assert launcher().find("button", data_ll_toggle=True).text() == defaults["launcher_label"]
    assert page_block().find("h2").text() == defaults["panel_title"]
    assert page_block().find("p", class_="ll-intro").text() == defaults["guest_intro"]


def test_a_text_the_merchant_left_at_its_default_is_shown_in_the_shoppers_language():
    root = launcher(locale="fr", app=widget_app(panel_title="Le Club"))

    assert root.find("button", data_ll_toggle=True).text() == "Récompenses"
    assert root.find("h2").text(even_if_hidden=True) == "Le Club"


@pytest.mark.parametrize("colour", [
    "red; background: url(https://evil.example/x)", '#1f6f50" onmouseover="alert(1)',
    "#12345", "#1234567", "#12345g", "", None, 123, ["#aa0000"], "#aa0000;x"])
def test_a_colour_that_is_not_hex_never_reaches_the_page(colour):
    root = launcher(app=widget_app(colors={"accent": colour, "accent_text": "#fefefe",
                                           "panel_background": "#101010",
                                           "panel_text": "#e0e0e0"}))
    page = page_block(app=widget_app(colors={"accent": colour}))

    assert root.attrs["style"].startswith("--ll-accent: #1f6f50; --ll-on-accent: #fefefe;")
    assert page.attrs["style"].startswith("--ll-accent: #1f6f50; --ll-on-accent: #ffffff;")


def test_an_unknown_launcher_position_is_the_default_side():
    root = launcher(app=widget_app(position='left" onclick="alert(1)'))

    assert root.attrs["class"] == "ll ll--embed ll--right"


def test_shopper_and_merchant_text_is_escaped():
    member = copy.deepcopy(MEMBER)
    member["first_name"] = '<img src=x onerror="alert(1)">'
    markup = render_block("launcher", customer=member,
                          app=widget_app(launcher_label="<script>alert(2)</script>"))

    assert "<img" not in markup and "<script>alert" not in markup
    assert parse(markup).find("button", data_ll_toggle=True).text().startswith(
        "<script>alert(2)</script>")
    assert parse(markup).find("p", class_="ll-greeting").text() == (
        'Welcome back, <img src=x onerror="alert(1)">')


def test_the_launcher_loads_no_script_until_opened_and_the_page_block_defers_its_own():
    embed = parse(render_block("launcher", customer=MEMBER))
    block = parse(render_block("loyalty-page", customer=MEMBER))

    assert [s.attrs for s in embed.find_all("script")] == [
        {"type": "application/json", "data-ll-msgs": None}, {}]
    assert embed.find(data_ll_root=True).attrs["data-ll-js"] == "/assets/loyalty-widget.js"
    assert [s.attrs for s in block.find_all("script") if "src" in s.attrs] == [
        {"src": "/assets/loyalty-reviews.js", "defer": None},
        {"src": "/assets/loyalty-widget.js", "defer": None}]
    assert "loyalty-reviews" not in render_block("launcher", customer=MEMBER)


def test_the_widget_gets_every_message_it_announces_in_the_shoppers_language():
    for locale, copied in (("en", "Copied"), ("fr", "Copié")):
        script = parse(render_block("launcher", locale=locale)).find("script", data_ll_msgs=True)
        messages = json.loads(script.children[0])

        assert set(messages) == WIDGET_MESSAGES
        assert messages["copied"] == copied


def test_the_page_block_shows_a_visitor_the_program_and_the_way_in():
    root = page_block()

    assert root.text() == (
        "Rewards Join our rewards program: earn points on every order and turn them into "
        "discounts. Join now Already a member? Sign in Ways to earn Ways to redeem VIP tiers")
    assert root.attrs["aria-busy"] == "true"
    assert root.attrs["style"].endswith("--ll-min: 720px;")


def test_the_page_block_shows_a_member_status_beside_the_program():
    root = page_block(customer=MEMBER, app=widget_app(panel_title="Ada's club"))

    assert root.find("h2").text() == "Ada's club"
    assert root.find("p", class_="ll-balance").text() == "1250 points available"
    assert root.find("p", class_="ll-tier").text() == "Tier: Silver"
    assert len(root.find_all(class_="ll-program")) == 1
    assert root.find_all("a", href="/account/register") == []


def test_members_can_hide_the_program_explainer_on_the_page_block():
    root = page_block(customer=MEMBER, settings={"show_program": False})

    assert root.find_all(class_="ll-program") == []


def test_ids_are_unique_when_embed_and_page_block_share_a_page():
    page = parse(storefront_page(customer=MEMBER))
    ids = [el.attrs["id"] for el in page.iter() if "id" in el.attrs]

    assert len(ids) == len(set(ids)) > 10
    assert page.find_all("link", rel="stylesheet") == [
        page.find("link", href="/assets/loyalty-widget.css")]


def reviews_box(**kwargs: object) -> Element:
    """The page block's reviews section as rendered before its script runs."""
    return page_block(**kwargs).find("div", data_ll_reviews=True)


def test_the_reviews_section_keeps_its_height_and_stays_invisible_until_reviews_arrive():
    box = reviews_box()

    assert box.attrs["data-ll-reviews"] == "3"
    # 3 reviews at 7em and a line for the heading: the page never moves when they fill in.
    assert box.attrs["style"] == "height: 24em; overflow: hidden; visibility: hidden;"
    assert box.hidden
    assert box.text(even_if_hidden=True) == "What members say"
    assert box.find("ul").find_all("li") == [box.find("template").find("li")]


def test_a_review_template_has_a_place_for_stars_product_body_and_author():
    item = reviews_box(locale="fr").find("template").find("li")

    assert item.find("span", role="img").attrs["data-ll-rating"] == "{n} étoiles sur 5"
    assert [el.attrs["data-ll-review"] for el in item.find_all(data_ll_review=True)] == [
        "product", "body", "author"]


def test_french_shoppers_get_the_reviews_heading_in_french():
    assert reviews_box(locale="fr").text(even_if_hidden=True) == "L’avis de nos membres"


def test_the_merchant_chooses_how_many_reviews_and_the_reserved_height_follows():
    box = reviews_box(settings={"reviews_count": 5})

    assert box.attrs["data-ll-reviews"] == "5"
    assert box.attrs["style"].startswith("height: 38em;")


def test_without_reviews_the_page_block_loads_no_reviews_script():
    block = parse(render_block("loyalty-page", settings={"show_reviews": False}))

    assert block.find_all(data_ll_reviews=True) == []
    assert [s.attrs["src"] for s in block.find_all("script") if "src" in s.attrs] == [
        "/assets/loyalty-widget.js"]


# The app-data metafield the app writes once a request came through a moved app proxy.
MOVED_PROXY = {"metafields": {"$app": {"proxy_path": {"value": "/a/rewards",
                                                      "type": "single_line_text_field"}}}}


def test_both_blocks_call_the_app_proxy_at_shopify_app_toml_s_path_until_the_app_writes_one():
    assert launcher().attrs["data-ll-proxy"] == "/apps/loyalty"
    assert page_block().attrs["data-ll-proxy"] == "/apps/loyalty"


def test_both_blocks_call_the_app_proxy_where_the_merchant_moved_it():
    assert launcher(app=MOVED_PROXY).attrs["data-ll-proxy"] == "/a/rewards"
    assert page_block(customer=MEMBER, app=MOVED_PROXY).attrs["data-ll-proxy"] == "/a/rewards"
