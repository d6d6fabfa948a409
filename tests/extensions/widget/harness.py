"""A storefront-like page around the theme app extension, for browsers and the demo preview.

`storefront_page()` renders the app embed (launcher) and the loyalty page block for one visitor
into a plain theme layout, the way Shopify assembles them: block stylesheets from the schemas go
in <head> once, app blocks sit inside a section in <main>, app embeds with `"target": "body"`
close the <body>. Assets are referenced under `asset_base`; whoever serves the page serves
`ASSETS_DIR` there and answers `/apps/loyalty/*` (the app proxy).

`MEMBER` is a logged-in customer with the app-owned metafields the blocks read, and
`MEMBER_ANSWER` / `PROGRAM_ANSWER` are contract-shaped app-proxy answers (design.md §4) for the
same shopper, for a stand-in backend.

    python -m tests.extensions.widget.harness member > /tmp/member.html
"""

from __future__ import annotations

import copy
import html
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from tests.extensions.widget.storefront import (
    DEFAULT_LOCALE,
    EXTENSION_DIR,
    block_schema,
    block_source,
    render_block,
)

ASSETS_DIR = EXTENSION_DIR / "assets"
EMBED_BLOCKS = ("launcher",)
ALL_BLOCKS = ("launcher", "loyalty-page")

MEMBER: dict[str, Any] = {
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

PROGRAM_ANSWER: dict[str, Any] = {"program": {
    "name": "Loyalty Loop demo rewards",
    "currency": "USD",
    "earn": {"points_per_unit": 5, "label": "5 points per $1"},
    "ways_to_earn": [
        {"title": "Every $1 you spend", "points": 5},
        {"title": "Create an account", "points": 250},
        {"title": "Your birthday", "points": 200},
        {"title": "Review a product", "points": 50},
    ],
    "rewards": [
        {"id": 1, "title": "$5 off", "cost": 500},
        {"id": 4, "title": "Free shipping", "cost": 800},
        {"id": 2, "title": "$10 off", "cost": 1000},
        {"id": 3, "title": "$25 off", "cost": 2500},
    ],
    "tiers": [
        {"name": "Bronze", "threshold": "0.00", "multiplier": 1,
         "benefits": "Points on every order"},
        {"name": "Silver", "threshold": "300.00", "multiplier": 1.25,
         "benefits": "Early access to sales"},
        {"name": "Gold", "threshold": "800.00", "multiplier": 1.5,
         "benefits": "Free shipping on every order"},
    ],
    "referral": {"friend_gets": "10% off", "you_get": 500},
}}

MEMBER_ANSWER: dict[str, Any] = {
    "member": {"first_name": "Ada", "birthday": None},
    "points": {"available": 1250, "pending": 300, "lifetime": 2100, "pending_until": "2026-12-22"},
    "tier": {"name": "Silver", "next": "Gold", "progress": 0.42, "spend_to_next": "290.00"},
    "rewards": [
        {"id": 1, "title": "$5 off", "cost": 500, "affordable": True},
        {"id": 4, "title": "Free shipping", "cost": 800, "affordable": True},
        {"id": 2, "title": "$10 off", "cost": 1000, "affordable": True},
        {"id": 3, "title": "$25 off", "cost": 2500, "affordable": False},
    ],
    "referral": {
        "code": "ADA-7K3Q",
        "url": "https://shop.example/?ref=ADA-7K3Q",
        "share_text": "Get 10% off your first order at Loyalty Loop demo with my link:",
    },
    "activity": [
        {"at": "2026-11-20T10:00:00Z", "points": 300, "kind": "earn_order",
         "label": "Order #1042", "status": "pending"},
        {"at": "2026-10-02T09:30:00Z", "points": -500, "kind": "redeem",
         "label": "$5 off", "status": "available"},
        {"at": "2026-09-14T08:00:00Z", "points": 250, "kind": "bonus_signup",
         "label": "Welcome bonus", "status": "available"},
    ],
}

THEME_CSS = """
body{margin:0;font:16px/1.6 Georgia,serif;color:#222;background:#faf8f5}
header,footer{padding:18px 32px;background:#222;color:#fff}
main{max-width:960px;margin:0 auto;padding:24px 32px}
.hero{height:220px;margin:24px 0;background:linear-gradient(120deg,#d9cbb8,#efe7dc)}
"""


def member_answer() -> dict[str, Any]:
    """A fresh copy of the member answer, for a stand-in that changes it."""
    return copy.deepcopy(MEMBER_ANSWER)


def stylesheets(blocks: Iterable[str]) -> list[str]:
    """Each distinct `stylesheet` the blocks' schemas name, in order."""
    names: list[str] = []
    for name in blocks:
        sheet = block_schema(block_source(name)).get("stylesheet")
        if sheet and sheet not in names:
            names.append(sheet)
    return names


def storefront_page(*, customer: Mapping[str, Any] | None = None,
                    blocks: Iterable[str] = ALL_BLOCKS, locale: str = DEFAULT_LOCALE,
                    settings: Mapping[str, Mapping[str, Any]] | None = None,
                    asset_base: str = "/assets/") -> str:
    """A whole page with the chosen blocks rendered for this visitor."""
    blocks = tuple(blocks)
    settings = settings or {}

    def rendered(name: str) -> str:
        return render_block(name, customer=customer, locale=locale, block_id=f"{name}-1",
                            settings=settings.get(name), asset_base=asset_base)

    head_links = "\n".join(
        f'<link rel="stylesheet" href="{html.escape(asset_base + sheet)}">'
        for sheet in stylesheets(blocks))
    app_blocks = "\n".join(
        f'<div class="shopify-section"><div class="shopify-app-block">{rendered(name)}</div></div>'
        for name in blocks if name not in EMBED_BLOCKS)
    embeds = "\n".join(rendered(name) for name in blocks if name in EMBED_BLOCKS)
    greeting = f"Hello, {html.escape(customer['first_name'])}" if customer else "Guest"
    return f"""<!doctype html>
<html lang="{html.escape(locale)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Loyalty Loop storefront harness</title>
<style>{THEME_CSS}</style>
{head_links}
</head>
<body>
<header>Loyalty Loop demo store · {greeting}</header>
<main>
<h1>Spring collection</h1>
<div class="hero"></div>
<p>Linen shirts, wool socks and everything in between. Members earn points on every order.</p>
{app_blocks}
<p>Free returns within 30 days.</p>
</main>
<footer>© Loyalty Loop demo store</footer>
{embeds}
</body>
</html>
"""


def main(argv: list[str]) -> int:
    """Print a page for `member` or `guest` (optionally a locale, e.g. `member fr`)."""
    who = argv[0] if argv else "member"
    locale = argv[1] if len(argv) > 1 else DEFAULT_LOCALE
    sys.stdout.write(storefront_page(customer=MEMBER if who == "member" else None, locale=locale))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
