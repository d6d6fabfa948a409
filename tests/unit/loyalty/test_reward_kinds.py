"""Every reward kind is one `RewardKind` in one registry, and everything that needs a kind
finds it there: the catalog's validation and titles, the admin's Type field, and the Shopify
port call that issues it (implemented by app/shopify/discounts.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from app.loyalty.issuing import CombinesWith, IssueRequest
from app.loyalty.program import DEFAULT_SETTINGS, ProgramSettings
from app.loyalty.reward_kinds import KINDS, REWARD_KINDS
from app.loyalty.rewards import DEFAULT_CATALOG, reward_title, validate_reward
from app.shopify.discounts import ShopifyDiscountIssuer

SETTINGS = ProgramSettings(version=0, data=DEFAULT_SETTINGS)
NAMES = sorted(KINDS)
PORT_CALLS = {"create_basic_discount", "create_free_shipping_discount", "credit_store_credit"}
LOOKUPS = {"find_discount", "find_store_credit"}


class RecordingIssuer:
    """The port, recording which call each kind makes and with what."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> str:
            self.calls.append((name, kwargs))
            return f"gid://shopify/Made/{len(self.calls)}"
        return call


def _request(kind: str) -> IssueRequest:
    return IssueRequest(redemption_id=1, kind=kind, code="LOOP-7K3Q", title="A reward",
                        customer_gid="gid://shopify/Customer/1", value=Decimal(10),
                        min_subtotal=None, combines=False, currency="USD",
                        created_at=datetime(2026, 12, 1, 9, 0))


def test_the_registry_is_the_list_of_kinds() -> None:
    assert REWARD_KINDS == tuple(KINDS) == (
        "amount_off", "percent_off", "free_shipping", "store_credit")
    assert {t.kind for t in DEFAULT_CATALOG} <= set(KINDS)


@pytest.mark.parametrize("name", NAMES)
def test_a_kind_declares_everything_it_needs(name: str) -> None:
    kind = KINDS[name]
    assert kind.name == name
    assert kind.label.strip() and "_" not in kind.label
    title = reward_title(name, Decimal("7.50"), "EUR")
    assert title == kind.title(Decimal("7.50"), "EUR") and title.strip()
    assert "E+" not in reward_title(name, Decimal("10"), "USD")
    assert isinstance(kind.combinations(True), CombinesWith)
    assert isinstance(kind.combinations(False), CombinesWith)


@pytest.mark.parametrize("name", NAMES)
def test_a_kind_validates_its_value_through_the_catalog(name: str) -> None:
    kind = KINDS[name]
    assert validate_reward(name, 500, "10", None, None, SETTINGS) == {}
    refused = validate_reward(name, 500, "0", None, None, SETTINGS)
    if kind.has_value:
        assert set(refused) == {"value"}
        assert kind.stored_value("10") == Decimal(10)
    else:
        assert refused == {}
        assert kind.stored_value("10") == Decimal(0)


@pytest.mark.parametrize("name", NAMES)
def test_a_kind_is_issued_and_found_again_through_the_shopify_port(name: str) -> None:
    kind, issuer = KINDS[name], RecordingIssuer()
    made = kind.issue(issuer, _request(name))
    [(call, arguments)] = issuer.calls
    assert call in PORT_CALLS and made == "gid://shopify/Made/1"
    # The real adapter implements the call this kind makes.
    assert callable(getattr(ShopifyDiscountIssuer, call))
    if call != "credit_store_credit":
        assert arguments["code"] == "LOOP-7K3Q"
        assert arguments["combines_with"] == kind.combinations(False)
        assert arguments["usage_limit"] == 1
    kind.find_issued(issuer, _request(name))
    lookup = issuer.calls[-1][0]
    assert lookup in LOOKUPS and callable(getattr(ShopifyDiscountIssuer, lookup))


def test_percent_off_goes_to_shopify_as_a_fraction_and_free_shipping_stacks_with_orders() -> None:
    issuer = RecordingIssuer()
    KINDS["percent_off"].issue(issuer, _request("percent_off"))
    assert issuer.calls[0][1]["percentage"] == Decimal("0.1")
    assert KINDS["free_shipping"].combinations(False).order_discounts is True


def test_an_unknown_kind_is_refused_naming_every_kind() -> None:
    errors = validate_reward("gift", 500, "10", None, None, SETTINGS)
    assert errors == {"kind": "must be one of " + ", ".join(KINDS)}
