"""The emulator's bulk query operations over HTTP: Shopify's states, one query at a time,
invalid queries refused, a failure's partial data, the 60-day limit without read_all_orders,
and no file left behind once it stops."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import httpx
import requests

from devstore import ShopifyEmulator
from tests.conftest import TEST_API_KEY, TEST_API_SECRET
from tests.support.emulator_fixture import DEFAULT_APP_URL

SHOP = "bulk-states.myshopify.com"
RUN = """mutation Run($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false) {
    bulkOperation { id status } userErrors { field code message }
  }
}"""
READ = """query Read($id: ID!) {
  bulkOperation(id: $id) { id status errorCode objectCount rootObjectCount url partialDataUrl }
}"""
ORDERS = "{ orders { edges { node { id createdAt lineItems { edges { node { id } } } } } } }"


def _call(emulator: ShopifyEmulator, token: str, document: str, **variables: object) -> dict:
    answer = httpx.post(emulator.graphql_url(SHOP),
                        json={"query": document, "variables": variables},
                        headers={"X-Shopify-Access-Token": token}, timeout=30)
    return answer.json()["data"]


def _emulator(scope: str) -> tuple[ShopifyEmulator, str]:
    emulator = ShopifyEmulator(TEST_API_KEY, TEST_API_SECRET, app_url=DEFAULT_APP_URL)
    emulator.start()
    emulator.add_shop(SHOP)
    emulator.add_order_history(SHOP, 50, days=200, customers=5)
    return emulator, emulator.issue_access_token(SHOP, scope=scope).access_token


def test_an_operation_goes_created_to_completed_and_its_file_names_each_parent():
    emulator, token = _emulator("read_orders,read_all_orders")
    try:
        started = _call(emulator, token, RUN, query=ORDERS)["bulkOperationRunQuery"]
        assert started["bulkOperation"]["status"] == "CREATED" and started["userErrors"] == []
        emulator.bulk.wait()
        done = _call(emulator, token, READ, id=started["bulkOperation"]["id"])["bulkOperation"]
        assert (done["status"], done["errorCode"], done["rootObjectCount"]) == (
            "COMPLETED", None, "50")
        lines = requests.get(done["url"], timeout=30).text.splitlines()
        assert len(lines) == int(done["objectCount"]) > 50
        assert all('"__parentId":"gid://shopify/Order/' in line for line in lines
                   if "LineItem" in line)
        directory = emulator.bulk.directory
        assert directory is not None and os.listdir(directory)
    finally:
        emulator.stop()
    assert not os.path.exists(directory)


def test_one_query_at_a_time_and_an_invalid_query_is_a_user_error():
    emulator, token = _emulator("read_orders")
    try:
        first = _call(emulator, token, RUN, query=ORDERS)["bulkOperationRunQuery"]
        assert first["userErrors"] == []
        no_connection = _call(emulator, token, RUN, query="{ shop { id } }")
        assert no_connection["bulkOperationRunQuery"]["userErrors"][0]["code"] == "INVALID"
        emulator.bulk.wait()
        # Without read_all_orders Shopify reads the last 60 days only.
        done = _call(emulator, token, READ, id=first["bulkOperation"]["id"])["bulkOperation"]
        lines = requests.get(done["url"], timeout=30).text.splitlines()
        cutoff = (datetime.now(UTC) - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
        created = [line.split('"createdAt":"')[1][:20] for line in lines if "createdAt" in line]
        assert created and min(created) >= cutoff
        assert int(done["rootObjectCount"]) < 50
    finally:
        emulator.stop()


def test_a_failed_operation_has_shopifys_error_code_and_partial_data():
    emulator, token = _emulator("read_orders,read_all_orders")
    try:
        emulator.bulk.fail_next_with = "TIMEOUT"
        started = _call(emulator, token, RUN, query=ORDERS)["bulkOperationRunQuery"]
        emulator.bulk.wait()
        failed = _call(emulator, token, READ, id=started["bulkOperation"]["id"])["bulkOperation"]
        assert (failed["status"], failed["errorCode"], failed["url"]) == ("FAILED", "TIMEOUT",
                                                                           None)
        partial = requests.get(failed["partialDataUrl"], timeout=30).text.splitlines()
        assert 0 < int(failed["rootObjectCount"]) == 25 and partial
    finally:
        emulator.stop()
