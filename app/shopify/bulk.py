"""Admin GraphQL bulk operations: start a bulk query, watch it, stream its JSONL result.

Shopify runs the query in the background and writes one JSON object per line; a nested
connection's objects are lines of their own that name their parent in `__parentId`, always
after it, and right after it with `groupObjects: true`
(shopify.dev/docs/api/usage/bulk-operations/queries;
shopify.dev/docs/api/admin-graphql/2026-07/mutations/bulkOperationRunQuery). The status goes
CREATED → RUNNING → COMPLETED (or FAILED, CANCELING, CANCELED, EXPIRED)
(shopify.dev/docs/api/admin-graphql/2026-07/enums/BulkOperationStatus); `currentBulkOperation`
is deprecated at 2026-07, so an operation is read by its id with `bulkOperation(id:)`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from app.shopify.graphql import MUTATION_COST, AdminClient, ShopifyUserError, UserError

# Seconds to wait for the result file's server (connect, then between bytes).
DOWNLOAD_TIMEOUT = (10, 60)

BULK_OPERATION_RUN_QUERY_MUTATION = """mutation LoyaltyBulkOperationRunQuery(
  $query: String!, $groupObjects: Boolean!
) {
  bulkOperationRunQuery(query: $query, groupObjects: $groupObjects) {
    bulkOperation { id status }
    userErrors { field code message }
  }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/queries/bulkOperation
BULK_OPERATION_QUERY = """query LoyaltyBulkOperation($id: ID!) {
  bulkOperation(id: $id) {
    id status errorCode objectCount rootObjectCount url partialDataUrl
  }
}"""

# Statuses after which the operation changes no more.
FINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})


@dataclass(frozen=True)
class BulkOperation:
    """A bulk operation as Shopify last described it."""

    id: str
    status: str
    error_code: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    url: str | None = None
    partial_data_url: str | None = None

    @property
    def finished(self) -> bool:
        """Whether Shopify will change nothing more about it."""
        return self.status in FINAL_STATUSES


def _count(raw: Any) -> int:
    """An UnsignedInt64 (digits in a string) as an int; 0 when absent."""
    try:
        return int(raw or 0)
    except (TypeError, ValueError):
        return 0


def run_bulk_query(client: AdminClient, query: str) -> BulkOperation:
    """Start a bulk query with its objects grouped under their parents; its operation."""
    data = client.execute(BULK_OPERATION_RUN_QUERY_MUTATION,
                          {"query": query, "groupObjects": True},
                          operation="bulkOperationRunQuery", cost=MUTATION_COST)
    payload = data.get("bulkOperationRunQuery") or {}
    errors = [UserError(field=tuple(e.get("field") or ()), code=e.get("code"),
                        message=str(e.get("message") or ""))
              for e in payload.get("userErrors") or []]
    if errors:
        raise ShopifyUserError(errors)
    operation = payload["bulkOperation"]
    return BulkOperation(id=operation["id"], status=operation["status"])


def bulk_operation(client: AdminClient, operation_id: str) -> BulkOperation | None:
    """The operation with that id, as it stands now; None if Shopify has none."""
    raw = client.execute(BULK_OPERATION_QUERY, {"id": operation_id},
                         operation="bulkOperation").get("bulkOperation")
    if raw is None:
        return None
    return BulkOperation(id=raw["id"], status=raw["status"], error_code=raw.get("errorCode"),
                         object_count=_count(raw.get("objectCount")),
                         root_object_count=_count(raw.get("rootObjectCount")),
                         url=raw.get("url"), partial_data_url=raw.get("partialDataUrl"))


def stream_lines(url: str, *, skip: int = 0,
                 session: requests.Session | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """The result file's objects as (line number from 1, object), read as it downloads.

    Never held whole: requests streams the body and `iter_lines` yields one line at a time.
    The first `skip` lines (already applied) are read past without being parsed.
    """
    http = session or requests.Session()
    with http.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT) as response:
        response.raise_for_status()
        number = 0
        for raw in response.iter_lines(chunk_size=64 * 1024):
            if not raw:
                continue
            number += 1
            if number <= skip:
                continue
            yield number, json.loads(raw)
