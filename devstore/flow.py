"""Shopify Flow in the emulator: `flowTriggerReceive` and signed Flow action requests.

Shopify knows an app's Flow extensions once they are deployed; the emulator reads them from
the repository's extension TOMLs (`type = "flow_trigger"` / `"flow_action"`), so a trigger
with an unknown handle, or a payload whose keys are not the trigger's fields, is refused with
a userError as Shopify refuses it.
- https://shopify.dev/docs/api/admin-graphql/latest/mutations/flowTriggerReceive
- https://shopify.dev/docs/apps/build/flow/triggers/reference (customer_reference →
  `customer_id`, other fields by their key)
- https://shopify.dev/docs/apps/build/flow/actions/endpoints: an action run is a POST of
  `{shop_id, shopify_domain, action_run_id, action_definition_id, handle, properties}` to the
  action's runtime_url, signed like a webhook (X-Shopify-Hmac-SHA256, base64 HMAC-SHA256 of
  the body with the client secret); the same run is resent with the same action_run_id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devstore.graphql import Items

EXTENSIONS = Path(__file__).resolve().parents[1] / "extensions"
# The payload key of each reference field type.
REFERENCE_KEYS = {"customer_reference": "customer_id", "order_reference": "order_id",
                  "product_reference": "product_id"}


@dataclass(frozen=True)
class FlowExtension:
    """A deployed Flow trigger or action: its handle, fields' payload keys, and action URL."""

    kind: str
    handle: str
    keys: frozenset[str]
    runtime_url: str | None


def deployed_flow_extensions(root: Path = EXTENSIONS) -> dict[str, FlowExtension]:
    """handle -> the app's Flow extensions, as `shopify app deploy` would register them."""
    found = {}
    for path in sorted(root.glob("*/shopify.extension.toml")):
        config = tomllib.loads(path.read_text())
        for extension in config.get("extensions", []):
            if extension.get("type") not in ("flow_trigger", "flow_action"):
                continue
            fields = config.get("settings", {}).get("fields", [])
            keys = frozenset(REFERENCE_KEYS.get(f["type"], f.get("key", "")) for f in fields)
            found[extension["handle"]] = FlowExtension(
                extension["type"], extension["handle"], keys, extension.get("runtime_url"))
    return found


def _user_errors(messages: list[tuple[list[str], str]]) -> Items:
    return Items([{"__typename": "UserError", "field": path, "message": message}
                  for path, message in messages], "UserError", frozenset({"field", "message"}))


def mutation_flow_trigger_receive(ctx: Any, args: dict[str, Any]
                                  ) -> tuple[dict[str, Any], Any]:
    """flowTriggerReceive(handle:, payload:): the trigger is recorded as received."""
    handle, payload = args.get("handle"), args.get("payload")
    triggers = {h: e for h, e in deployed_flow_extensions().items() if e.kind == "flow_trigger"}
    errors: list[tuple[list[str], str]] = []
    if "flowTriggerReceive" in ctx.forced_user_errors:
        errors.append((["handle"], "Emulated failure: the trigger could not be received."))
    elif handle not in triggers:
        errors.append((["handle"], f"Invalid handle '{handle}'."))
    elif not isinstance(payload, dict) or set(payload) != triggers[handle].keys:
        errors.append((["payload"], "The payload does not match the trigger's fields."))
    if errors:
        return {"userErrors": _user_errors(errors)}, None

    def commit() -> None:
        ctx.shop.flow_triggers.append({"handle": handle, "payload": payload})

    return {"userErrors": _user_errors([])}, commit


def flow_action_request(shop_domain: str, shop_id: int, handle: str,
                        properties: dict[str, Any], secret: str, *,
                        action_run_id: str | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one Flow action run, signed with the client secret."""
    body = json.dumps({
        "shop_id": shop_id, "shopify_domain": shop_domain,
        "action_run_id": action_run_id or str(uuid.uuid4()),
        "action_definition_id": handle, "handle": handle, "properties": properties,
    }).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return body, {"Content-Type": "application/json",
                  "X-Shopify-Hmac-SHA256": signature.decode(),
                  "X-Shopify-Shop-Domain": shop_domain}


def send_flow_action(app_url: str, shop_domain: str, shop_id: int, handle: str,
                     properties: dict[str, Any], secret: str, *,
                     action_run_id: str | None = None, timeout: float = 10.0
                     ) -> httpx.Response:
    """POST one signed action run to the action's runtime_url path on the app."""
    action = deployed_flow_extensions()[handle]
    if action.kind != "flow_action" or not action.runtime_url:
        raise ValueError(f"{handle} is not a Flow action")
    path = "/" + action.runtime_url.split("://", 1)[-1].split("/", 1)[-1]
    body, headers = flow_action_request(shop_domain, shop_id, handle, properties, secret,
                                        action_run_id=action_run_id)
    with httpx.Client(timeout=timeout) as client:
        return client.post(app_url.rstrip("/") + path, content=body, headers=headers)
