"""What the checkout extension tests need: the CLI build, session tokens, a stand-in backend.

`checkout_api_stand_in()` answers /api/checkout/* the way design.md §4 and the JSON contract in
extensions/loyalty-ui/src/contract.ts say the Flask backend will: CORS for a Web Worker origin,
the extension session token checked as a bearer credential, the contract's JSON. Point the
browser tests at the real backend by serving it instead (its URL is inlined at build time
through SHOPIFY_APP_URL) with the same scenario orders seeded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from werkzeug.wrappers import Request, Response

from tests.conftest import SERVICES_REQUIRED, TEST_API_KEY, TEST_API_SECRET

REPO_ROOT = Path(__file__).resolve().parents[3]
SHOPIFY_CLI = REPO_ROOT / "node_modules" / ".bin" / "shopify"
TSC = REPO_ROOT / "node_modules" / ".bin" / "tsc"
# Debian's Chromium, never a browser downloaded by `playwright install`.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TEST_OUTPUT = REPO_ROOT / "test-output"

# handle -> extension folder; the bundle is <folder>/dist/<handle>.js.
EXTENSIONS = {"loyalty-thank-you": "thank-you", "loyalty-order-status": "order-status"}
# Shopify rejects UI extension bundles over 64 KB compressed (API 2025-10+); ours aim lower.
SHOPIFY_COMPRESSED_LIMIT = 64 * 1024
OUR_COMPRESSED_BUDGET = 20 * 1024
BUILD_TIMEOUT_S = 180
BUILD_ERROR_GRACE_S = 10
# What the CLI prints when something failed, even when it then exits 0 or hangs.
BUILD_ERROR_MARKERS = re.compile(r"\[ERROR\]|\[error\]|─ error ─|Error:|✘|❌")

SHOP = "loyalty-loop-test.myshopify.com"
CUSTOMER_GID = "gid://shopify/Customer/115310627314723954"
# The orders/paid fixture's order (shared/fixtures/webhooks/2026-07), plus scenario variants.
MEMBER_ORDER_ID = "820982911946154508"
GUEST_ORDER_ID = "820982911946154509"
FLAKY_ORDER_ID = "820982911946154510"
NPS_BONUS_POINTS = 50


def require_tool(tool: str, reason: str) -> None:
    """Skip when a developer machine lacks the tool; fail in CI, where it must be installed."""
    message = f"{tool} unavailable: {reason}"
    if SERVICES_REQUIRED:
        pytest.fail(message + " (CI/REQUIRE_SERVICES is set)", pytrace=False)
    pytest.skip(message)


def require_node_modules() -> None:
    """The repository's npm workspace must be installed (`npm ci` at the root)."""
    if not os.access(SHOPIFY_CLI, os.X_OK) or not os.access(TSC, os.X_OK):
        require_tool("node_modules", "run `npm ci` at the repository root")


def extension_session_token(*, customer_gid: str | None = CUSTOMER_GID,
                            secret: str = TEST_API_SECRET, audience: str = TEST_API_KEY,
                            lifetime_s: int = 300) -> str:
    """A checkout/customer-account session token as `shopify.sessionToken.get()` returns it.

    Claims per shopify-notes §6: `dest` is the bare shop host, no `iss` and no `sid`; `sub`
    only when the buyer is logged in.
    """
    now = int(time.time())
    claims: dict[str, Any] = {"dest": SHOP, "aud": audience, "iat": now, "nbf": now,
                              "exp": now + lifetime_s, "jti": str(uuid.uuid4())}
    if customer_gid:
        claims["sub"] = customer_gid
    return jwt.encode(claims, secret, algorithm="HS256")


def member_order_loyalty(order_id: str = MEMBER_ORDER_ID) -> dict[str, Any]:
    """GET /api/checkout/order/<id> for a logged-in member whose points are pending."""
    return {
        "order": {"id": order_id, "name": "#9999", "points": 135, "status": "pending",
                  "unlocks_on": "2026-12-27"},
        "member": {"first_name": "Ada", "points": {"available": 1250, "pending": 300},
                   "tier": {"name": "Silver", "next": "Gold", "progress": 0.42,
                            "spend_to_next": "290.00"}},
        "referral": {"code": "ADA-7K3Q", "url": f"https://{SHOP}/?ref=ADA-7K3Q",
                     "share_text": "Get 10% off your first order with my link:"},
        "guest": None,
        "nps": {"asked": True, "answered": False, "bonus_points": NPS_BONUS_POINTS},
    }


def guest_order_loyalty(order_id: str = GUEST_ORDER_ID) -> dict[str, Any]:
    """GET /api/checkout/order/<id> for a guest checkout, before orders/paid (a preview)."""
    return {
        "order": {"id": order_id, "name": "#10000", "points": 135, "status": "preview",
                  "unlocks_on": "2026-12-27"},
        "member": None,
        "referral": None,
        "guest": {"claim_url": f"https://{SHOP}/account/register?loyalty_order={order_id}",
                  "points": 135},
        "nps": {"asked": False, "answered": False, "bonus_points": 0},
    }


