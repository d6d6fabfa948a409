"""What a signed-in shopper can do with their membership, whichever surface verified them.

The storefront widget (app proxy, `logged_in_customer_id`) and the customer account page
(session token `sub`) both redeem rewards and save a birthday here, so the two answer with the
same contract, the same errors and the same rules. Each caller has verified the shop and the
customer and applied its rate limits before calling.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from flask import Response, jsonify
from sqlalchemy import bindparam, select

from app.i18n import Language
from app.inputs import parse_id
from app.loyalty.bonuses import BirthdayLocked, InvalidBirthday, set_birthday
from app.loyalty.launch import NOT_LIVE_CODE, NOT_LIVE_MESSAGE
from app.loyalty.ledger import InsufficientPoints
from app.loyalty.members import enrol, member_for_customer
from app.loyalty.program import current_settings
from app.loyalty.redemption import (
    ISSUED,
    PENDING,
    USED,
    CannotVoid,
    NotAMember,
    RewardUnavailable,
    cancel_redemption,
    redeem,
)
from app.loyalty.widget import ENGLISH, code_contract, member_view
from app.loyalty.wording import shown_reward_title
from app.models import Member, Redemption, Reward, Shop
from app.pipeline import enqueue
from app.pipeline.discounts import discount_issuer_for
from app.shopify.graphql import ShopifyError
from app.shopify.tokens import TokenUnavailable
from app.web.context import now, runtime
from app.web.responses import error

Answer = Response | tuple[Response, int]
# Shapes an answer before it is sent (the account page makes code links absolute).
Finish = Callable[[dict[str, Any], Shop], dict[str, Any]]
# The refusal for a member the surface keeps out (the storefront's holdout), or None.
Admit = Callable[[Member], Answer | None]
# Told of the installed shop before the launch check (the storefront learns its proxy path).
Seen = Callable[[Shop], None]

_SHOP_BY_DOMAIN = select(Shop).where(Shop.domain == bindparam("domain"))


def installed_shop(session: Any, domain: str) -> Shop | None:
    """The shop, if the app is installed there."""
    shop = session.execute(_SHOP_BY_DOMAIN, {"domain": domain}).scalar_one_or_none()
    return shop if shop is not None and shop.is_installed else None


def not_live() -> Answer:
    """The answer to a shopper while the merchant has not launched the program: every
    surface then shows nothing (app/loyalty/launch.py)."""
    return error(NOT_LIVE_CODE, NOT_LIVE_MESSAGE, 404)


def not_installed() -> Answer:
    """The answer for a shop without the app."""
    return error("shop_not_installed", "the loyalty program is not active here", 404)


def _everyone(member: Member) -> Answer | None:
    return None


def _unseen(shop: Shop) -> None:
    return None


def live_shop(session: Any, domain: str, seen: Seen = _unseen) -> Shop | Answer:
    """The shop, if the app is installed there and its program launched; else the answer."""
    shop = installed_shop(session, domain)
    if shop is None:
        return not_installed()
    seen(shop)
    if not shop.is_live:
        return not_live()
    return shop


class Admitted(NamedTuple):
    """A live shop and the signed-in customer's member, whom the surface lets in."""

    shop: Shop
    member: Member


def admitted_shopper(session: Any, shop_domain: str, customer_id: int, moment: datetime,
                     admit: Admit, seen: Seen = _unseen) -> Admitted | Answer:
    """The live shop and the signed-in customer's member, unless the surface keeps them out."""
    shop = live_shop(session, shop_domain, seen)
    if not isinstance(shop, Shop):
        return shop
    member = shopper(session, shop, customer_id, moment)
    refusal = admit(member)
    return Admitted(shop, member) if refusal is None else refusal


def shopper(session: Any, shop: Shop, customer_id: int, moment: datetime) -> Member:
    """The signed-in customer's member, enrolled on first sight (they are a customer)."""
    member = member_for_customer(session, shop, customer_id)
    return member or enrol(session, shop, now=moment, customer_id=customer_id)


def _as_is(view: dict[str, Any], shop: Shop) -> dict[str, Any]:
    return view


def member_answer(shop_domain: str, customer_id: int, finish: Finish = _as_is, *,
                  lang: Language = ENGLISH) -> Answer:
    """GET …/member: the signed-in customer's member view in their language, shaped by the
    surface."""
    moment = now()
    with runtime().db.transaction() as session:
        shop = live_shop(session, shop_domain)
        if not isinstance(shop, Shop):
            return shop
        view = member_view(session, shop, shopper(session, shop, customer_id, moment),
                           current_settings(session, shop.id), moment, lang=lang)
        return jsonify(finish(view, shop))


def save_birthday(shop_domain: str, customer_id: int, body: Any,
                  finish: Finish = _as_is, *, lang: Language = ENGLISH,
                  admit: Admit = _everyone, seen: Seen = _unseen) -> Answer:
    """POST …/birthday `{"birthday": "MM-DD"}`: the whole member view, or why not."""
    raw = body.get("birthday") if isinstance(body, dict) else None
    if not isinstance(raw, str):
        return error("invalid_birthday", "send {\"birthday\": \"MM-DD\"}", 400)
    moment = now()
    with runtime().db.transaction() as session:
        found = admitted_shopper(session, shop_domain, customer_id, moment, admit, seen)
        if not isinstance(found, Admitted):
            return found
        shop, member = found
        try:
            set_birthday(session, member, raw, moment)
        except InvalidBirthday as exc:
            return error("invalid_birthday", str(exc), 400)
        except BirthdayLocked:
            return error("birthday_locked", "your birthday can be changed once a year", 409)
        # The whole member view: a surface merges an answer's keys over what it shows.
        return jsonify(finish(member_view(session, shop, member,
                                          current_settings(session, shop.id), moment, lang=lang),
                              shop))


