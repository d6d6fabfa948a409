"""What the emulated shop answers on OAuth and the Admin API, free of Flask.

- OAuth authorize and the access_token endpoint (code grant, token exchange, refresh):
  https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
  https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/token-exchange
  https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
- Admin GraphQL with calculated-cost throttling:
  https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
Every function runs under the emulator's lock and returns an Answer the web layer sends as is.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlparse

import jwt

from devstore import graphql
from devstore.admin_api import MUTATIONS, QUERIES, ApiContext
from devstore.signing import admin_host_param, oauth_query_hmac
from devstore.state import ApiCall, FailureRule, IssuedToken, ShopState

if TYPE_CHECKING:
    from devstore.emulator import ShopifyEmulator

INVALID_ACCESS_TOKEN = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"
ONLINE_TOKEN_TTL = 86399
CODE_TTL = 600
JWT_LEEWAY = 10


@dataclass
class Answer:
    """An HTTP answer: status, JSON (or text) body, headers; or a dropped connection."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False


def _oauth_error(status: int, error: str, description: str) -> Answer:
    """An OAuth error body: error code and description."""
    return Answer(status, {"error": error, "error_description": description})


def failure_answer(rule: FailureRule, cost: dict[str, Any] | None = None) -> Answer:
    """What an injected failure looks like on the wire."""
    headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
    if rule.kind == "network":
        return Answer(0, drop_connection=True)
    if rule.kind == "http_503":
        return Answer(503, {"errors": "Service Unavailable"}, headers)
    if rule.kind == "http_429":
        headers.setdefault("Retry-After", "1")
        return Answer(429, {"errors": "Too Many Requests"}, headers)
    if rule.kind == "throttled":
        return Answer(200, throttled_body(cost or {}))
    raise ValueError(f"failure kind {rule.kind!r} does not apply here")


