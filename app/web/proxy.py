"""The storefront widget's backend, reached through Shopify's app proxy (/apps/loyalty/… unless
the merchant moved it; see app/web/proxy_path.py).

Every request is verified by its `signature` before anything else; the shopper is only ever
the signed `logged_in_customer_id`. Answers are JSON (never Liquid built from input).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from app.inputs import parse_id
from app.loyalty.bonuses import set_birthday
from app.loyalty.launch import NOT_LIVE_CODE, NOT_LIVE_MESSAGE
from app.loyalty.members import enrol, member_for_customer
from app.loyalty.program import ProgramSettings, current_settings
from app.loyalty.redemption import (
    ISSUED,
    PENDING,
    USED,
    redeem,
)
from app.loyalty.referrals import record_referral_share
from app.loyalty.rewards import shop_rewards
from app.loyalty.shops import installed_shop
from app.loyalty.widget import code_contract, member_view, program_view
from app.models import Reward, Shop
from app.pipeline import enqueue
from app.shopify.discounts import discount_issuer_for
from app.shopify.tokens import TokenUnavailable
from app.shopify.verify import verify_proxy_query
from app.web.context import clock, now, rate_limiter, runtime
from app.web.proxy_path import learn_proxy_path
from app.web.responses import error

log = logging.getLogger(__name__)
bp = Blueprint("proxy", __name__, url_prefix="/proxy")

# Per shopper: generous for reads, tight for writes (a redeem calls Shopify).
READS_PER_MINUTE = 60
WRITES_PER_MINUTE = 10


@bp.before_request
def verify_signature():  # noqa: ANN201 - Flask hook
    """Reject anything Shopify did not sign; remember the shop and the shopper."""
    check = verify_proxy_query(runtime().settings, request.query_string.decode("latin-1"),
                               clock())
    if not check.ok:
        log.warning("proxy request rejected", extra={"code": check.code})
        code = "invalid_signature" if check.code in ("invalid_signature",
                                                     "missing_signature") else check.code
        return error(code, "this request was not signed by Shopify", 401)
    customer_id = None if check.customer_id is None else parse_id(check.customer_id)
    if check.customer_id is not None and customer_id is None:
        # Signed, but no customer id of ours: nothing below could store or find it.
        return error("invalid_customer_id", "logged_in_customer_id is not a customer id", 401)
    g.shop_domain, g.customer_id = check.shop, customer_id
    is_write = request.method != "GET"
    key = f"proxy:{check.shop}:{check.customer_id or request.remote_addr}:{int(is_write)}"
    if not rate_limiter().allow(key, WRITES_PER_MINUTE if is_write else READS_PER_MINUTE, 60):
        return error("rate_limited", "too many requests; try again in a minute", 429)
    return None


def _installed_shop(session: Any) -> Shop | None:
    """The signed shop, if the app is installed there."""
    return installed_shop(session, g.shop_domain)


def _in_transaction(load: Callable[[Any], Any], action: Callable[[Any, Any, datetime], Any]
                    ) -> Any:
    """action(session, load(session), now) in one transaction; 404 when load finds no
    installed shop, or its program is still a draft."""
    moment = now()
    with runtime().db.transaction() as session:
        loaded = load(session)
        if loaded is None:
            return error("shop_not_installed", "the loyalty program is not active here", 404)
        shop = loaded.shop if isinstance(loaded, _Program) else loaded
        # The merchant may have moved the proxy: the signed path_prefix says where it is now.
        learn_proxy_path(shop, request.args.getlist("path_prefix"))
        if not shop.is_live:
            return not_live()
        return action(session, loaded, moment)


def not_live() -> Any:
    """The answer to a shopper while the merchant has not launched the program: the widget
    shows nothing (app/loyalty/launch.py)."""
    return error(NOT_LIVE_CODE, NOT_LIVE_MESSAGE, 404)


def _with_shop(action: Callable[[Any, Shop, datetime], Any]) -> Any:
    """Run action(session, shop, now) in one transaction for the signed, installed shop."""
    return _in_transaction(_installed_shop, action)


@dataclass(frozen=True)
class _Program:
    """What every storefront read of one shop needs besides the shopper: loaded once, reused
    by this process for `storefront_cache_seconds`."""

    shop: Shop
    settings: ProgramSettings
    rewards: list[Reward]
    expires_at: float


def _program(session: Any) -> _Program | None:
    """The signed shop's program, from this process's short-lived copy when it is fresh.

    Three of a member read's seven statements were the shop row, its settings and its
    catalog, the same for every shopper of the shop (bench/storefront.py). A merchant's edit
    reaches the widget within the TTL; writes (redeem, birthday) always read the database.
    The copy is keyed by the signed shop domain and dropped when the shop is not installed.
    """
    ttl = runtime().settings.storefront_cache_seconds
    cache: dict[str, _Program] = current_app.extensions.setdefault("storefront_programs", {})
    clock = time.monotonic()
    cached = cache.get(g.shop_domain)
    if cached is not None and cached.expires_at > clock:
        return cached
    shop = _installed_shop(session)
    if shop is None:
        cache.pop(g.shop_domain, None)
        return None
    program = _Program(shop, current_settings(session, shop.id), shop_rewards(session, shop.id),
                       clock + ttl)
    if ttl > 0 and shop.is_live:
        # A draft is never kept: the launch shows on the storefront at once.
        cache[g.shop_domain] = program
    return program


def _read(action: Callable[[Any, _Program, datetime], Any]) -> Any:
    """Run a storefront read with the shop's program, in one transaction."""
    return _in_transaction(_program, action)


