"""Bulk query operations as Shopify runs them: in the background, into a JSONL file at a URL.

- `bulkOperationRunQuery(query:, groupObjects:)` validates the query (at least one
  connection, at most five, nested at most two levels deep) and answers the operation
  CREATED; one bulk query at a time per shop and app, else OPERATION_IN_PROGRESS.
- A thread runs it: RUNNING with a growing `objectCount`, then COMPLETED with `url`,
  `fileSize` and `completedAt` (or FAILED with an `errorCode` and a `partialDataUrl`).
- Each object is a line; a nested connection's objects are lines of their own right after
  their parent, naming it in `__parentId`, and the parent line leaves the connection out.
- Orders older than 60 days are not read without `read_all_orders`.
https://shopify.dev/docs/api/usage/bulk-operations/queries,
https://shopify.dev/docs/api/admin-graphql/2026-07/objects/BulkOperation
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from devstore import graphql
from devstore.state import ShopState, gid, next_id

if TYPE_CHECKING:
    from devstore.admin_api import ApiContext

MAX_CONNECTIONS = 5
MAX_DEPTH = 2
RECENT_ORDERS = timedelta(days=60)
_FILTER = re.compile(r"^(created_at|processed_at|updated_at):(>=|<=|>|<)?'?"
                     r"(\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)'?$")


@dataclass
class BulkOperationState:
    """One bulk query operation of a shop."""

    id: int
    query: str
    group_objects: bool
    scopes: frozenset[str]
    created_at: str
    status: str = "CREATED"
    completed_at: str | None = None
    error_code: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    path: str | None = None

    @property
    def gid(self) -> str:
        """Its GraphQL id."""
        return gid("BulkOperation", self.id)


@dataclass
class BulkRunner:
    """Runs a process's bulk operations and keeps their files until the emulator stops.

    `fail_next_with` makes the next operation FAILED with that error code after half its
    objects; `cut_downloads_after` ends every result download after that many lines with a
    dropped connection, as a network failure would.
    """

    base_url: Callable[[], str]
    # Made by the first operation, removed by close(): an emulator that runs none leaves none.
    directory: str | None = None
    threads: list[threading.Thread] = field(default_factory=list)
    fail_next_with: str | None = None
    cut_downloads_after: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, shop: ShopState, op: BulkOperationState) -> str:
        """Where the operation's file is served (Shopify's is a signed storage URL)."""
        return f"{self.base_url()}/_bulk/{shop.domain}/{op.id}.jsonl"

    def start(self, ctx: ApiContext, op: BulkOperationState) -> None:
        """Run the operation in the background."""
        failure, self.fail_next_with = self.fail_next_with, None
        thread = threading.Thread(target=self._run, args=(ctx, op, failure),
                                  name=f"bulk-{op.id}", daemon=True)
        with self.lock:
            self.threads.append(thread)
        thread.start()

    def wait(self, timeout: float = 120.0) -> None:
        """Wait for every operation started so far (tests)."""
        with self.lock:
            threads = list(self.threads)
        for thread in threads:
            thread.join(timeout)

    def close(self) -> None:
        """Wait for running operations and delete their files."""
        self.wait()
        with self.lock:
            directory, self.directory, self.threads = self.directory, None, []
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    def _file(self, name: str) -> str:
        """A path for a result file in the runner's directory (made on first use)."""
        with self.lock:
            if self.directory is None:
                self.directory = tempfile.mkdtemp(prefix="devstore-bulk-")
            return os.path.join(self.directory, name)

    def _run(self, ctx: ApiContext, op: BulkOperationState, failure: str | None) -> None:
        """Write the operation's lines to its file, counting objects as Shopify reports."""
        op.status = "RUNNING"
        path = self._file(f"{ctx.shop.domain}-{op.id}.jsonl")
        op.path = path
        try:
            # Written as produced: the file, not a list in memory, holds the result.
            stop_at = len(ctx.shop.orders) // 2 if failure else None
            with open(path, "w", encoding="utf-8") as out:
                for index, lines in enumerate(_root_objects(ctx, op)):
                    if stop_at is not None and index >= stop_at:
                        op.status, op.error_code = "FAILED", failure
                        break
                    for line in lines:
                        out.write(json.dumps(line, separators=(",", ":")) + "\n")
                    op.object_count += len(lines)
                    op.root_object_count += 1
            op.file_size = os.path.getsize(path)
            if op.status == "RUNNING":
                op.status = "COMPLETED"
                op.completed_at = _iso(datetime.now(UTC))
        except Exception:  # noqa: BLE001 - a bug here is Shopify's INTERNAL_SERVER_ERROR
            op.status, op.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
            raise

    def lines(self, op: BulkOperationState) -> Iterator[bytes]:
        """The file's bytes line by line, cut short when a test asked for a dropped download."""
        assert op.path is not None
        with open(op.path, "rb") as data:
            for number, line in enumerate(data, start=1):
                if self.cut_downloads_after is not None and number > self.cut_downloads_after:
                    raise ConnectionAbortedError("download cut")
                yield line


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _connection_fields(selections: list[Any], doc: graphql.Document, depth: int = 0
                       ) -> list[tuple[str, int]]:
    """(name, depth) of every connection field selected: one selecting edges or nodes."""
    found = []
    for fld in graphql.collect_fields(selections, None, doc, {}):
        if not fld.selections:
            continue
        inner = {f.name for f in graphql.collect_fields(fld.selections, None, doc, {})}
        nested = depth
        if inner & {"edges", "nodes"}:
            found.append((fld.name, depth + 1))
            nested = depth + 1
        found += _connection_fields(fld.selections, doc, nested)
    return found


