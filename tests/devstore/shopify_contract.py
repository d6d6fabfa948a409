"""What Shopify sends for a topic at API 2026-07, as a shape to hold payloads to.

The shape is Shopify's sample payload (devstore/samples/webhooks/2026-07). Where the sample
shows no item of a list (its `discount_codes`, `fulfillments`, `order_adjustments` are empty)
or a null object, the item's keys come from the same package's JSON schema of that topic
(samples/webhooks/2026-07/schemas), which was built from Shopify's examples and real
deliveries. A key the sample has is never taken from the schema: the schema also remembers
keys older API versions sent (a customer's `accepts_marketing`, `tags`), which 2026-07 does not.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from devstore.payloads import SAMPLES

VERSION = "2026-07"
FOLDER = SAMPLES / VERSION


def _file(topic: str) -> str:
    return f"{topic.replace('/', '__')}.json"


@cache
def _sample_text(topic: str) -> str:
    return (FOLDER / _file(topic)).read_text()


@cache
def _schema_text(topic: str) -> str:
    path = FOLDER / "schemas" / _file(topic)
    return path.read_text() if path.is_file() else "{}"


def _schema_shape(schema: Any) -> Any:
    """A JSON schema as a skeleton: dicts of keys, lists of one item, None for a scalar."""
    if not isinstance(schema, dict):
        return None
    branches = [schema, *(b for b in schema.get("anyOf") or [] if isinstance(b, dict))]
    properties: dict[str, Any] = {}
    item: Any = None
    for branch in branches:
        for key, sub in (branch.get("properties") or {}).items():
            properties[key] = _merge(properties.get(key), _schema_shape(sub))
        if isinstance(branch.get("items"), dict):
            item = _merge(item, _schema_shape(branch["items"]))
    if properties:
        return properties
    if item is not None:
        return [item]
    return None


def _merge(first: Any, second: Any) -> Any:
    """Two skeletons of one value as one (keys of both)."""
    if isinstance(first, dict) and isinstance(second, dict):
        return {k: _merge(first.get(k), second.get(k)) for k in {**first, **second}}
    if isinstance(first, list) and isinstance(second, list) and first and second:
        return [_merge(first[0], second[0])]
    return first if first not in (None, []) else second


def _fill_gaps(sample: Any, schema: Any) -> Any:
    """The sample, with its empty lists and null objects given the schema's item keys."""
    if isinstance(sample, dict):
        schema = schema if isinstance(schema, dict) else {}
        return {k: _fill_gaps(v, schema.get(k)) for k, v in sample.items()}
    if isinstance(sample, list):
        item_schema = schema[0] if isinstance(schema, list) and schema else None
        if not sample:
            return [item_schema] if item_schema is not None else []
        return [_fill_gaps(sample[0], item_schema)]
    if sample is None and isinstance(schema, dict | list):
        return schema
    return None


def reference_shape(topic: str) -> Any:
    """The keys Shopify sends for a topic: the sample, gaps filled from the schema."""
    sample = json.loads(_sample_text(topic))
    return _fill_gaps(sample, _schema_shape(json.loads(_schema_text(topic))))


def keys_shopify_does_not_send(payload: Any, reference: Any, path: str = "") -> list[str]:
    """Every key path in `payload` that Shopify's shape lacks (dicts: keys a subset at every
    level; list items against the reference's item)."""
    extra: list[str] = []
    if isinstance(payload, dict):
        if not isinstance(reference, dict):
            return [f"{path or '$'} (an object where Shopify sends no keys to compare)"] if (
                payload and reference is None) else []
        for key, value in payload.items():
            where = f"{path}.{key}" if path else key
            if key not in reference:
                extra.append(where)
            else:
                extra.extend(keys_shopify_does_not_send(value, reference[key], where))
    elif isinstance(payload, list):
        item = reference[0] if isinstance(reference, list) and reference else None
        for value in payload:
            if isinstance(value, dict | list) and value:
                if item is None:
                    extra.append(f"{path}[] (items where Shopify's sample has none)")
                    break
                extra.extend(keys_shopify_does_not_send(value, item, f"{path}[]"))
    return sorted(set(extra))


def has_path(reference: Any, path: str) -> bool:
    """Whether a key path like `line_items[].price_set.shop_money.amount` is in the shape."""
    node = reference
    for part in path.split("."):
        listed = part.endswith("[]")
        key = part.removesuffix("[]")
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
        if listed:
            if not isinstance(node, list) or not node:
                return False
            node = node[0]
    return True
