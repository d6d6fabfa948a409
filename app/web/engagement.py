"""Public pages an email links to: one-click unsubscribe, the review form, the survey, tracked
clicks and the optional open pixel; and the approved reviews for the storefront block.

No login: each link carries signed claims (app/engagement/links.py) naming the shop, member,
order and message; a link for one purpose cannot be used for another, and review and survey
links expire. The signed link is the capability, so a POST to it needs no other token.

A GET never unsubscribes anyone or casts a score: mail scanners and link previews fetch every
link of an email. The GET shows a confirmation form; the change is a POST, from that form or,
for unsubscribe, from a mail client's RFC 8058 one-click (`List-Unsubscribe-Post`), which POSTs
`List-Unsubscribe=One-Click` to the `List-Unsubscribe` URL.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request

from app.db import utcnow
from app.engagement import links
from app.engagement.links import LinkSigner
from app.engagement.preferences import (
    member_of_shop,
    record_click,
    record_open,
    resubscribe,
    unsubscribe,
)
from app.engagement.reviews import (
    InvalidReview,
    approved_reviews,
    reviewable_products,
    submit_review,
)
from app.engagement.surveys import InvalidAnswer, record_email_answer
from app.inputs import parse_id
from app.loyalty.launch import NOT_LIVE_CODE, NOT_LIVE_MESSAGE
from app.loyalty.shops import installed_shop
from app.messaging.dispatch import link_signer_for
from app.models import Shop
from app.pipeline import enqueue
from app.shopify.verify import verify_proxy_query
from app.web.context import clock, runtime
from app.web.responses import error

bp = Blueprint("engagement", __name__, url_prefix="/e")
reviews_proxy = Blueprint("engagement_reviews", __name__, url_prefix="/proxy")

_SCORES = {str(n) for n in range(11)}
# A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _now() -> datetime:
    """Naive UTC now; tests travel in time through app.extensions['engagement_clock']."""
    return current_app.extensions.get("engagement_clock", utcnow)()


def _signer() -> LinkSigner:
    """The link signer for this app's secret and URL."""
    return link_signer_for(runtime().settings)


def _claims(token: str, purpose: str) -> dict[str, Any] | None:
    """The token's claims if it is a valid link for this purpose."""
    return _signer().claims(token, purpose, _now())


def _invalid() -> tuple[str, int]:
    """The page for a link that is not ours, expired or for something that is gone."""
    return render_template("engagement/link_invalid.html"), 404


def _shop(session: Any, shop_id: int) -> Shop | None:
    """The shop, while it still has the app installed."""
    shop = session.get(Shop, shop_id)
    return shop if shop is not None and shop.is_installed else None


@bp.get("/unsubscribe/<token>")
def unsubscribe_confirmation(token: str) -> Any:
    """The email's unsubscribe link: a button that unsubscribes (a GET changes nothing)."""
    claims = _claims(token, links.UNSUBSCRIBE)
    if claims is None:
        return _invalid()
    with runtime().db.sessions() as session:
        shop = session.get(Shop, claims["s"])
        member = member_of_shop(session, claims["s"], claims["m"])
        if member is None or shop is None:
            return _invalid()
        template = ("engagement/unsubscribed.html" if member.unsubscribed_at is not None
                    else "engagement/unsubscribe_confirm.html")
        return render_template(template, shop=shop, token=token, email=member.email)


