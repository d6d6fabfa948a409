"""The plan and this period's count; choosing a paid plan goes through Shopify's approval."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from app.loyalty.billing import (
    PLANS,
    BillingStatus,
    activate,
    billing_status,
    choose,
)
from app.models import BillingSubscription, Shop
from app.shopify.billing import active_subscription_ids, create_subscription, subscription_input
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient, ShopifyError
from app.shopify.tokens import access_token_for
from app.web.admin.embedded import (
    actor,
    database,
    json_action,
    now,
    render_page,
    settings,
)
from app.web.auth import require_admin_session
from app.web.responses import error

bp = Blueprint("admin_billing", __name__)

# Shopify bills apps in the partner's currency; the plans are priced in US dollars.
BILLING_CURRENCY = "USD"


def _client(shop: Shop, http) -> AdminClient:  # noqa: ANN001 - an httpx client
    """The shop's Admin API (its token read, refreshed if due, in a session of its own)."""
    with database().sessions() as session:
        token = access_token_for(session, shop.domain, now(), settings=settings(), http=http)
    return AdminClient(shop.domain, token, settings=settings(), http=http)


def _confirm_return(charge_id: str) -> str | None:
    """Back from Shopify's confirmation page: activate the subscription if Shopify says it is
    active (the merchant may have declined). The outcome in words, None if not ours."""
    if not charge_id.isdigit():
        return None
    subscription_gid = f"gid://shopify/AppSubscription/{charge_id}"
    with database().sessions() as session:
        mine = session.execute(select(BillingSubscription.id).where(
            BillingSubscription.shop_id == g.shop.id,
            BillingSubscription.shopify_subscription_id == subscription_gid)).scalar_one_or_none()
    if mine is None:
        return None
    with shop_http_client(settings()) as http:
        active = subscription_gid in active_subscription_ids(_client(g.shop, http))
    with database().transaction() as session:
        subscription = session.get(BillingSubscription, mine, with_for_update=True)
        if active:
            activate(session, subscription, now())
            return "approved"
        if subscription.status == "PENDING":
            subscription.status = "DECLINED"
        return "declined"


def billing_notice() -> BillingStatus | None:
    """This period's status when it calls for the banner every admin page shows (passing a
    plan's limit, or a cap reached); None otherwise or outside a shop's admin."""
    shop = getattr(g, "shop", None)
    if shop is None:
        return None
    with database().sessions() as session:
        status = billing_status(session, shop, now())
    return status if status.banner else None


@bp.app_context_processor
def _billing_notice() -> dict[str, object]:
    """base.html calls it once per page, after the view has loaded the shop."""
    return {"billing_notice": billing_notice}


@bp.get("/admin/billing")
@require_admin_session
def billing_page():  # noqa: ANN201 - Flask view
    """The plan, this period's count of orders that earned points, and the plans on offer."""
    returned = None
    if request.args.get("charge_id"):
        try:
            returned = _confirm_return(request.args["charge_id"])
        except ShopifyError:
            returned = "unconfirmed"
    with database().sessions() as session:
        status = billing_status(session, session.get(Shop, g.shop.id), now())
    return render_page("admin/billing.html", title="Plan and billing", nav="billing",
                       status=status, plans=list(PLANS.values()), returned=returned,
                       currency=BILLING_CURRENCY)


@bp.post("/admin/billing/subscribe")
@json_action
def subscribe(body: dict[str, Any]):  # noqa: ANN201 - Flask view
    """Ask Shopify for the chosen plan; the answer's confirmation URL is where the merchant
    approves it (the page opens it in the top window, as Shopify requires)."""
    # A plan that cannot be asked for is a BillingRefused: 422 naming its field.
    plan, cap = choose(body.get("plan"), body.get("capped_amount"))
    return_url = (f"https://{g.shop.domain}/admin/apps/{settings().shopify_api_key}"
                  f"/admin/billing")
    variables = subscription_input(
        name=f"Loyalty Loop {plan.name}", monthly_price=plan.monthly_price, capped_amount=cap,
        terms=plan.terms(BILLING_CURRENCY), currency=BILLING_CURRENCY, return_url=return_url,
        test=settings().env != "production")
    try:
        with shop_http_client(settings()) as http:
            created = create_subscription(_client(g.shop, http), variables)
    except ShopifyError as exc:
        return error("billing_unavailable", f"Shopify did not create the subscription "
                                            f"({exc.code})", 502)
    with database().transaction() as session:
        session.add(BillingSubscription(
            shop_id=g.shop.id, plan=plan.key, status=created.status,
            shopify_subscription_id=created.id, usage_line_item_id=created.usage_line_item_id,
            capped_amount=cap, currency=BILLING_CURRENCY, test=bool(variables["test"]),
            confirmation_url=created.confirmation_url, requested_by=actor(), created_at=now()))
    return jsonify({"message": "Approve the plan in Shopify",
                    "confirmation_url": created.confirmation_url,
                    "redirect_top": created.confirmation_url})
