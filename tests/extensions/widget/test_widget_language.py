"""The storefront widget in French, in Chromium, against the real demo: the theme's own texts
from locales/fr.json and the program text the app sends for `?locale=fr`, in one panel.

Writes test-output/widget-fr.png (the README's screenshot, docs/widget-fr.png)."""

from __future__ import annotations

import pytest

from tests.extensions.widget.test_widget_browser import (
    GUEST_PAGE,
    MEMBER_PAGE,
    PROXY_PREFIX,
    SCREENSHOTS,
    ada,
    ledger_day,
    placed_day,
)
from tests.support.accessibility import serious_violations

pytestmark = pytest.mark.browser

NBSP, NNBSP = "\u00a0", "\u202f"


def french_date(day) -> str:
    """A date as Intl.DateTimeFormat('fr') writes it: dd/mm/yyyy."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def test_a_french_shopper_reads_the_panel_in_french_with_french_money(visit, demo):
    member = ada(demo)
    v = visit(f"{MEMBER_PAGE}&locale=fr")
    # Rendered from the synced metafield before any request, already in French.
    assert v.page.locator(".ll-tier strong").first.text_content() == "Argent"

    v.open_launcher()

    assert [r for r in v.requests if PROXY_PREFIX in r] == ["GET /apps/loyalty/member?locale=fr"]
    assert v.page.get_attribute("html", "lang") == "fr"
    assert v.text(".ll-tier").endswith("Argent")
    # The server's money for the tier step, formatted by the browser for fr: 395,00 $US.
    assert "395,00" in v.text("[data-ll-if='tier.next'] p")
    assert "Or" in v.text("[data-ll-if='tier.next'] p")
    rewards = v.page.locator(
        "[data-ll-each='affordable'] [data-ll-item] span[data-ll-text='{title}']")
    assert rewards.all_inner_texts() == [
        "Livraison gratuite", f"5{NBSP}$US de réduction", f"10{NBSP}$US de réduction"]
    # text() collapses whitespace, the no-break space included.
    assert v.text(".ll-next") == "Plus que 450 points pour 25 $US de réduction"
    activity = [" ".join(t.split()) for t in v.page.locator(
        "[data-ll-each='activity'] [data-ll-item]").all_inner_texts()]
    assert activity[0].startswith(
        f"Bonus de bienvenue {french_date(ledger_day(demo, 'bonus_signup'))}")
    assert activity[1].startswith(f"Commande #51002 {french_date(placed_day(demo, 50002))}")
    assert member.referral_code in v.page.input_value("[data-ll-value='{referral.url}']")
    assert serious_violations(v.page, ".ll") == []
    SCREENSHOTS.mkdir(exist_ok=True)
    v.page.screenshot(path=str(SCREENSHOTS / "widget-fr.png"))


def test_a_french_guest_reads_the_program_in_french(visit):
    v = visit(f"{GUEST_PAGE}?locale=fr")

    v.open_launcher()

    assert [r for r in v.requests if PROXY_PREFIX in r] == [
        "GET /apps/loyalty/program?locale=fr"]
    assert v.text(".ll-earn") == "5 points par tranche de 1 $US"
    ways = v.page.locator("[data-ll-each='program.ways_to_earn'] [data-ll-item]")
    assert " ".join(ways.first.inner_text().split()) == "Chaque tranche de 1 $US dépensée +5 points"
    tiers = v.page.locator("[data-ll-each='program.tiers'] strong[data-ll-text='{name}']")
    assert tiers.all_inner_texts() == ["Bronze", "Argent", "Or"]