def throttled_body(cost: dict[str, Any]) -> dict[str, Any]:
    """The THROTTLED error Shopify answers with HTTP 200."""
    return {"errors": [{"message": "Throttled",
                        "extensions": {"code": "THROTTLED",
                                       "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": {"cost": cost}}


# --- OAuth ------------------------------------------------------------------------------------

def authorize(emu: ShopifyEmulator, shop: ShopState, args: dict[str, list[str]]) -> Answer:
    """The merchant approves at once; 302 back to redirect_uri with a signed code."""
    client_id = _one(args, "client_id")
    redirect_uri = _one(args, "redirect_uri")
    if client_id != emu.client_id:
        return Answer(400, f"Oauth error invalid_request: Could not find Shopify API application "
                           f"with api_key {client_id}")
    base = emu.app_url.rstrip("/")
    if not redirect_uri or not (redirect_uri == base or redirect_uri.startswith(
            (base + "/", base + "?"))):
        return Answer(400, "Oauth error invalid_request: The redirect_uri is not whitelisted")
    now = emu.clock()
    scope = _one(args, "scope") or emu.scopes
    code = secrets.token_hex(16)
    shop.codes[code] = {"expires_at": now + CODE_TTL, "scope": scope,
                        "online": "per-user" in args.get("grant_options[]", [])}
    params = {"code": code, "host": admin_host_param(shop.domain), "shop": shop.domain,
              "timestamp": str(int(now))}
    if _one(args, "state") is not None:
        params["state"] = _one(args, "state") or ""
    params["hmac"] = oauth_query_hmac(params, emu.client_secret)
    params = dict(sorted(params.items()))  # Shopify sends them alphabetically
    separator = "&" if "?" in redirect_uri else "?"
    return Answer(302, "", {"Location": f"{redirect_uri}{separator}{urlencode(params)}"})


def _one(args: dict[str, list[str]], key: str) -> str | None:
    """The first value of a query parameter, if any."""
    values = args.get(key)
    return values[0] if values else None


def _truthy(value: Any) -> bool:
    """Whether a form/JSON flag means yes (1, true)."""
    return str(value).strip().lower() in {"1", "true", "yes"}


def access_token(emu: ShopifyEmulator, shop: ShopState, params: dict[str, Any]) -> Answer:
    """POST /admin/oauth/access_token: one of three grants, after the client credentials."""
    grant = str(params.get("grant_type") or ("authorization_code" if "code" in params else ""))
    rule = emu.take_failure(["oauth/access_token", grant],
                            kinds=("network", "http_503", "http_429"))
    if rule is not None:
        answer = failure_answer(rule)
    elif (params.get("client_id") != emu.client_id or not hmac.compare_digest(
            str(params.get("client_secret") or "").encode(), emu.client_secret.encode())):
        # OAuth 2.0 (RFC 6749 §5.2) invalid_client; shopifyapp maps it to "invalid_client".
        answer = _oauth_error(401, "invalid_client",
                              "Client authentication failed due to unknown client, no client "
                              "authentication included, or unsupported authentication method.")
    elif grant == "authorization_code":
        answer = _code_grant(emu, shop, params)
    elif grant == TOKEN_EXCHANGE:
        answer = _token_exchange(emu, shop, params)
    elif grant == "refresh_token":
        answer = _refresh(emu, shop, params)
    else:
        answer = _oauth_error(400, "unsupported_grant_type",
                              "The authorization grant type is not supported.")
    shop.token_requests.append({"at": emu.clock(), "grant_type": grant, "status": answer.status,
                                "error": (answer.body or {}).get("error")
                                if isinstance(answer.body, dict) else None})
    return answer


def _issue(emu: ShopifyEmulator, shop: ShopState, *, grant: str, scope: str, expiring: bool,
           online_user_id: str | None = None) -> tuple[IssuedToken, dict[str, Any]]:
    """Issue and remember a token; returns it and the response body."""
    now = emu.clock()
    if online_user_id is not None:
        token = IssuedToken("shpua_" + secrets.token_hex(16), scope, grant, now,
                            now + ONLINE_TOKEN_TTL, online_user_id=online_user_id)
        body = {"access_token": token.access_token, "scope": scope,
                "expires_in": ONLINE_TOKEN_TTL, "associated_user_scope": scope,
                "session": secrets.token_hex(16),
                "associated_user": {"id": int(online_user_id) if online_user_id.isdigit()
                                    else online_user_id, "first_name": "Store",
                                    "last_name": "Owner", "email": shop.email,
                                    "email_verified": True, "account_owner": True,
                                    "locale": "en", "collaborator": False}}
    elif expiring:
        token = IssuedToken("shpat_" + secrets.token_hex(16), scope, grant, now,
                            now + emu.access_token_ttl, "shprt_" + secrets.token_hex(16),
                            now + emu.refresh_token_ttl)
        body = {"access_token": token.access_token, "scope": scope,
                "expires_in": emu.access_token_ttl, "refresh_token": token.refresh_token,
                "refresh_token_expires_in": emu.refresh_token_ttl}
    else:
        token = IssuedToken("shpat_" + secrets.token_hex(16), scope, grant, now, None)
        body = {"access_token": token.access_token, "scope": scope}
    shop.tokens[token.access_token] = token
    if token.refresh_token:
        shop.refresh_tokens[token.refresh_token] = token
    shop.granted_scopes = scope
    return token, body


def _code_grant(emu: ShopifyEmulator, shop: ShopState, params: dict[str, Any]) -> Answer:
    """Trade a one-time authorization code for a token."""
    grant = shop.codes.pop(str(params.get("code")), None)
    if grant is None or grant["expires_at"] < emu.clock():
        return _oauth_error(400, "invalid_request",
                            "The authorization code was not found or was already used")
    _, body = _issue(emu, shop, grant="authorization_code", scope=grant["scope"],
                     expiring=_truthy(params.get("expiring", "0")),
                     online_user_id="1" if grant["online"] else None)
    return Answer(200, body)


def verify_id_token(emu: ShopifyEmulator, shop: ShopState, token: str) -> dict[str, Any] | None:
    """The admin session token's claims when Shopify would accept it for this shop."""
    try:
        claims = jwt.decode(token, emu.client_secret, algorithms=["HS256"],
                            audience=emu.client_id,
                            options={"verify_exp": False, "verify_nbf": False,
                                     "verify_iat": False,
                                     "require": ["exp", "nbf", "iat", "iss", "dest", "aud",
                                                 "sub", "jti", "sid"]})
    except jwt.PyJWTError:
        return None
    now = emu.clock()
    if not (claims["nbf"] - JWT_LEEWAY <= now <= claims["exp"] + JWT_LEEWAY):
        return None
    if (urlparse(str(claims["dest"])).hostname != shop.domain
            or claims["iss"] != f"https://{shop.domain}/admin"):
        return None
    return claims


def _token_exchange(emu: ShopifyEmulator, shop: ShopState, params: dict[str, Any]) -> Answer:
    """Trade a valid admin session token for an offline or online token."""
    requested = params.get("requested_token_type")
    if params.get("subject_token_type") != ID_TOKEN_TYPE or requested not in (
            OFFLINE_TOKEN_TYPE, ONLINE_TOKEN_TYPE):
        return _oauth_error(400, "invalid_request",
                            "subject_token_type or requested_token_type is not supported.")
    claims = verify_id_token(emu, shop, str(params.get("subject_token") or ""))
    if claims is None:
        return _oauth_error(400, "invalid_subject_token",
                            "The subject token is invalid, expired or was not issued for this "
                            "shop.")
    online = requested == ONLINE_TOKEN_TYPE
    _, body = _issue(emu, shop, grant="token_exchange", scope=shop.granted_scopes or emu.scopes,
                     expiring=_truthy(params.get("expiring", "0")),
                     online_user_id=str(claims["sub"]) if online else None)
    return Answer(200, body)


def _refresh(emu: ShopifyEmulator, shop: ShopState, params: dict[str, Any]) -> Answer:
    """Trade a refresh token for a new pair, retiring the used token."""
    presented = str(params.get("refresh_token") or "")
    previous = shop.refresh_tokens.get(presented)
    if previous is None or (previous.refresh_expires_at or 0) <= emu.clock():
        return _oauth_error(400, "invalid_grant",
                            "The refresh token is invalid, expired, or was already used.")
    token, body = _issue(emu, shop, grant="refresh_token", scope=previous.scope, expiring=True)
    token.replaces_refresh_token = presented
    if emu.keep_used_refresh_token:
        # shopify.dev changelog 2026-08-28: the used token stays valid until its replacement
        # is used; using the replacement retires it.
        if previous.replaces_refresh_token:
            shop.refresh_tokens.pop(previous.replaces_refresh_token, None)
    else:
        shop.refresh_tokens.pop(presented, None)
    return Answer(200, body)


# --- Admin GraphQL ----------------------------------------------------------------------------

def _cost(requested: int | None, actual: int | None, shop: ShopState) -> dict[str, Any]:
    """extensions.cost as Shopify reports it."""
    return {"requestedQueryCost": requested, "actualQueryCost": actual,
            "throttleStatus": shop.bucket.status()}


def admin_graphql(emu: ShopifyEmulator, shop: ShopState, access_token_header: str | None,
                  raw_body: bytes, api_version: str) -> Answer:
    """Authenticate, parse, apply failures and the leaky bucket, run, log."""
    now = emu.clock()
    call = ApiCall(at=now, operation_name=None, root_fields=[], query="", variables={},
                   status=0, outcome="", requested_cost=None, currently_available=None)
    answer = _run_graphql(emu, shop, access_token_header, raw_body, now, call)
    answer.headers.setdefault("X-Shopify-API-Version", api_version)
    call.status = answer.status
    call.currently_available = round(shop.bucket.currently_available, 3)
    shop.calls.append(call)
    return answer


def _run_graphql(emu: ShopifyEmulator, shop: ShopState, access_token_header: str | None,
                 raw_body: bytes, now: float, call: ApiCall) -> Answer:
    """The GraphQL pipeline, filling in the call log entry as it goes."""
    token = shop.tokens.get(access_token_header or "")
    if token is None or not token.active(now):
        call.outcome = "unauthorized"
        return Answer(401, INVALID_ACCESS_TOKEN)
    try:
        body = json.loads(raw_body or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        call.outcome = "bad_request"
        return Answer(400, {"errors": {"query": "Required parameter missing or invalid"}})
    variables = body.get("variables") or {}
    call.query = body["query"]
    if not isinstance(variables, dict):
        call.outcome = "graphql_errors"
        return Answer(200, {"errors": [{"message": "Variables must be a JSON object"}]})
    call.variables = variables
    try:
        doc = graphql.parse(body["query"])
        op = doc.operation(body.get("operationName"))
        variables = {**{k: graphql.resolve(v, {}) for k, v in op.variable_defaults.items()},
                     **variables}
        roots = graphql.collect_fields(op.selections, None, doc, variables)
        requested = graphql.requested_cost(op, doc, variables)
    except graphql.GraphQLError as exc:
        call.outcome = "graphql_errors"
        return Answer(200, {"errors": [exc.as_dict()]})
    call.operation_name = op.name
    call.root_fields = [f.name for f in roots]
    call.requested_cost = requested

    forced: set[str] = set()
    rule = emu.take_failure([op.name, *call.root_fields])
    if rule is not None:
        call.outcome = rule.kind
        if rule.kind != "user_error":
            shop.bucket.refill(now)
            return failure_answer(rule, _cost(requested, None, shop))
        forced = set(call.root_fields)

    table = MUTATIONS if op.kind == "mutation" else QUERIES
    root_type = "Mutation" if op.kind == "mutation" else "QueryRoot"
    for fld in roots:
        if fld.name not in table:
            call.outcome = "graphql_errors"
            return Answer(200, {"errors": [graphql.GraphQLError(
                f"Field '{fld.name}' doesn't exist on type '{root_type}'",
                line=fld.line, column=fld.column, path=[op.kind, fld.name],
                extensions={"code": "undefinedField", "typeName": root_type,
                            "fieldName": fld.name}).as_dict()]})

    shop.bucket.refill(now)
    if shop.bucket.currently_available < requested:
        call.outcome = "throttled"
        return Answer(200, throttled_body(_cost(requested, None, shop)))
    shop.bucket.currently_available -= requested

    ctx = ApiContext(shop=shop, scopes=frozenset(s.strip() for s in token.scope.split(",")
                                                  if s.strip()),
                     app_id=emu.app_id, client_id=emu.client_id, now=now,
                     forced_user_errors=forced, bulk=emu.bulk,
                     base_url=emu.base_url if emu.running else "")
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    commits = []
    try:
        for fld in roots:
            scope, resolver = table[fld.name]
            if scope is not None and not ctx.has_scope(scope):
                data[fld.key] = None
                errors.append(graphql.GraphQLError(
                    f"Access denied for {fld.name} field. Required access: `{scope}` access "
                    f"scope.", line=fld.line, column=fld.column, path=[fld.key],
                    extensions={"code": "ACCESS_DENIED",
                                "documentation": "https://shopify.dev/api/usage/access-scopes",
                                "requiredAccess": f"`{scope}` access scope."}).as_dict())
                continue
            args = graphql.resolve(fld.args, variables)
            if op.kind == "mutation":
                payload, commit = resolver(ctx, args)
                if commit is not None:
                    commits.append(commit)
            else:
                payload = resolver(ctx, args)
            data[fld.key] = graphql.select(payload, fld.selections, doc, variables, [fld.key])
            if fld.name in forced and op.kind != "mutation":
                data[fld.key] = None
                errors.append({"message": "Internal error. Looks like something went wrong on "
                                          "our end.",
                               "extensions": {"code": "INTERNAL_SERVER_ERROR"}})
    except graphql.GraphQLError as exc:
        # Shopify validates the whole document before running it: nothing is written.
        shop.bucket.currently_available += requested
        call.outcome = "graphql_errors"
        return Answer(200, {"errors": [exc.as_dict()]})
    for commit in commits:
        commit()
    call.outcome = "user_error" if forced else ("errors" if errors else "ok")
    response: dict[str, Any] = {"data": data}
    if errors:
        response["errors"] = errors
    response["extensions"] = {"cost": _cost(requested, requested, shop)}
    return Answer(200, response)
