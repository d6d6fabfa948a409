"""The emulator's HTTP surface: every shop under `/{shop domain}/…`, plus `/_emulator/…`.

Routes only translate HTTP to the emulator's endpoints and back; the storefront app proxy and
the embedded-admin launch forward to the app, never holding the emulator's lock while they wait.
"""

from __future__ import annotations

import hashlib
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import httpx
from flask import Flask, Response, abort, jsonify, redirect, request

from devstore import billing, endpoints
from devstore.emulator import PROXY_PREFIXES
from devstore.signing import admin_host_param, oauth_query_hmac
from devstore.state import ShopState

if TYPE_CHECKING:
    from devstore.emulator import ShopifyEmulator

CUSTOMER_COOKIE = "emu_customer_id"
# Request headers a storefront proxy passes on; cookies never reach the app (shopify.dev
# "About app proxies": Shopify strips Cookie and Set-Cookie).
_FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept", "Accept-Language", "User-Agent",
                              "X-Requested-With")
_FORWARDED_RESPONSE_HEADERS = ("Content-Type", "Cache-Control", "Location", "ETag",
                               "Last-Modified", "Vary")


def create_emulator_app(emu: ShopifyEmulator) -> Flask:
    """The Flask app serving one emulator's shops."""
    app = Flask("devstore")
    app.json.sort_keys = False  # type: ignore[attr-defined]

    def shop_or_404(domain: str) -> ShopState:
        """The shop's state, or Shopify's JSON 404."""
        state = emu.shops.get(domain)
        if state is None:
            abort(_not_found())
        return state

    def send(answer: endpoints.Answer) -> Response:
        """Turn an Answer into a Flask response (or drop the connection)."""
        if answer.drop_connection:
            _drop_connection()
            return Response(b"", status=500)
        if isinstance(answer.body, dict | list):
            response = jsonify(answer.body)
            response.status_code = answer.status
        else:
            response = Response(answer.body or "", status=answer.status,
                                content_type="text/plain; charset=utf-8")
        response.headers.update(answer.headers)
        return response

    @app.get("/<shop>/admin/oauth/authorize")
    def authorize(shop: str) -> Response:
        """The merchant's consent screen, approved at once."""
        with emu.lock:
            answer = endpoints.authorize(emu, shop_or_404(shop), request.args.to_dict(flat=False))
        return send(answer)

    @app.post("/<shop>/admin/oauth/access_token")
    def access_token(shop: str) -> Response:
        """Code grant, token exchange and refresh; JSON or form-encoded bodies."""
        params: dict[str, Any] = dict(request.args.items())
        params.update(request.form.items())
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            params.update(body)
        with emu.lock:
            answer = endpoints.access_token(emu, shop_or_404(shop), params)
        return send(answer)

    @app.post("/<shop>/admin/api/<version>/graphql.json")
    def admin_graphql(shop: str, version: str) -> Response:
        """The Admin GraphQL API."""
        with emu.lock:
            answer = endpoints.admin_graphql(emu, shop_or_404(shop),
                                             request.headers.get("X-Shopify-Access-Token"),
                                             request.get_data(), version)
        return send(answer)

    @app.route("/<shop>/admin/charges/<int:app_id>/<int:subscription_id>/"
               "RecurringApplicationCharge/confirm_recurring_application_charge",
               methods=["GET", "POST"])
    def confirm_subscription(shop: str, app_id: int, subscription_id: int) -> Response:
        """The merchant approves or declines an app subscription, then goes to its return URL
        (devstore/billing.py)."""
        state = shop_or_404(shop)
        subscription = state.app_subscriptions.get(subscription_id)
        if app_id != emu.app_id or subscription is None or subscription.status != "PENDING":
            abort(_not_found())
        if request.method == "GET":
            return Response(billing.confirmation_page(state, subscription),
                            content_type="text/html; charset=utf-8")
        with emu.lock:
            billing.decide(state, subscription, request.form.get("decision") == "approve",
                           emu.clock())
            payload = billing.update_payload(state, subscription, emu.clock())
        emu.send_webhook(state.domain, "app_subscriptions/update", payload)
        return redirect(billing.return_location(emu.base_url, state, subscription), code=302)

    @app.get("/_bulk/<shop>/<int:operation_id>.jsonl")
    def bulk_result(shop: str, operation_id: int) -> Response:
        """A bulk operation's JSONL file, streamed (Shopify serves it from signed storage)."""
        state = shop_or_404(shop)
        operation = state.bulk_operations.get(operation_id)
        if operation is None or operation.path is None or operation.status not in (
                "COMPLETED", "FAILED"):
            abort(_not_found())
        return Response(emu.bulk.lines(operation), content_type="application/jsonl")

    @app.get("/<shop>/admin/apps/<client_id>")
    @app.get("/<shop>/admin/apps/<client_id>/<path:rest>")
    def open_embedded_app(shop: str, client_id: str, rest: str = "") -> Response:
        """Open the app in the admin: a signed app-home URL with a fresh id_token."""
        state = shop_or_404(shop)
        if client_id != emu.client_id:
            abort(_not_found())
        now = int(emu.clock())
        params = {"embedded": "1", "host": admin_host_param(state.domain),
                  "id_token": emu.mint_admin_session_token(state.domain, now=now),
                  "locale": "en", "session": hashlib.sha256(
                      f"{state.domain}:{now}".encode()).hexdigest(),
                  "shop": state.domain, "timestamp": str(now)}
        # What the link itself carried (a billing return's `charge_id`) comes along, signed.
        params.update({k: v for k, v in request.args.items() if k not in params and k != "hmac"})
        params["hmac"] = oauth_query_hmac(params, emu.client_secret)
        target = f"{emu.app_url.rstrip('/')}/{rest}"
        return redirect(f"{target}?{urlencode(sorted(params.items()))}", code=302)

    # Any prefix a merchant may choose; the handler answers only the shop's current path.
    proxy_base = f"/<shop>/<any({', '.join(PROXY_PREFIXES)}):prefix>/<subpath>"

    @app.route(proxy_base, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @app.route(proxy_base + "/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def app_proxy(shop: str, prefix: str, subpath: str, rest: str = "") -> Response:
        """Forward to {app_url}/proxy/<rest> with Shopify's signed parameters."""
        state = shop_or_404(shop)
        if f"/{prefix}/{subpath}" != emu.proxy_path_for(state.domain):
            # Not (or no longer) this store's proxy: the storefront's own 404.
            abort(_not_found())
        original = request.query_string.decode()
        added = emu.proxy_params(state.domain, parse_qsl(original, keep_blank_values=True),
                                 request.cookies.get(CUSTOMER_COOKIE) or None)
        query = "&".join(part for part in (original, urlencode(added)) if part)
        target = emu.app_url.rstrip("/") + emu.proxy_url + (f"/{rest}" if rest else "")
        headers = {name: request.headers[name] for name in _FORWARDED_REQUEST_HEADERS
                   if name in request.headers}
        headers["X-Forwarded-For"] = request.remote_addr or "127.0.0.1"
        try:
            upstream = emu.proxy_http.request(request.method, f"{target}?{query}",
                                              content=request.get_data(), headers=headers,
                                              timeout=emu.request_timeout)
        except httpx.HTTPError as exc:
            return Response(f"Bad gateway: the app did not answer ({type(exc).__name__})",
                            status=502, content_type="text/plain; charset=utf-8")
        response = Response(upstream.content, status=upstream.status_code)
        for name in _FORWARDED_RESPONSE_HEADERS:
            if name in upstream.headers:
                response.headers[name] = upstream.headers[name]
        return response

    @app.get("/<shop>/account/login")
    def log_in(shop: str) -> Response:
        """Log a storefront customer in: the proxy then sends logged_in_customer_id."""
        state = shop_or_404(shop)
        customer_id = request.args.get("customer_id", "")
        if not customer_id.isdigit():
            return send(endpoints.Answer(400, {"errors": "customer_id must be numeric"}))
        with emu.lock:
            if int(customer_id) not in state.customers:
                state.add_customer(int(customer_id))
        return_to = request.args.get("return_to", "")
        response = (redirect(return_to, code=302) if return_to.startswith(f"/{shop}/")
                    else jsonify({"logged_in_customer_id": customer_id}))
        response.set_cookie(CUSTOMER_COOKIE, customer_id, path=f"/{shop}", httponly=True,
                            samesite="Lax")
        return response

    @app.get("/<shop>/account/logout")
    def log_out(shop: str) -> Response:
        """Forget the storefront customer."""
        shop_or_404(shop)
        response = jsonify({"logged_in_customer_id": None})
        response.delete_cookie(CUSTOMER_COOKIE, path=f"/{shop}")
        return response

    @app.get("/_emulator/shops")
    def list_shops() -> Response:
        """The shops this emulator serves."""
        return jsonify(sorted(emu.shops))

    @app.get("/_emulator/state/<shop>")
    def shop_state(shop: str) -> Response:
        """Discounts, metafields, store credit and the call log of a shop."""
        shop_or_404(shop)
        return jsonify(emu.state(shop))

    @app.errorhandler(404)
    def not_found(_: Exception) -> Response:
        """Every unknown path answers like Shopify."""
        return _not_found()

    return app


def _not_found() -> Response:
    """Shopify's JSON 404."""
    response = jsonify({"errors": "Not Found"})
    response.status_code = 404
    return response


def _drop_connection() -> None:
    """Emulate a network failure: close the socket without answering."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