@bp.post("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> Any:
    """Unsubscribe at once: the confirmation's button, or a mail client's one-click POST."""
    claims = _claims(token, links.UNSUBSCRIBE)
    if claims is None:
        return _invalid()
    with runtime().db.transaction() as session:
        shop = session.get(Shop, claims["s"])
        member = unsubscribe(session, claims["s"], claims["m"], _now())
        if member is None or shop is None:
            return _invalid()
        return render_template("engagement/unsubscribed.html", shop=shop, token=token,
                               email=member.email)


@bp.post("/resubscribe/<token>")
def resubscribe_page(token: str) -> Any:
    """Subscribe again after an unsubscribe (the button on the unsubscribed page)."""
    claims = _claims(token, links.UNSUBSCRIBE)
    if claims is None:
        return _invalid()
    with runtime().db.transaction() as session:
        shop = session.get(Shop, claims["s"])
        member = resubscribe(session, claims["s"], claims["m"])
        if member is None or shop is None:
            return _invalid()
        return render_template("engagement/resubscribed.html", shop=shop, token=token)


@bp.route("/review/<token>", methods=["GET", "POST"])
def review_page(token: str) -> Any:
    """The review form for an order's products; a review earns its bonus once per product."""
    claims = _claims(token, links.REVIEW)
    if claims is None:
        return _invalid()
    now = _now()
    with runtime().db.transaction() as session:
        shop = _shop(session, claims["s"])
        member = member_of_shop(session, claims["s"], claims["m"]) if shop else None
        if member is None:
            return _invalid()
        record_click(session, claims["x"], now)
        problem, thanks, status = None, None, 200
        if request.method == "POST":
            try:
                receipt = submit_review(
                    session, member, order_id=int(claims["o"]),
                    product_id=parse_id(request.form.get("product_id")) or 0,
                    rating=request.form.get("rating"), body=request.form.get("body"), now=now)
                thanks = {"product": receipt.review.product_title, "bonus": receipt.bonus,
                          "again": not receipt.created}
            except InvalidReview as exc:
                problem, status = str(exc), 400
        products = reviewable_products(session, shop.id, member.id, int(claims["o"]))
        return render_template("engagement/review_form.html", shop=shop, member=member,
                               products=products, problem=problem, thanks=thanks,
                               token=token), status


@bp.route("/nps/<token>", methods=["GET", "POST"])
def survey_page(token: str) -> Any:
    """The survey. A score clicked in the email opens it with that score chosen; the answer
    counts when the shopper sends it (POST), with or without a comment."""
    claims = _claims(token, links.SURVEY)
    if claims is None:
        return _invalid()
    now = _now()
    with runtime().db.transaction() as session:
        shop = _shop(session, claims["s"])
        member = member_of_shop(session, claims["s"], claims["m"]) if shop else None
        if member is None:
            return _invalid()
        record_click(session, claims["x"], now)
        answer, problem, status, comment = None, None, 200, None
        chosen = _score_choice(request.args.get("score"))
        if request.method == "POST":
            chosen = _score_choice(request.form.get("score"))
            comment = (request.form.get("comment") or "").strip() or None
            try:
                # A blank comment keeps an earlier one: sending a score again from the email's
                # link does not erase what the shopper wrote before.
                answer = record_email_answer(
                    session, member, int(claims["o"]), request.form.get("score"), comment, now,
                    keep_comment=comment is None)
                if answer.alert is not None:
                    enqueue.after_commit(session, runtime().queue).wake([answer.alert])
            except InvalidAnswer as exc:
                problem, status = str(exc), 400
        return render_template("engagement/survey.html", shop=shop, member=member,
                               answer=answer, problem=problem, token=token, chosen=chosen,
                               commented=answer is not None and comment is not None,
                               scores=range(11)), status


def _score_choice(raw: str | None) -> int | None:
    """The score 0-10 a link or form names, for showing it chosen; None otherwise."""
    return int(raw) if raw in _SCORES else None


@bp.get("/c/<token>")
def tracked_click(token: str) -> Any:
    """Count the click, then go where the email's link pointed (signed: no open redirect)."""
    claims = _claims(token, links.CLICK)
    if claims is None or not str(claims.get("to", "")).startswith("https://"):
        return _invalid()
    with runtime().db.transaction() as session:
        record_click(session, claims["x"], _now())
    return redirect(claims["to"], code=302)


@bp.get("/o/<token>")
def tracked_open(token: str) -> Response:
    """The tracking pixel (only in emails of shops that switched it on)."""
    claims = _claims(token, links.OPEN)
    if claims is not None:
        with runtime().db.transaction() as session:
            record_open(session, claims["x"], _now())
    return Response(PIXEL, mimetype="image/gif", headers={"Cache-Control": "no-store"})


@reviews_proxy.get("/reviews")
def storefront_reviews() -> Any:
    """Approved reviews for the loyalty page block, through the app proxy (signed by Shopify)."""
    check = verify_proxy_query(runtime().settings, request.query_string.decode("latin-1"),
                               clock())
    if not check.ok:
        return error("invalid_signature", "this request was not signed by Shopify", 401)
    raw_product = request.args.get("product_id", "")
    product_id = parse_id(raw_product) if raw_product else None
    if raw_product and product_id is None:
        return error("invalid_product_id", "product_id must be a Shopify product id", 400)
    with runtime().db.sessions() as session:
        shop = installed_shop(session, check.shop)
        if shop is None:
            return error("shop_not_installed", "the loyalty program is not active here", 404)
        if not shop.is_live:
            return error(NOT_LIVE_CODE, NOT_LIVE_MESSAGE, 404)
        reviews = approved_reviews(session, shop.id, product_id=product_id)
    return jsonify({"reviews": reviews})
