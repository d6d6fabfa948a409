"""The kinds of reward points buy: one `RewardKind` per kind, everything about it in one place.

A kind says what a merchant calls it, the title a shopper reads, which values it accepts, how
it stacks with the shop's other discounts, and which call of the Shopify port
(app/loyalty/issuing.py, implemented by app/pipeline/discounts.py) makes it and finds it again
after a lost answer. The catalog, redemption and the admin's rewards page all read it here.
Plain Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from app.i18n import Language
from app.loyalty.issuing import CombinesWith, DiscountIssuer, IssueRequest
from app.loyalty.labels import money_label, number_label

# An amount a reward may be worth, at most (in the shop's currency).
MAX_AMOUNT = Decimal(10**6)


def _discount_terms(req: IssueRequest, combines_with: CombinesWith) -> dict[str, object]:
    """The arguments every discount code of a redemption shares."""
    return {
        "title": req.title, "code": req.code, "customer_gid": req.customer_gid,
        "starts_at": req.created_at, "ends_at": None, "min_subtotal": req.min_subtotal,
        "combines_with": combines_with,
        # Single use by the one customer it was bought for.
        "usage_limit": 1, "applies_once_per_customer": True,
    }


def _stacks_as_order_discount(combines: bool) -> CombinesWith:
    """An order or product discount: with a shipping reward always, with the shop's other
    discounts only when the merchant says so."""
    return CombinesWith(order_discounts=combines, product_discounts=combines,
                        shipping_discounts=True)


def _by_code(issuer: DiscountIssuer, req: IssueRequest) -> str | None:
    """The discount an unanswered attempt created, found by its code."""
    return issuer.find_discount(req.code)


@dataclass(frozen=True)
class RewardKind:
    """One kind of reward."""

    name: str
    # What the merchant picks in the catalog's Type field.
    label: str
    # The title a shopper reads, from the value and the shop's currency: '$5 off'.
    title: Callable[[Decimal, str], str]
    # Why a value cannot be saved for this kind, or None when it can.
    value_problem: Callable[[Decimal], str | None]
    # Makes the reward through the Shopify port; Shopify's id of what was made.
    issue: Callable[[DiscountIssuer, IssueRequest], str]
    # How it stacks with the shop's other discounts, given the merchant's `combines`.
    combinations: Callable[[bool], CombinesWith] = _stacks_as_order_discount
    # What an earlier attempt whose answer was lost made, if anything.
    find_issued: Callable[[DiscountIssuer, IssueRequest], str | None] = _by_code
    # False for a kind with no amount (stored as 0, whatever the form sent).
    has_value: bool = True
    # The class of Shopify discount its code is (order, product or shipping), or None for a
    # kind that makes no code: what a cart compares with the codes already on it.
    discount_class: str | None = "order"
    # The same title in a shopper's language, worded by the catalogs (app/locales/*.json,
    # `rewards.<name>`): '5 € de réduction'.
    title_in: Callable[[Language, Decimal, str], str] = field(kw_only=True)

    def stored_value(self, value: Decimal | str | int) -> Decimal:
        """The value kept on the reward row."""
        return Decimal(str(value)) if self.has_value else Decimal(0)


def _positive_amount(amount: Decimal) -> str | None:
    return None if Decimal(0) < amount <= MAX_AMOUNT else "must be more than 0"


def _percentage(amount: Decimal) -> str | None:
    return None if Decimal(0) < amount <= 100 else "must be a percentage above 0 and at most 100"


def _issue_amount_off(issuer: DiscountIssuer, req: IssueRequest) -> str:
    terms = _discount_terms(req, _stacks_as_order_discount(req.combines))
    return issuer.create_basic_discount(amount=req.value, percentage=None, **terms)


def _issue_percent_off(issuer: DiscountIssuer, req: IssueRequest) -> str:
    terms = _discount_terms(req, _stacks_as_order_discount(req.combines))
    # Shopify takes a fraction: 0.1 is 10 %.
    return issuer.create_basic_discount(amount=None, percentage=req.value / 100, **terms)


def _free_shipping_stacking(combines: bool) -> CombinesWith:
    """A shipping reward stacks with order rewards always (different classes, one each per
    checkout); with the shop's product discounts only when the merchant says so."""
    return CombinesWith(order_discounts=True, product_discounts=combines,
                        shipping_discounts=False)


def _issue_free_shipping(issuer: DiscountIssuer, req: IssueRequest) -> str:
    terms = _discount_terms(req, _free_shipping_stacking(req.combines))
    return issuer.create_free_shipping_discount(**terms)


def _issue_store_credit(issuer: DiscountIssuer, req: IssueRequest) -> str:
    return issuer.credit_store_credit(customer_gid=req.customer_gid, amount=req.value,
                                      currency=req.currency)


def _find_store_credit(issuer: DiscountIssuer, req: IssueRequest) -> str | None:
    # storeCreditAccountCredit has no code: the credit is recognised by amount and time.
    return issuer.find_store_credit(customer_gid=req.customer_gid, amount=req.value,
                                    currency=req.currency, since=req.created_at)


# Every kind, in the order the catalog's Type field offers them.
KINDS: dict[str, RewardKind] = {kind.name: kind for kind in (
    RewardKind("amount_off", "Amount off", lambda v, c: f"{money_label(v, c)} off",
               _positive_amount, _issue_amount_off,
               title_in=lambda lang, v, c: lang.t("rewards.amount_off",
                                                  amount=lang.price(v, c))),
    RewardKind("percent_off", "Percent off", lambda v, c: f"{number_label(v)}% off",
               _percentage, _issue_percent_off,
               title_in=lambda lang, v, c: lang.t("rewards.percent_off",
                                                  percent=lang.percent(v))),
    RewardKind("free_shipping", "Free shipping", lambda v, c: "Free shipping",
               lambda v: None, _issue_free_shipping, combinations=_free_shipping_stacking,
               has_value=False, discount_class="shipping",
               title_in=lambda lang, v, c: lang.t("rewards.free_shipping")),
    RewardKind("store_credit", "Store credit", lambda v, c: f"{money_label(v, c)} store credit",
               _positive_amount, _issue_store_credit, find_issued=_find_store_credit,
               discount_class=None,
               title_in=lambda lang, v, c: lang.t("rewards.store_credit",
                                                  amount=lang.price(v, c))),
)}

REWARD_KINDS = tuple(KINDS)


def stacking(kind: str, combines: bool) -> dict[str, object] | None:
    """How a reward's code stacks, as a cart sees it: its own discount class and the classes it
    combines with (Shopify applies two codes only when each combines with the other's class:
    https://help.shopify.com/en/manual/discounts/combining-discounts). None when the kind
    makes no code."""
    reward_kind = KINDS[kind]
    if reward_kind.discount_class is None:
        return None
    allowed = reward_kind.combinations(combines)
    return {"class": reward_kind.discount_class,
            "combines_with": [name for name, ok in (
                ("order", allowed.order_discounts), ("product", allowed.product_discounts),
                ("shipping", allowed.shipping_discounts)) if ok]}