def validate(query: str) -> tuple[str, str] | None:
    """(code, message) of Shopify's userError for a query it would not run, else None."""
    try:
        doc = graphql.parse(query)
        op = doc.operation(None)
    except graphql.GraphQLError as exc:
        return "INVALID", f"Invalid bulk query: {exc.message}"
    if op.kind != "query":
        return "INVALID", "Bulk queries must be queries."
    connections = _connection_fields(op.selections, doc)
    if not connections:
        return "INVALID", "Bulk queries must contain at least one connection."
    if len(connections) > MAX_CONNECTIONS:
        return "INVALID", f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
    if max(depth for _, depth in connections) > MAX_DEPTH:
        return "INVALID", f"Bulk queries cannot contain connections with a nesting depth " \
                          f"greater than {MAX_DEPTH}."
    roots = graphql.collect_fields(op.selections, None, doc, {})
    unknown = [f.name for f in roots if f.name not in BULK_ROOTS]
    if unknown:
        return "INVALID", f"Field '{unknown[0]}' doesn't exist on type 'QueryRoot'"
    return None


def _matches(value: str | None, operator: str, bound: str) -> bool:
    """A DateTime string against a search filter bound (a date, or a time)."""
    if value is None:
        return False
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    limit = datetime.fromisoformat(bound.replace("Z", "+00:00"))
    if limit.tzinfo is None:
        limit = limit.replace(tzinfo=UTC)
    return {">=": moment >= limit, ">": moment > limit, "<=": moment <= limit,
            "<": moment < limit, "": moment.date() == limit.date()}[operator]


def order_filter(search: str | None) -> Callable[[dict[str, Any]], bool]:
    """The orders a search query keeps: its created_at/processed_at/updated_at terms, ANDed
    (shopify.dev/docs/api/usage/search-syntax); other terms are not emulated and refused."""
    terms = []
    for term in (search or "").split():
        if term.upper() == "AND":
            continue
        match = _FILTER.match(term)
        if match is None:
            raise graphql.GraphQLError(f"the emulator does not read the search term {term!r}")
        terms.append(match.groups())
    return lambda order: all(_matches(order.get(f), op or "", bound) for f, op, bound in terms)


