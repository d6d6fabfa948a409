"""What one emulated shop holds: customers, orders, discounts, metafields, store credit, tokens.

Plain dataclasses that tests read directly (`emu.shop("x.myshopify.com").discounts[...]`).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

# Generated ids start just past 2**53, where a double can no longer hold them exactly:
# an app that parses ids as floats breaks here as it would against real Shopify ids.
_ids = itertools.count(2**53 + 1, 2)


def next_id() -> int:
    """A fresh numeric id, unique for the process."""
    return next(_ids)


def gid(kind: str, number: int | str) -> str:
    """A GraphQL global id, e.g. gid://shopify/Customer/123."""
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: Any, kind: str | None = None) -> int | None:
    """The numeric part of a gid (of the given kind), or None when it is not one."""
    if not isinstance(value, str) or not value.startswith("gid://shopify/"):
        return None
    resource, _, number = value.removeprefix("gid://shopify/").partition("/")
    if (kind is not None and resource != kind) or not number.isdigit():
        return None
    return int(number)


# Bucket size and restore rate by plan; restore rates from
# https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits (bucket sizes assumed 20x).
PLAN_LIMITS = {
    "basic": (2000.0, 100.0), "shopify": (2000.0, 100.0), "standard": (2000.0, 100.0),
    "advanced": (4000.0, 200.0), "plus": (20000.0, 1000.0), "shopify plus": (20000.0, 1000.0),
    "enterprise": (40000.0, 2000.0),
}


@dataclass
class ThrottleBucket:
    """The leaky bucket of calculated query cost, per app and shop."""

    maximum_available: float
    restore_rate: float
    currently_available: float
    updated_at: float

    def refill(self, now: float) -> None:
        """Restore points for the wall-clock time since the last look."""
        elapsed = max(0.0, now - self.updated_at)
        self.currently_available = min(self.maximum_available,
                                       self.currently_available + elapsed * self.restore_rate)
        self.updated_at = now

    def status(self) -> dict[str, float]:
        """throttleStatus as the API reports it."""
        return {"maximumAvailable": self.maximum_available,
                "currentlyAvailable": round(self.currently_available, 3),
                "restoreRate": self.restore_rate}


@dataclass
class IssuedToken:
    """An access token the shop issued to the app, with its refresh token when expiring."""

    access_token: str
    scope: str
    grant: str
    issued_at: float
    expires_at: float | None
    refresh_token: str | None = None
    refresh_expires_at: float | None = None
    online_user_id: str | None = None
    replaces_refresh_token: str | None = None

    def active(self, now: float) -> bool:
        """Whether the API accepts the access token at `now`."""
        return self.expires_at is None or now < self.expires_at


@dataclass
class Customer:
    """A customer record, seeded by tests or learned from webhooks the emulator sent."""

    id: int
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    state: str = "enabled"
    tags: list[str] = field(default_factory=list)
    number_of_orders: int = 0
    amount_spent: Decimal = Decimal("0.00")
    created_at: str = "2026-01-01T00:00:00Z"
    note: str | None = None
    verified_email: bool = True
    # defaultEmailAddress: CustomerEmailAddressMarketingState and when it last changed.
    email_marketing_state: str = "NOT_SUBSCRIBED"
    email_marketing_updated_at: str | None = None

    @property
    def gid(self) -> str:
        """Its GraphQL id."""
        return gid("Customer", self.id)


@dataclass
class Discount:
    """A code discount the app created (basic or free shipping), as the merchant would see it."""

    id: int
    kind: str
    code: str
    title: str
    starts_at: str | None
    ends_at: str | None
    customer_ids: list[str] | None
    value: dict[str, Any] | None
    usage_limit: int | None
    applies_once_per_customer: bool
    combines_with: dict[str, bool]
    minimum_subtotal: str | None
    minimum_quantity: str | None
    created_at: str
    status: str = "ACTIVE"
    raw_input: dict[str, Any] = field(default_factory=dict)

    @property
    def gid(self) -> str:
        """The DiscountCodeNode id."""
        return gid("DiscountCodeNode", self.id)


@dataclass
class Metafield:
    """A metafield value on an owner (customer, app installation, shop, order)."""

    id: int
    owner_id: str
    namespace: str
    key: str
    type: str
    value: str
    created_at: str
    updated_at: str

    @property
    def gid(self) -> str:
        """Its GraphQL id."""
        return gid("Metafield", self.id)


@dataclass
class StoreCreditTransaction:
    """One credit on a store credit account."""

    id: int
    amount: Decimal
    balance_after: Decimal
    created_at: str
    expires_at: str | None


@dataclass
class StoreCreditAccount:
    """A customer's store credit in one currency."""

    id: int
    owner_id: str
    currency: str
    balance: Decimal = Decimal("0.00")
    transactions: list[StoreCreditTransaction] = field(default_factory=list)

    @property
    def gid(self) -> str:
        """Its GraphQL id."""
        return gid("StoreCreditAccount", self.id)