def redeem_reward(shop_domain: str, customer_id: int, body: Any,
                  finish: Finish = _as_is, *, lang: Language = ENGLISH,
                  admit: Admit = _everyone) -> Answer:
    """POST …/redeem `{"reward_id", "request_key"?}`: a single-use code, or the points back."""
    reward_id = body.get("reward_id") if isinstance(body, dict) else None
    request_key = body.get("request_key") if isinstance(body, dict) else None
    if not isinstance(reward_id, int) or parse_id(reward_id) is None:
        return error("invalid_reward", "send {\"reward_id\": <id>}", 400)
    if request_key is not None and not isinstance(request_key, str):
        return error("invalid_request_key", "request_key is a string", 400)
    rt, moment = runtime(), now()
    with rt.db.transaction() as session:
        found = admitted_shopper(session, shop_domain, customer_id, moment, admit)
        if not isinstance(found, Admitted):
            return found
        shop, member = found
        shop_id, member_id = shop.id, member.id
    try:
        # The Shopify call happens between redeem's two transactions, never inside one.
        with discount_issuer_for(rt.db, shop_id, rt.settings, moment) as issuer:
            redemption = redeem(rt.db, shop_id, member_id, reward_id, issuer, moment,
                                request_key=request_key)
    except InsufficientPoints as exc:
        return error("insufficient_points",
                     f"this reward needs {exc.needed} points; you have {exc.available}", 409)
    except (RewardUnavailable, NotAMember):
        return error("reward_unavailable", "this reward is not available to you", 409)
    except TokenUnavailable:
        return error("unavailable", "rewards are paused for this shop; try again later", 503)
    except ValueError as exc:
        # redeem() refuses a malformed request key before it reads or spends anything.
        if request_key is None:
            raise
        return error("invalid_request_key", str(exc), 400)
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
        view = finish(member_view(session, shop, shopper(session, shop, customer_id, moment),
                                  current_settings(session, shop_id), moment, lang=lang), shop)
        title = reward and shown_reward_title(lang, reward.title, reward.kind, reward.value,
                                              shop.currency)
    if redemption.status not in (ISSUED, USED):
        # Failed (or, for a repeated request key, voided since): the points are already back
        # (redeem_refund), so say so and show the restored balance.
        return jsonify({"error": "reward_not_issued", "points": view["points"],
                        "message": "Shopify could not create your code; your points are back"}
                       ), 502
    issued = finish({"codes": [code_contract(redemption.code, title)]}, shop)
    return jsonify({
        "redemption": issued["codes"][0],
        "points": view["points"], "rewards": view["rewards"], "codes": view["codes"],
        "activity": view["activity"],
    })


def return_unapplied_code(shop_domain: str, customer_id: int, body: Any,
                          finish: Finish = _as_is, *, lang: Language = ENGLISH) -> Answer:
    """POST …/return `{"code"}`: a code the surface could not apply is deleted in Shopify and
    its points come back, so no points are spent for a code that was not applied. Only the
    member's own issued, unused code can be returned; returning it again changes nothing."""
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or not 1 <= len(code) <= 64:
        return error("invalid_code", "send {\"code\": \"<reward code>\"}", 400)
    rt, moment = runtime(), now()
    with rt.db.transaction() as session:
        shop = installed_shop(session, shop_domain)
        if shop is None:
            return not_installed()
        member = member_for_customer(session, shop, customer_id)
        redemption = None if member is None else session.execute(select(Redemption).where(
            Redemption.shop_id == shop.id, Redemption.member_id == member.id,
            Redemption.code == code.strip().upper())).scalar_one_or_none()
        if redemption is None:
            return error("code_not_found", "no such reward code of yours", 404)
        shop_id, member_id, redemption_id = shop.id, member.id, redemption.id
    try:
        with discount_issuer_for(rt.db, shop_id, rt.settings, moment) as issuer:
            cancel_redemption(rt.db, shop_id, redemption_id, issuer, moment, actor="customer")
    except CannotVoid as exc:
        # Used by an order already (or store credit): its points stay spent.
        return error("code_not_returnable", f"this code cannot be returned ({exc})", 409)
    except (TokenUnavailable, ShopifyError):
        # The discount could not be deleted: nothing changed here, and asking again is safe.
        return error("unavailable", "Shopify did not answer; try again in a moment", 503)
    enqueue.enqueue(rt.queue, enqueue.sync_member_metafields(shop_id, member_id,
                                                             f"return-{redemption_id}"))
    with rt.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        view = finish(member_view(session, shop, session.get(Member, member_id),
                                  current_settings(session, shop_id), moment, lang=lang), shop)
    return jsonify({"returned": code, "points": view["points"], "rewards": view["rewards"],
                    "codes": view["codes"], "activity": view["activity"]})
