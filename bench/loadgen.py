"""The load generator: its own process, loopback only, bounded in requests and in seconds.

    python -m bench.loadgen spec.json  →  JSON result on stdout

A spec names a request builder and its arguments. Every request is built (and signed) before
the clock starts, except app-proxy reads, whose signature carries a timestamp and is made at
send time (a few microseconds). Requests go over `concurrency` connections, each sending its
next request when the previous answer is complete (closed loop); a connection is reopened
when the server closes it (gunicorn's sync workers close after every response).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

Request = bytes | Callable[[], bytes]


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One HTTP/1.1 request as bytes."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def webhook_headers(body: bytes, topic: str, shop: str, secret: str,
                    webhook_id: str) -> dict[str, str]:
    """What Shopify sends with a delivery (shopify-notes §2), HMAC over the exact body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-27T10:00:00.000Z",
    }


def paid_orders(spec: dict[str, Any]) -> Iterator[bytes]:
    """Signed orders/paid deliveries of the sample order (about 15 KB), one order id each."""
    from devstore.payloads import order_payload

    template = order_payload("orders/paid", order_id=1, customer_id=1, test=False)
    for n in range(spec["first"], spec["first"] + spec["count"]):
        customer = spec["customers"] and (n % spec["customers"]) + 1
        payload = {**template, "id": spec["order_base"] + n, "name": f"#B{n}",
                   "email": f"shopper{customer}@example.com"}
        if customer:
            payload["customer"] = {**template["customer"], "id": spec["customer_base"] + customer,
                                   "email": f"shopper{customer}@example.com"}
        body = json.dumps(payload).encode()
        headers = webhook_headers(body, "orders/paid", spec["shop"], spec["secret"],
                                  f"bench-{spec['run']}-{n}")
        yield http_request("POST", spec.get("path", "/webhooks"), headers, body)


def plain_gets(spec: dict[str, Any]) -> Iterator[bytes]:
    """The same GET, `count` times."""
    request = http_request("GET", spec["path"], {})
    for _ in range(spec["count"]):
        yield request


def proxy_signature(params: list[tuple[str, str]], secret: str) -> str:
    """App-proxy signature (shopify-notes §3): sorted key=value pairs, no separator, hex."""
    message = "".join(f"{k}={v}" for k, v in sorted(params))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def proxy_reads(spec: dict[str, Any]) -> Iterator[Request]:
    """GET /proxy/<path> as a logged-in shopper, signed when sent (the timestamp is live)."""
    import random

    rng = random.Random(spec.get("seed", 7))
    customers = spec["customers"]

    for _ in range(spec["count"]):
        customer = str(spec["customer_base"] + rng.randint(1, customers))

        def build(customer: str = customer) -> bytes:
            """Sign now: Shopify's signature carries the current time."""
            params = [("shop", spec["shop"]), ("logged_in_customer_id", customer),
                      ("path_prefix", "/apps/loyalty"), ("timestamp", str(int(time.time())))]
            params.append(("signature", proxy_signature(params, spec["secret"])))
            return http_request("GET", f"/proxy/{spec['path']}?{urlencode(params)}", {})

        yield build


def proxy_redeems(spec: dict[str, Any]) -> Iterator[Request]:
    """POST /proxy/redeem for each shopper of `customer_ids` in turn, signed when sent."""
    customers = spec["customer_ids"]
    for n in range(spec["count"]):
        customer = str(customers[n % len(customers)])
        body = json.dumps({"reward_id": spec["reward_id"],
                           "request_key": f"bench-{spec['run']}-{n}"}).encode()

        def build(customer: str = customer, body: bytes = body) -> bytes:
            """Sign now: Shopify's signature carries the current time."""
            params = [("shop", spec["shop"]), ("logged_in_customer_id", customer),
                      ("path_prefix", "/apps/loyalty"), ("timestamp", str(int(time.time())))]
            params.append(("signature", proxy_signature(params, spec["secret"])))
            return http_request("POST", f"/proxy/redeem?{urlencode(params)}",
                                {"Content-Type": "application/json"}, body)

        yield build


BUILDERS: dict[str, Callable[[dict[str, Any]], Iterator[Request]]] = {
    "paid_orders": paid_orders, "plain_gets": plain_gets, "proxy_reads": proxy_reads,
    "proxy_redeems": proxy_redeems,
}


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; returns (status, whether the connection may be reused)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, keep_alive = None, lines[0].startswith("HTTP/1.1")
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            keep_alive = value == "keep-alive" or (keep_alive and value != "close")
    if length is None:
        await reader.read()
        return status, False
    await reader.readexactly(length)
    return status, keep_alive


async def _run(host: str, port: int, requests: list[Request], concurrency: int,
               max_seconds: float) -> dict[str, Any]:
    """Send every request over `concurrency` connections, or stop at max_seconds."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    queue = iter(requests)
    start = time.perf_counter()
    deadline = start + max_seconds
    finished_at = [start]

    async def connection() -> None:
        """One client connection, sending the next request when an answer is complete."""
        reader = writer = None
        for request in queue:
            if time.perf_counter() > deadline:
                break
            data = request() if callable(request) else request
            began = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(data)
                status, keep_alive = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors[type(exc).__name__] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            done = time.perf_counter()
            latencies.append(done - began)
            statuses[status] += 1
            finished_at[0] = max(finished_at[0], done)
            if not keep_alive:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return {"latencies_s": latencies, "statuses": {str(k): v for k, v in statuses.items()},
            "errors": dict(errors), "elapsed_s": finished_at[0] - start}


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Build the spec's requests, then send them; the result has every latency."""
    import os

    requests = list(BUILDERS[spec["builder"]](spec))
    before = os.times()
    result = asyncio.run(_run(spec["host"], spec["port"], requests, spec["concurrency"],
                              spec["max_seconds"]))
    after = os.times()
    result["built"] = len(requests)
    result["cpu_s"] = round(after.user + after.system - before.user - before.system, 3)
    return result


def main() -> None:
    """Read the spec file named on the command line; print the result as JSON."""
    with open(sys.argv[1]) as fh:
        spec = json.load(fh)
    json.dump(run(spec), sys.stdout)


if __name__ == "__main__":
    main()
