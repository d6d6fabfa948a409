"""The order history's bulk query (a document sent inside bulkOperationRunQuery's `query`,
not as a request of its own) held to Shopify's 2026-07 Admin schema like the registered
documents, and the emulator's JSONL lines for it held to the types Shopify's schema gives
them, with `__parentId` on each nested connection's objects."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import requests

from app.config import load_settings
from app.shopify.bulk import bulk_operation, run_bulk_query
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient, CostBucket
from app.shopify.order_history import order_history_query
from devstore import ShopifyEmulator
from tests.conftest import TEST_API_KEY, TEST_API_SECRET
from tests.contracts.admin_schema import (
    answer_errors,
    app_toml_scopes,
    deprecations,
    document_errors,
    requirements,
)
from tests.support.emulator_fixture import DEFAULT_APP_URL

SHOP = "bulk-contract.myshopify.com"
DOCUMENT = order_history_query(date(2025, 12, 5))


def test_the_order_history_query_validates_against_shopifys_schema(admin):
    assert document_errors(admin.schema, DOCUMENT) == []
    assert deprecations(admin.schema, DOCUMENT) == []
    assert [f"{r.where}: {r.text}" for r in requirements(admin, DOCUMENT)
            if r.readable and not r.met_by(app_toml_scopes())] == []
    assert "read_all_orders" in app_toml_scopes()


def test_the_window_is_written_as_a_date_and_nothing_else():
    assert 'orders(query: "created_at:>=2025-12-05", sortKey: CREATED_AT)' in DOCUMENT


def _lines() -> list[dict[str, Any]]:
    """The emulator's JSONL for the document, through the app's own calls."""
    with ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET, app_url=DEFAULT_APP_URL) as emulator:
        emulator.add_shop(SHOP)
        emulator.add_order_history(SHOP, 60, days=300, customers=10)
        token = emulator.issue_access_token(SHOP, scope=",".join(app_toml_scopes()))
        settings = load_settings({}, {"shopify_api_key": TEST_API_KEY,
                                      "shopify_api_secret": TEST_API_SECRET,
                                      "shopify_admin_base": emulator.base_url})
        with shop_http_client(settings) as http:
            client = AdminClient(SHOP, token.access_token, settings=settings, http=http,
                                 sleep=lambda _s: None, bucket=CostBucket())
            started = run_bulk_query(client, DOCUMENT)
            emulator.bulk.wait()
            done = bulk_operation(client, started.id)
        assert done is not None and done.status == "COMPLETED" and done.url
        text = requests.get(done.url, timeout=10).text
        assert done.object_count == len(text.splitlines()) > done.root_object_count == 60
    return [json.loads(line) for line in text.splitlines()]


def test_the_emulators_lines_have_shopifys_types_and_name_their_parent(admin):
    lines = _lines()
    orders: list[dict[str, Any]] = []
    for line in lines:
        parent = line.pop("__parentId", None)
        if parent is None:
            orders.append({**line, "lineItems": {"edges": []}})
            continue
        # Grouped: a child comes right after its parent (or its siblings).
        assert parent == orders[-1]["id"]
        orders[-1]["lineItems"]["edges"].append({"node": line})
    assert all(o["lineItems"]["edges"] for o in orders)
    data = {"orders": {"edges": [{"node": o} for o in orders]}}
    assert answer_errors(admin.schema, DOCUMENT, {}, data) == []
