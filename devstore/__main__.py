"""`python -m devstore`: run the emulator on its own, for the demo or trying things by hand.

Credentials come from SHOPIFY_API_KEY / SHOPIFY_API_SECRET, the app's address from
SHOPIFY_APP_URL; point the app at it with SHOPIFY_ADMIN_BASE=<the printed base URL>.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading

from devstore.emulator import ShopifyEmulator


def main(argv: list[str] | None = None) -> None:
    """Start the emulator with some shops and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m devstore", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "0")),
                        help="port to listen on (default: any free port)")
    parser.add_argument("--shop", action="append", dest="shops",
                        help="shop domain to create (repeatable; default demo-shop.myshopify.com)")
    parser.add_argument("--app-url", default=os.environ.get("SHOPIFY_APP_URL",
                                                            "http://127.0.0.1:8000"))
    args = parser.parse_args(argv)
    client_id = os.environ.get("SHOPIFY_API_KEY")
    client_secret = os.environ.get("SHOPIFY_API_SECRET")
    if not client_id or not client_secret:
        parser.error("set SHOPIFY_API_KEY and SHOPIFY_API_SECRET to the app's credentials")
    emu = ShopifyEmulator(client_id, client_secret, args.app_url)
    base = emu.start(port=args.port)
    for shop in args.shops or ["demo-shop.myshopify.com"]:
        emu.add_shop(shop)
        print(f"{shop}: admin {base}/{shop}/admin/apps/{client_id}  "
              f"storefront proxy {base}/{shop}{emu.proxy_path_prefix}/  "
              f"state {base}/_emulator/state/{shop}")
    print(f"Shopify emulator on {base} for app {args.app_url}  (Ctrl-C stops)", flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    try:
        stopped.wait()
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
