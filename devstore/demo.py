"""`make demo`: the whole app on embedded defaults, with a demo shop that has a history.

It starts the local Shopify emulator, serves the app against it (SQLite, jobs inline when
REDIS_URL is unset), installs a demo shop through the real OAuth flow over HTTP, sends signed
webhooks for a few customers and orders, gives a second shop a year of history with a holdout
and an A/B test (devstore/demo_history.py), and keeps serving until interrupted.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app import create_app
from app.config import refuse_development_secrets_in_public
from app.db import utcnow
from app.migrate import upgrade_head
from app.models import Member, Referral, Shop, WebhookEvent
from app.web.access_log import RedactingRequestHandler
from devstore import ShopifyEmulator
from devstore.demo_history import HISTORY_SHOP, history_instructions, seed_history_shop
from devstore.storefront import PAGE_PATH as STOREFRONT
from devstore.storefront import with_storefront

DEMO_SHOP = "loyalty-loop-demo.myshopify.com"


@dataclass
class Demo:
    """The running pieces, for the CLI and for the test that keeps the demo honest."""

    app: Any
    app_url: str
    emulator: ShopifyEmulator
    server: Any

    def stop(self) -> None:
        """Stop the app server and the emulator."""
        self.server.shutdown()
        self.server.server_close()
        self.emulator.stop()


def start_demo(*, database_url: str | None = None, port: int = 8000,
               emulator_port: int = 0, host: str = "127.0.0.1") -> Demo:
    """Serve the app and the emulator, each on its own port, pointed at each other."""
    config: dict[str, Any] = {"redis_url": os.environ.get("REDIS_URL") or None}
    if database_url:
        config["database_url"] = database_url
    app = create_app(config)
    runtime = app.extensions["runtime"]
    upgrade_head(runtime.settings.database_url)
    settings = runtime.settings
    refuse_development_secrets_in_public(settings, [host])
    emulator = ShopifyEmulator(settings.shopify_api_key, settings.shopify_api_secret,
                               app_url="http://placeholder")
    emulator.start(emulator_port)
    # The storefront preview shares the app's address: /dev/storefront and /apps/loyalty/*.
    server = make_server(host, port, with_storefront(app, emulator, DEMO_SHOP), threaded=True,
                         request_handler=RedactingRequestHandler)
    app_url = f"http://{host}:{server.port}"
    runtime.settings = replace(settings, shopify_app_url=app_url,
                               shopify_admin_base=emulator.base_url)
    emulator.app_url = app_url
    # Development-only previews mint tokens and sign requests through the emulator.
    app.extensions["devstore"] = emulator
    app.extensions["devstore_shop"] = DEMO_SHOP
    member = CUSTOMERS[0]
    app.extensions.setdefault("demo_links", []).extend([
        (f"{STOREFRONT}?customer_id={member['id']}",
         f"storefront preview as {member['first_name']} (the launcher, live)"),
        (STOREFRONT, "storefront preview, logged out"),
        (f"{STOREFRONT}/loyalty?customer_id={member['id']}",
         f"loyalty page block as {member['first_name']}"),
    ])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Demo(app, app_url, emulator, server)


def _wait_until_processed(demo: Demo, timeout: float = 20.0) -> None:
    db = demo.app.extensions["runtime"].db
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.sessions() as s:
            left = s.execute(select(func.count(WebhookEvent.id)).where(
                WebhookEvent.processed_at.is_(None))).scalar_one()
        if not left:
            return
        time.sleep(0.05)
    raise RuntimeError("the demo's webhooks were not processed in time")


def _order(emulator: ShopifyEmulator, order_id: int, customer: dict[str, Any], price: str,
           quantity: int = 1, **extra: Any) -> dict[str, Any]:
    when = (utcnow() - timedelta(days=extra.pop("days_ago", 0))).isoformat() + "Z"
    return emulator.sample_payload(
        "orders/paid", shop=DEMO_SHOP, order_id=order_id, customer_id=customer["id"],
        email=customer["email"],
        first_name=customer["first_name"], last_name=customer["last_name"], test=False,
        created_at=when, updated_at=when, browser_ip=customer["ip"],
        shipping_address={"first_name": customer["first_name"],
                          "last_name": customer["last_name"], "address1": customer["street"],
                          "city": customer["city"], "zip": "00000", "country_code": "GB"},
        line_items=[{"id": order_id * 10, "title": "Loose-leaf tea", "price": price,
                     "quantity": quantity, "product_id": 7}], **extra)


CUSTOMERS = [
    {"id": 9001, "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
     "ip": "198.51.100.11", "street": "12 St James's Square", "city": "London"},
    {"id": 9002, "email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper",
     "ip": "198.51.100.22", "street": "1 Navy Yard", "city": "Arlington"},
    {"id": 9003, "email": "alan@example.com", "first_name": "Alan", "last_name": "Turing",
     "ip": "198.51.100.33", "street": "78 High Street", "city": "Wilmslow"},
]


def seed_demo_shop(demo: Demo) -> None:
    """Install the demo shop through OAuth over HTTP, launch its program, then send it a
    history of webhooks."""
    emu = demo.emulator
    if DEMO_SHOP not in emu.shops:
        emu.add_shop(DEMO_SHOP, name="Loyalty Loop Demo Tea", currency="USD")
    with httpx.Client(follow_redirects=True, timeout=15) as browser:
        browser.get(f"{demo.app_url}/auth/install", params={"shop": DEMO_SHOP})
        # The merchant launches the program from the embedded admin's checklist; until then a
        # new install is a draft whose orders earn nothing (app/loyalty/launch.py). The demo
        # types 0 for the holdout: with the default 10 % a random customer could be held out,
        # and the demo shows the same members on every run.
        token = emu.mint_admin_session_token(DEMO_SHOP)
        browser.post(f"{demo.app_url}/admin/onboarding/launched", json={"holdout_share": 0},
                     headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    ada, grace, alan = CUSTOMERS
    for customer in CUSTOMERS:
        emu.send_webhook(DEMO_SHOP, "customers/create", emu.sample_payload(
            "customers/create", customer_id=customer["id"], email=customer["email"],
            first_name=customer["first_name"], last_name=customer["last_name"]))
    _wait_until_processed(demo)
    db = demo.app.extensions["runtime"].db
    with db.sessions() as s:
        ada_code = s.execute(select(Member.referral_code).where(
            Member.customer_id == ada["id"])).scalar_one()
    big = _order(emu, 50001, ada, "120.00", quantity=3, days_ago=40)
    orders = [
        ("orders/paid", big),
        ("orders/paid", _order(emu, 50002, ada, "45.00", days_ago=3)),
        ("orders/paid", _order(emu, 50003, grace, "60.00", days_ago=1,
                               note_attributes={"loyalty_ref": ada_code},
                               discount_codes=[ada_code])),
        ("orders/paid", _order(emu, 50004, alan, "25.00", quantity=2)),
    ]
    for topic, payload in orders:
        emu.send_webhook(DEMO_SHOP, topic, payload)
    _wait_until_processed(demo)
    refund = emu.sample_payload("refunds/create", order=orders[3][1], line_items=[(500040, 1)],
                                refund_id=77001)
    emu.send_webhook(DEMO_SHOP, "refunds/create", refund)
    _wait_until_processed(demo)


def describe(demo: Demo) -> str:
    """A short account of the demo shop's program, for the terminal."""
    db = demo.app.extensions["runtime"].db
    lines = []
    with db.sessions() as s:
        shop_id = s.execute(select(Shop.id).where(Shop.domain == DEMO_SHOP)).scalar_one()
        for m in s.execute(select(Member).where(Member.shop_id == shop_id)
                           .order_by(Member.id)).scalars():
            lines.append(f"  {m.first_name or m.email:<8} {m.tier or '-':<7} "
                         f"available {m.points_available:>5}  pending {m.points_pending:>5}  "
                         f"referral code {m.referral_code}")
        for r in s.execute(select(Referral).where(Referral.shop_id == shop_id)).scalars():
            lines.append(f"  referral of order {r.order_id}: {r.status}"
                         + (f" ({r.reason})" if r.reason else "")
                         + (f", pays on {r.reward_due_at:%Y-%m-%d}" if r.reward_due_at else ""))
    return "\n".join(lines)