def _shopper(session: Any, shop: Shop, now: datetime) -> Any:
    """The logged-in shopper's member, enrolled on first sight (they are a customer)."""
    member = member_for_customer(session, shop, g.customer_id)
    return member or enrol(session, shop, now=now, customer_id=g.customer_id)


@bp.get("/", strict_slashes=False)
def connected():  # noqa: ANN201 - Flask view
    """The proxy's own address (`https://{shop}/apps/loyalty`, or wherever the merchant moved
    it): says the program answers here. Opening it after moving the proxy in Shopify's admin
    is enough for the widget to follow (the signed path_prefix is learned), in draft too."""
    with runtime().db.sessions() as session:
        shop = _installed_shop(session)
        if shop is not None:
            learn_proxy_path(shop, request.args.getlist("path_prefix"))
    return jsonify({"ok": True})


@bp.get("/program")
def program():  # noqa: ANN201 - Flask view
    """How to earn and redeem, for a visitor who is not logged in."""
    return _read(lambda s, p, now: jsonify(program_view(s, p.shop, p.settings, p.rewards)))


@bp.get("/member")
def member():  # noqa: ANN201 - Flask view
    """The logged-in shopper's balances, tier, rewards, referral link and activity."""
    if g.customer_id is None:
        return error("not_logged_in", "sign in to see your points", 401)

    def view(session: Any, program: _Program, now: datetime) -> Any:
        shopper = _shopper(session, program.shop, now)
        return jsonify(member_view(session, program.shop, shopper, program.settings, now,
                                   program.rewards))

    return _read(view)


@bp.post("/birthday")
def birthday():  # noqa: ANN201 - Flask view
    """Save the shopper's birthday (MM-DD or YYYY-MM-DD) for the birthday bonus."""
    if g.customer_id is None:
        return error("not_logged_in", "sign in to save your birthday", 401)
    body = request.get_json(silent=True)
    raw = body.get("birthday") if isinstance(body, dict) else None
    if not isinstance(raw, str):
        return error("invalid_birthday", "send {\"birthday\": \"MM-DD\"}", 400)

    def save(session: Any, shop: Shop, now: datetime) -> Any:
        shopper = _shopper(session, shop, now)
        set_birthday(session, shopper, raw, now)
        # The whole member view: the widget merges an answer's keys over what it shows.
        return jsonify(member_view(session, shop, shopper, current_settings(session, shop.id),
                                   now))

    return _with_shop(save)


@bp.post("/redeem")
def redeem_reward():  # noqa: ANN201 - Flask view
    """Spend points on a reward: a single-use code for this shopper, or the points back."""
    if g.customer_id is None:
        return error("not_logged_in", "sign in to use your rewards", 401)
    body = request.get_json(silent=True)
    reward_id = body.get("reward_id") if isinstance(body, dict) else None
    request_key = body.get("request_key") if isinstance(body, dict) else None
    if not isinstance(reward_id, int) or parse_id(reward_id) is None:
        return error("invalid_reward", "send {\"reward_id\": <id>}", 400)
    if request_key is not None and not isinstance(request_key, str):
        return error("invalid_request_key", "request_key is a string", 400)
    rt, moment = runtime(), now()
    with rt.db.transaction() as session:
        shop = _installed_shop(session)
        if shop is None:
            return error("shop_not_installed", "the loyalty program is not active here", 404)
        if not shop.is_live:
            return not_live()
        shop_id, member_id = shop.id, _shopper(session, shop, moment).id
    try:
        # The Shopify call happens between redeem's two transactions, never inside one.
        with discount_issuer_for(rt.db, shop_id, rt.settings, moment) as issuer:
            redemption = redeem(rt.db, shop_id, member_id, reward_id, issuer, moment,
                                request_key=request_key)
    except TokenUnavailable:
        # Shopify's side, not a rule: what it means here depends on the storefront.
        return error("unavailable", "rewards are paused for this shop; try again later", 503)
    if redemption.status == PENDING:
        # A repeated request key whose first request is still talking to Shopify: its points
        # are spent and its code is on the way, so neither "here is your code" nor "points back".
        return error("redemption_in_progress",
                     "your code is still being created; try again in a moment", 409)
    enqueue.enqueue(rt.queue, enqueue.sync_member_metafields(shop_id, member_id,
                                                             f"redeem-{redemption.id}"))
    with rt.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        reward = session.get(Reward, redemption.reward_id) if redemption.reward_id else None
        view = member_view(session, shop, _shopper(session, shop, moment),
                           current_settings(session, shop_id), moment)
    if redemption.status not in (ISSUED, USED):
        # Failed (or, for a repeated request key, voided since): the points are already back
        # (redeem_refund), so say so and show the restored balance.
        return jsonify({"error": "reward_not_issued", "points": view["points"],
                        "message": "Shopify could not create your code; your points are back"}
                       ), 502
    return jsonify({
        "redemption": code_contract(redemption.code, reward.title if reward else None),
        "points": view["points"], "rewards": view["rewards"], "codes": view["codes"],
        "activity": view["activity"],
    })


@bp.post("/share")
def record_share():  # noqa: ANN201 - Flask view
    """Count a referral link copied or shared: the first step of the merchant's referral funnel."""
    if g.customer_id is None:
        return error("not_logged_in", "sign in to share your link", 401)
    body = request.get_json(silent=True)
    via = body.get("via") if isinstance(body, dict) else None
    if via not in ("copy", "share"):
        return error("invalid_share", "send {\"via\": \"copy\" | \"share\"}", 400)

    def count(session: Any, shop: Shop, now: datetime) -> Any:
        shopper = _shopper(session, shop, now)
        record_referral_share(session, shop, shopper, via, now)
        return jsonify({"ok": True})

    return _with_shop(count)