def scenario_answers() -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """Per order id, the answers GET gives in turn (the last one repeats)."""
    server_error = {"error": "internal_error", "message": "Something went wrong on our side."}
    return {
        MEMBER_ORDER_ID: [(200, member_order_loyalty())],
        GUEST_ORDER_ID: [(200, guest_order_loyalty())],
        FLAKY_ORDER_ID: [(500, server_error), (200, member_order_loyalty(FLAKY_ORDER_ID))],
    }


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def checkout_api_stand_in(answers: Mapping[str, list[tuple[int, dict[str, Any]]]],
                          received: list[dict[str, Any]], *, secret: str = TEST_API_SECRET,
                          audience: str = TEST_API_KEY) -> WSGIApp:
    """A WSGI stand-in for the backend's checkout API; `received` records every request."""
    served: dict[str, int] = {}
    cors = {"Access-Control-Allow-Origin": "*"}

    def answer(status: int, body: Mapping[str, Any]) -> Response:
        """A JSON response any origin may read."""
        return Response(json.dumps(body), status=status, mimetype="application/json",
                        headers=cors)

    def authorized(request: Request) -> bool:
        """Whether the bearer token is an extension session token for this app."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer":
            return False
        try:
            jwt.decode(token, secret, algorithms=["HS256"], audience=audience, leeway=10,
                       options={"require": ["exp", "nbf", "iat", "dest", "aud", "jti"]})
        except jwt.InvalidTokenError:
            return False
        return True

    def respond(request: Request) -> Response:
        """Record the request, then answer it as the contract says."""
        received.append({"method": request.method, "path": request.path,
                         "authorization": request.headers.get("Authorization"),
                         "origin": request.headers.get("Origin"),
                         "json": request.get_json(silent=True)})
        if request.method == "OPTIONS":
            # Extensions run in a Web Worker with an opaque origin (shopify-notes §6).
            return Response(status=204, headers={
                **cors, "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Max-Age": "7200"})
        if not authorized(request):
            return answer(401, {"error": "invalid_session_token",
                                "message": "Session token missing or invalid."})
        prefix = "/api/checkout/order/"
        if request.method == "GET" and request.path.startswith(prefix):
            order_id = request.path[len(prefix):]
            if order_id not in answers:
                return answer(404, {"error": "order_not_found", "message": "Unknown order."})
            turn = served.get(order_id, 0)
            served[order_id] = turn + 1
            status, body = answers[order_id][min(turn, len(answers[order_id]) - 1)]
            return answer(status, body)
        if request.method == "POST" and request.path == "/api/checkout/nps":
            body = request.get_json(silent=True) or {}
            score = body.get("score")
            if (not isinstance(body.get("order_id"), str) or isinstance(score, bool)
                    or not isinstance(score, int) or not 0 <= score <= 10
                    or not isinstance(body.get("comment"), str)):
                return answer(422, {"error": "invalid_nps", "message": "Score 0-10 expected."})
            return answer(200, {"ok": True, "bonus_points": NPS_BONUS_POINTS})
        return answer(404, {"error": "not_found", "message": "No such endpoint."})

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI entry point."""
        return respond(Request(environ))(environ, start_response)

    return app


@dataclass
class CheckoutApi:
    """A running backend for the extensions, and every request it received."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)

    def requests_to(self, method: str, path: str) -> list[dict[str, Any]]:
        """The recorded requests with this method and path."""
        return [r for r in self.received if r["method"] == method and r["path"] == path]


@dataclass(frozen=True)
class Build:
    """One `shopify app build` run: its exit code, its output, and whether it ran offline."""

    returncode: int | None
    output: str
    offline: bool

    def bundle(self, handle: str) -> Path:
        """The built JavaScript of one UI extension."""
        return REPO_ROOT / "extensions" / EXTENSIONS[handle] / "dist" / f"{handle}.js"


def _network_namespace_available() -> bool:
    """Whether `unshare -n` works here (root or user namespaces): then builds run offline."""
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10)
    return probe.returncode == 0


def run_shopify_build(app_url: str) -> Build:
    """`shopify app build` as CI and deploys run it, without network when the host allows.

    The CLI has been seen to print an esbuild error and then hang instead of exiting, so an
    error line gives it a short grace period before it is stopped (returncode None).
    """
    offline = _network_namespace_available()
    command = [str(SHOPIFY_CLI), "app", "build", "--skip-dependencies-installation"]
    if offline:
        command = ["unshare", "-n", *command]
    env = {**os.environ, "SHOPIFY_APP_URL": app_url, "SHOPIFY_CLI_NO_ANALYTICS": "1",
           "NO_COLOR": "1", "FORCE_COLOR": "0"}
    lines: list[str] = []
    error_seen = threading.Event()
    with subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as process:

        def collect() -> None:
            """Keep every output line; flag the first error line."""
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if BUILD_ERROR_MARKERS.search(line):
                    error_seen.set()

        reader = threading.Thread(target=collect, daemon=True)
        reader.start()
        deadline = time.monotonic() + BUILD_TIMEOUT_S
        while process.poll() is None and time.monotonic() < deadline:
            if error_seen.wait(timeout=0.2):
                deadline = min(deadline, time.monotonic() + BUILD_ERROR_GRACE_S)
        returncode = process.poll()
        if returncode is None:
            process.kill()
            process.wait()
        reader.join(timeout=10)
    return Build(returncode, "".join(lines), offline)


def compressed_size(data: bytes) -> int:
    """Deflate size, the measure of Shopify's 64 KB UI extension limit."""
    return len(zlib.compress(data))