def run_due_command(demo: Demo) -> str:
    """The shell command that sends the demo's due emails with links to this demo.

    It runs in another process, which knows the app's address only from SHOPIFY_APP_URL (the
    default is port 8000), so the command names the address this demo listens on.
    """
    return f"SHOPIFY_APP_URL={demo.app_url} .venv/bin/flask --app wsgi run-due"


def instructions(demo: Demo) -> str:
    """What the terminal shows once the demo runs: where everything is, what to try."""
    lines = [f"\nLoyalty Loop demo at {demo.app_url}  "
             f"(Shopify emulator at {demo.emulator.base_url})",
             f"Demo shop {DEMO_SHOP}, installed through OAuth, with members:", describe(demo)]
    for path, what in demo.app.extensions.get("demo_links", []):
        lines.append(f"  {what}: {demo.app_url}{path}")
    lines.append(f"  health: {demo.app_url}/healthz")
    lines.append(f"Send the due emails (written to instance/outbox/), from another terminal in "
                 f"this folder:\n  {run_due_command(demo)}")
    return "\n".join(lines)


def main() -> None:
    """Run the demo until Ctrl-C."""
    port = int(os.environ.get("PORT", "8000"))
    demo = start_demo(port=port)
    seed_demo_shop(demo)
    print(f"Giving {HISTORY_SHOP} a year of history (once; about a minute)...", flush=True)
    seed_history_shop(demo)
    print(instructions(demo))
    print(history_instructions(demo))
    print("Ctrl-C stops.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        demo.stop()


if __name__ == "__main__":
    main()
