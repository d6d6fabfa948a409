"""A local Shopify emulator for development and tests (never enabled in production config).

    emu = ShopifyEmulator(client_id, client_secret, app_url)
    base = emu.start()                      # http://127.0.0.1:<port>
    shop = emu.add_shop("demo.myshopify.com", name="Demo", currency="USD")
    ...                                     # the app talks to {base}/{shop}/admin/...
    emu.stop()

It speaks only Shopify's protocols (OAuth, token exchange and refresh, Admin GraphQL with cost
throttling, app proxy, session tokens, signed webhooks) and imports nothing of the app.

It lives outside the production package: only `make demo` (devstore/demo.py), the tests and
the benchmarks import it. The development routes (app/web/dev_admin.py, app/web/previews.py)
reach a running emulator through `app.extensions["devstore"]`, set by whoever started it, and
never import this package.
"""

from devstore.emulator import DEFAULT_SCOPES, DeliveryResult, ShopifyEmulator
from devstore.server import BackgroundServer
from devstore.state import (
    ApiCall,
    Customer,
    Discount,
    IssuedToken,
    Metafield,
    ShopState,
    StoreCreditAccount,
)

__all__ = [
    "DEFAULT_SCOPES", "ApiCall", "BackgroundServer", "Customer", "DeliveryResult", "Discount",
    "IssuedToken", "Metafield", "ShopState", "ShopifyEmulator", "StoreCreditAccount",
]