@dataclass
class ApiCall:
    """One Admin GraphQL request as the emulator saw and answered it."""

    at: float
    operation_name: str | None
    root_fields: list[str]
    query: str
    variables: dict[str, Any]
    status: int
    outcome: str
    requested_cost: int | None
    currently_available: float | None


@dataclass
class FailureRule:
    """An injected failure: the next `times` requests matching `name` fail with `kind`."""

    name: str
    kind: str
    times: int
    retry_after: int | None = None

    def matches(self, names: list[str | None]) -> bool:
        """Whether a request known by these names (operation, root fields, endpoint) matches."""
        return self.name == "*" or self.name in names


@dataclass
class ShopState:
    """Everything one shop knows; tests assert on it directly."""

    domain: str
    name: str
    currency: str
    plan: str
    shop_id: int
    installation_id: int
    email: str
    timezone: str
    bucket: ThrottleBucket
    customers: dict[int, Customer] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    discounts: dict[str, Discount] = field(default_factory=dict)
    metafields: dict[tuple[str, str, str], Metafield] = field(default_factory=dict)
    store_credit: dict[tuple[str, str], StoreCreditAccount] = field(default_factory=dict)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    refresh_tokens: dict[str, IssuedToken] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[ApiCall] = field(default_factory=list)
    # What flowTriggerReceive received: {"handle", "payload"}, oldest first.
    flow_triggers: list[dict[str, Any]] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    granted_scopes: str | None = None
    # The storefront path of the app proxy when the merchant customised it (e.g. "/a/rewards");
    # None: the app's configured prefix and subpath.
    proxy_path: str | None = None
    # The domain the merchant connected and made primary (e.g. "teahouse.com"); None: the
    # myshopify.com domain is the primary one, as on a new store.
    primary_domain: str | None = None
    # The app's bulk query operations by numeric id (devstore/bulk.py).
    bulk_operations: dict[int, Any] = field(default_factory=dict)
    # The app's subscriptions by numeric id (devstore/billing.py).
    app_subscriptions: dict[int, Any] = field(default_factory=dict)

    @property
    def primary_host(self) -> str:
        """The host of the shop's primary domain."""
        return self.primary_domain or self.domain

    @property
    def gid(self) -> str:
        """The Shop id."""
        return gid("Shop", self.shop_id)

    @property
    def installation_gid(self) -> str:
        """currentAppInstallation.id"""
        return gid("AppInstallation", self.installation_id)

    def add_customer(self, customer_id: int | None = None, **attrs: Any) -> Customer:
        """Register (or update) a customer; returns it."""
        cid = int(customer_id) if customer_id is not None else next_id()
        customer = self.customers.get(cid) or Customer(id=cid)
        for key, value in attrs.items():
            setattr(customer, key, value)
        self.customers[cid] = customer
        return customer

    def discount(self, code: str) -> Discount | None:
        """The discount with this code (codes are case-insensitive, as in Shopify)."""
        return self.discounts.get(code.upper())

    def metafield(self, owner_id: str, namespace: str, key: str) -> Metafield | None:
        """One metafield by owner, resolved namespace and key."""
        return self.metafields.get((owner_id, namespace, key))

    def store_credit_balance(self, owner_id: str, currency: str | None = None) -> Decimal:
        """The owner's store credit balance in a currency (the shop's by default)."""
        account = self.store_credit.get((owner_id, currency or self.currency))
        return account.balance if account else Decimal("0.00")

    def calls_to(self, root_field: str) -> list[ApiCall]:
        """Logged calls that selected this root field."""
        return [c for c in self.calls if root_field in c.root_fields]

    def dump(self) -> dict[str, Any]:
        """A JSON-ready snapshot for the demo and debugging (tokens left out)."""

        def plain(obj: Any) -> Any:
            """A dataclass as a JSON-ready dict (Decimals as strings)."""
            data = asdict(obj)
            return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in data.items()}

        return {
            "shop": {"domain": self.domain, "name": self.name, "currency": self.currency,
                     "plan": self.plan, "id": self.gid, "granted_scopes": self.granted_scopes},
            "throttle": self.bucket.status(),
            "customers": [plain(c) for c in self.customers.values()],
            "orders": sorted(self.orders),
            "discounts": [plain(d) for d in self.discounts.values()],
            "metafields": [plain(m) for m in self.metafields.values()],
            "store_credit": [
                {"id": a.gid, "owner_id": a.owner_id, "currency": a.currency,
                 "balance": str(a.balance),
                 "transactions": [plain(t) for t in a.transactions]}
                for a in self.store_credit.values()],
            "calls": [plain(c) for c in self.calls],
            "token_requests": list(self.token_requests),
        }
