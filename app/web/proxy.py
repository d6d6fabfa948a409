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

from app.i18n import Language, shopper_language
from app.inputs import parse_id
from app.loyalty.experiments import RewardPriceTest, member_reward_costs, reward_price_test
from app.loyalty.holdout import NOT_IN_PROGRAM_CODE, NOT_IN_PROGRAM_MESSAGE, is_held_out
from app.loyalty.launch import NOT_LIVE_CODE, NOT_LIVE_MESSAGE
from app.loyalty.members import enrol, member_for_customer
from app.loyalty.program import ProgramSettings, current_settings
from app.loyalty.referrals import record_referral_share
from app.loyalty.rewards import shop_rewards
from app.loyalty.shops import installed_shop
from app.loyalty.widget import member_view, program_view
from app.models import Reward, Shop
from app.pipeline import enqueue
from app.shopify.verify import verify_proxy_query
from app.web.context import clock, now, rate_limiter, runtime
from app.web.member_actions import redeem_reward, return_unapplied_code, save_birthday
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


def shopper_lang() -> Language:
    """The shopper's language: the storefront's `locale` (Liquid's request.locale.iso_code),
    which the blocks add to every call because Shopify forwards no locale through the app
    proxy (shop, logged_in_customer_id, path_prefix, timestamp, signature:
    https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies).
    It is signed with the rest of the query. A code without a catalog reads as its language,
    else English (app/i18n)."""
    return shopper_language(request.args.get("locale"))


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
    # The running A/B test of a reward's price, if any: a member's arm then costs one lookup.
    reward_test: RewardPriceTest | None
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
                       reward_price_test(session, shop.id), clock + ttl)
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


def _in_program(member: Any) -> Any:
    """The refusal for a customer the holdout keeps out, or None."""
    return not_in_program() if is_held_out(member) else None


def not_in_program() -> Any:
    """The answer to a customer the holdout keeps out of the program: the widget shows nothing
    (app/loyalty/holdout.py). Their enrolment, and so their assignment, is committed."""
    return error(NOT_IN_PROGRAM_CODE, NOT_IN_PROGRAM_MESSAGE, 404)


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
    return _read(lambda s, p, now: jsonify(program_view(s, p.shop, p.settings, p.rewards,
                                                        shopper_lang())))


@bp.get("/member")
def member():  # noqa: ANN201 - Flask view
    """The logged-in shopper's balances, tier, rewards, referral link and activity."""
    if g.customer_id is None:
        return error("not_logged_in", "sign in to see your points", 401)

    def view(session: Any, program: _Program, now: datetime) -> Any:
        shopper = _shopper(session, program.shop, now)
        if is_held_out(shopper):
            if shopper.created_at == now:
                # First seen right now: the launcher hides from the next page on.
                g.newly_held_out = (program.shop.id, shopper.id)
            return not_in_program()
        return jsonify(member_view(
            session, program.shop, shopper, program.settings, now, program.rewards,
            shopper_lang(),
            reward_costs=member_reward_costs(session, shopper, program.reward_test)))

    answer = _read(view)
    if g.get("newly_held_out"):
        shop_id, member_id = g.newly_held_out
        enqueue.enqueue(runtime().queue, enqueue.sync_member_metafields(shop_id, member_id,
                                                                        "held-out"))
    return answer


@bp.post("/birthday")
def birthday():  # noqa: ANN201 - Flask view
    """Save the shopper's birthday (MM-DD or YYYY-MM-DD) for the birthday bonus."""
    if g.customer_id is None:
        return error("not_logged_in", "sign in to save your birthday", 401)
    # The merchant may have moved the proxy: the signed path_prefix says where it is now.
    return save_birthday(g.shop_domain, g.customer_id, request.get_json(silent=True),
                         lang=shopper_lang(), admit=_in_program,
                         seen=lambda shop: learn_proxy_path(
                             shop, request.args.getlist("path_prefix")))


@bp.post("/redeem")
def redeem():  # noqa: ANN201 - Flask view
    """Spend points on a reward: a single-use code for this shopper, or the points back."""
    if g.customer_id is None:
        return error("not_logged_in", "sign in to use your rewards", 401)
    return redeem_reward(g.shop_domain, g.customer_id, request.get_json(silent=True),
                         lang=shopper_lang(), admit=_in_program)


@bp.post("/return")
def return_code():  # noqa: ANN201 - Flask view
    """The cart refused a code just redeemed: Shopify's discount is deleted and its points come
    back (the checkout block's /api/checkout/rewards/return, for the cart block). Only the
    shopper's own issued, unused code; asking again changes nothing."""
    if g.customer_id is None:
        return error("not_logged_in", "sign in to use your rewards", 401)
    return return_unapplied_code(g.shop_domain, g.customer_id, request.get_json(silent=True),
                                 lang=shopper_lang())


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
        if is_held_out(shopper):
            return not_in_program()
        record_referral_share(session, shop, shopper, via, now)
        return jsonify({"ok": True})

    return _with_shop(count)
