"""Issue 13, item 5, on the production server: ids that cannot be ours and text with a NUL
are a clear 4xx in the error shape from gunicorn serving wsgi:app on PostgreSQL and Redis, and
nothing is written. (tests/integration/*/test_bad_input.py run every case on SQLite and
PostgreSQL through the test client.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest

from app.db import Database
from tests.faults.conftest import SHOP
from tests.faults.processes import Gunicorn, app_environment
from tests.integration.admin.conftest import HOST
from tests.support.rows import row_counts
from tests.support.shopify_fakes import admin_token, extension_token, signed_proxy_query

BEYOND_BIGINT = "99999999999999999999"


@pytest.fixture
def production_url(shop_installed: Database, redis_url: str) -> Iterator[str]:
    """gunicorn serving wsgi:app on the test PostgreSQL and Redis, as production runs it."""
    server = Gunicorn(app_environment(shop_installed.url, redis_url))
    try:
        yield server.start()
    finally:
        server.stop()


def _proxy(path: str, **params: str) -> str:
    """A storefront path with the query Shopify's app proxy signs."""
    query = {"shop": SHOP, "logged_in_customer_id": "", "path_prefix": "/apps/loyalty",
             "timestamp": str(int(time.time())), **params}
    return f"{path}?{signed_proxy_query(query)}"


def _admin(path: str, **params: str) -> str:
    """An admin page as Shopify's admin loads it."""
    query = {"embedded": "1", "host": HOST, "shop": SHOP, "id_token": admin_token(SHOP),
             **params}
    return f"{path}?{urlencode(query)}"


def test_the_listed_bad_ids_and_texts_are_clear_4xx_from_the_production_server(
        production_url: str, shop_installed: Database) -> None:
    customer = {"Authorization": f"Bearer {extension_token(SHOP, customer_id=7001)}"}
    huge_sub = {"Authorization": f"Bearer {extension_token(SHOP, customer_id=int(BEYOND_BIGINT))}"}
    admin_fetch = {"Authorization": f"Bearer {admin_token(SHOP)}"}
    cases = {
        "admin search with NUL": ("GET", _admin("/admin/customers", q="\x00"), {}, None,
                                  400, "invalid_query"),
        "member id beyond bigint": ("GET", _admin(f"/admin/customers/{BEYOND_BIGINT}000"), {},
                                    None, 404, "not_found"),
        "ledger cursor ²": ("GET", _admin("/admin/customers/1", before="\u00b2"), {}, None,
                            400, "invalid_cursor"),
        "ledger cursor beyond bigint": ("GET", _admin("/admin/customers/1", before=BEYOND_BIGINT),
                                        {}, None, 400, "invalid_cursor"),
        "reviews for product ²": ("GET", _proxy("/proxy/reviews", product_id="\u00b2"), {}, None,
                                  400, "invalid_product_id"),
        "reviews for a 20-digit product": ("GET", _proxy("/proxy/reviews",
                                                         product_id=BEYOND_BIGINT), {}, None,
                                           400, "invalid_product_id"),
        "signed customer beyond bigint": ("GET", _proxy("/proxy/member",
                                                        logged_in_customer_id=BEYOND_BIGINT),
                                          {}, None, 401, "invalid_customer_id"),
        "order id of 20 digits": ("GET", f"/api/checkout/order/{BEYOND_BIGINT}", customer, None,
                                  404, "order_not_found"),
        "NPS for a 20-digit order": ("POST", "/api/checkout/nps", customer,
                                     {"order_id": int(BEYOND_BIGINT), "score": 9}, 400,
                                     "invalid_order_id"),
        "token sub beyond bigint": ("GET", "/api/checkout/order/1001", huge_sub, None, 401,
                                    "invalid_sub"),
        "settings text with NUL": ("POST", "/admin/settings/widget", admin_fetch,
                                   {"widget": {"launcher_label": "Rewards\u0000"}}, 422,
                                   "invalid_settings"),
    }
    before = row_counts(shop_installed)
    with httpx.Client(base_url=production_url, timeout=15) as client:
        for name, (method, path, headers, body, status, code) in cases.items():
            response = client.request(method, path, headers=headers, json=body)
            assert (name, response.status_code) == (name, status), response.text
            assert (name, response.json()["error"]) == (name, code)
    assert row_counts(shop_installed) == before