def _flatten(node: dict[str, Any], raw: dict[str, Any], parent_id: str | None
             ) -> list[dict[str, Any]]:
    """A selected object and, after it, its nested connections' objects as lines."""
    line: dict[str, Any] = {}
    children: list[dict[str, Any]] = []
    for key, value in node.items():
        if isinstance(value, dict) and ("edges" in value or "nodes" in value) and set(
                value) <= {"edges", "nodes", "pageInfo"}:
            items = ([e["node"] for e in value.get("edges") or []] if "edges" in value
                     else list(value.get("nodes") or []))
            for item in items:
                children += _flatten(item, item, str(raw.get("id") or node.get("id")))
            continue
        line[key] = value
    if parent_id is not None:
        line["__parentId"] = parent_id
    return [line, *children]


def _orders(ctx: ApiContext, op: BulkOperationState, fld: graphql.Field
            ) -> list[dict[str, Any]]:
    """The shop's orders the connection's arguments and the token's scopes let it read."""
    from devstore.admin_api import order_node

    keep = order_filter(fld.args.get("query"))
    recent = datetime.fromtimestamp(ctx.now, UTC) - RECENT_ORDERS
    all_orders = "read_all_orders" in op.scopes
    orders = [o for o in list(ctx.shop.orders.values()) if keep(o) and (
        all_orders or _matches(o.get("created_at"), ">=", recent.isoformat()))]
    key = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "ID": "id"}.get(
        str(fld.args.get("sortKey") or ""), "processed_at")
    orders.sort(key=lambda o: (str(o.get(key) or ""), int(o["id"])),
                reverse=bool(fld.args.get("reverse")))
    return [order_node(ctx, o) for o in orders]


BULK_ROOTS: dict[str, tuple[str, Callable[..., list[dict[str, Any]]]]] = {
    "orders": ("read_orders", _orders),
}


def _root_objects(ctx: ApiContext, op: BulkOperationState) -> Iterator[list[dict[str, Any]]]:
    """Each root object's lines (itself, then its nested connections' objects)."""
    doc = graphql.parse(op.query)
    query = doc.operation(None)
    for fld in graphql.collect_fields(query.selections, None, doc, {}):
        scope, nodes = BULK_ROOTS[fld.name]
        if not ctx.has_scope(scope):
            raise PermissionError(scope)
        inner = graphql.collect_fields(fld.selections or [], None, doc, {})
        node_selection = next((f.selections for f in inner if f.name == "nodes"), None)
        if node_selection is None:
            edges = next(f for f in inner if f.name == "edges")
            node_selection = next(f.selections for f in graphql.collect_fields(
                edges.selections or [], None, doc, {}) if f.name == "node")
        for raw in nodes(ctx, op, fld):
            selected = graphql.select(raw, node_selection, doc, {}, [fld.key])
            yield _flatten(selected, raw, None)


def operation_node(runner: BulkRunner | None, shop: ShopState, op: BulkOperationState
                   ) -> dict[str, Any]:
    """BulkOperation"""
    done = op.status in ("COMPLETED", "FAILED") and op.path is not None and runner is not None
    return {
        "__typename": "BulkOperation", "id": op.gid, "status": op.status,
        "errorCode": op.error_code, "createdAt": op.created_at, "completedAt": op.completed_at,
        "objectCount": str(op.object_count), "rootObjectCount": str(op.root_object_count),
        "fileSize": str(op.file_size) if op.file_size is not None and done else None,
        "url": runner.url(shop, op) if done and op.status == "COMPLETED" else None,
        "partialDataUrl": runner.url(shop, op) if done and op.status == "FAILED" else None,
        "query": op.query, "type": "QUERY",
    }


def new_operation(ctx: ApiContext, query: str, group_objects: bool) -> BulkOperationState:
    """A CREATED operation for the shop (not stored yet)."""
    return BulkOperationState(id=next_id(), query=query, group_objects=group_objects,
                              scopes=ctx.scopes, created_at=ctx.iso_now)
