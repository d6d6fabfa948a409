"""Admin GraphQL for one shop: pinned version, retries, cost-based throttling, typed errors.

Transport is shopifyapp's admin_graphql_request with its own retries off (max_retries=0): its
retries sleep with time.sleep and ignore the cost bucket, so the loop here does it with an
injectable sleep. Rate limits: shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits
(notes §7). Operation shapes: shopify.dev/docs/api/admin-graphql/2026-07 (each cited below).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from shopify_app import GQLResult

from app.config import Settings
from app.shopify.domains import api_version, shop_handle, valid_shop
from app.shopify.verify import shopify_app

log = logging.getLogger(__name__)

METAFIELDS_PER_CALL = 25
DEFAULT_RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 60.0
# Shopify's static costs: a mutation 10 points, an object 1 (shopify.dev …/usage/limits).
MUTATION_COST = 10.0
QUERY_COST = 1.0


class ShopifyError(RuntimeError):
    """A call to Shopify that did not do what was asked; `code` is stable for logs and tests."""

    def __init__(self, code: str, detail: str = "") -> None:
        """Keep the stable code next to the message."""
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class ShopifyUnauthorized(ShopifyError):
    """401: the access token is invalid or revoked (refresh it, or the shop uninstalled us)."""


class ShopifyUnavailable(ShopifyError):
    """Network failure, or 429/5xx/THROTTLED still there after every retry."""


class ShopifyRequestError(ShopifyError):
    """Shopify refused the request itself (GraphQL errors, 4xx): retrying will not help."""


@dataclass(frozen=True)
class UserError:
    """One entry of a mutation's `userErrors`."""

    field: tuple[str, ...]
    code: str | None
    message: str
    element_index: int | None = None


class ShopifyUserError(ShopifyError):
    """A mutation's `userErrors`: the first one's field, code and message, and all of them."""

    def __init__(self, errors: Sequence[UserError]) -> None:
        """Expose the first error's field, code and message."""
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(first.code or "user_error", first.message)
        self.field = first.field
        self.message = first.message


@dataclass
class CostBucket:
    """What Shopify last said about one shop's leaky bucket, restored over time."""

    maximum_available: float | None = None
    currently_available: float | None = None
    restore_rate: float | None = None
    observed_at: float = 0.0
    known_costs: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def observe(self, cost: Mapping[str, Any] | None, at: float, operation: str | None = None
                ) -> None:
        """Record `extensions.cost` of a response."""
        if not isinstance(cost, Mapping):
            return
        status = cost.get("throttleStatus")
        with self.lock:
            if isinstance(status, Mapping):
                try:
                    self.maximum_available = float(status["maximumAvailable"])
                    self.currently_available = float(status["currentlyAvailable"])
                    self.restore_rate = float(status["restoreRate"])
                    self.observed_at = at
                except (KeyError, TypeError, ValueError):
                    pass
            requested = cost.get("requestedQueryCost")
            if operation and isinstance(requested, int | float):
                self.known_costs[operation] = float(requested)

    def wait_before(self, cost: float, at: float) -> float:
        """Seconds to wait so a call costing `cost` is not throttled: (cost - available)/rate."""
        with self.lock:
            if self.currently_available is None or not self.restore_rate:
                return 0.0
            restored = self.currently_available + (at - self.observed_at) * self.restore_rate
            available = min(self.maximum_available or restored, restored)
            if cost <= available:
                return 0.0
            return (cost - available) / self.restore_rate

    def spend(self, cost: float, at: float) -> None:
        """Count a call we are about to make, so concurrent callers in this process wait too."""
        with self.lock:
            if self.currently_available is None or not self.restore_rate:
                return
            restored = self.currently_available + (at - self.observed_at) * self.restore_rate
            if self.maximum_available is not None:
                restored = min(self.maximum_available, restored)
            self.currently_available, self.observed_at = restored - cost, at


_buckets: dict[str, CostBucket] = {}
_buckets_lock = threading.Lock()


def bucket_for(shop: str) -> CostBucket:
    """This process's view of a shop's bucket (Shopify keeps one per app and store)."""
    with _buckets_lock:
        return _buckets.setdefault(shop, CostBucket())


def gid(kind: str, value: int | str) -> str:
    """`gid://shopify/{kind}/{id}` from a numeric id, or the gid itself if already one."""
    if isinstance(value, str) and value.startswith(f"gid://shopify/{kind}/"):
        return value
    number = str(value)
    if not number.isdigit() or not number.isascii():
        raise ValueError(f"not a {kind} id: {value!r}")
    return f"gid://shopify/{kind}/{number}"


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with a Z, as Shopify's DateTime scalar takes it."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # our database keeps naive UTC
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(value: Decimal) -> str:
    """A Decimal scalar: two places, as a string."""
    return str(Decimal(value).quantize(Decimal("0.01")))


def _naive_utc(value: str | None) -> datetime | None:
    """A DateTime scalar as naive UTC (how our database keeps time); None if unreadable."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _retry_after(result: GQLResult) -> float:
    """Seconds from the failed response's Retry-After (1 s when absent, capped)."""
    headers = result.http_logs[-1].res.headers if result.http_logs else {}
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return min(max(float(raw), 0.0), MAX_RETRY_AFTER_S) if raw is not None else (
            DEFAULT_RETRY_AFTER_S)
    except ValueError:
        return DEFAULT_RETRY_AFTER_S  # an HTTP-date: rare from Shopify, a second is enough


# --- Plain results --------------------------------------------------------------------------

@dataclass(frozen=True)
class ShopDetails:
    """The shop as the Admin API describes it."""

    id: str
    name: str
    email: str | None
    domain: str
    currency: str
    timezone: str
    primary_domain: str | None = None


@dataclass(frozen=True)
class CustomerDetails:
    """A customer's profile and spend."""

    id: str
    display_name: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    number_of_orders: int
    amount_spent: Decimal
    currency: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class EmailMarketing:
    """A customer's email marketing state (CustomerEmailAddressMarketingState) and when the
    customer last changed it (None: never)."""

    state: str
    updated_at: datetime | None


@dataclass(frozen=True)
class OrderDetails:
    """An order's money and status."""

    id: str
    name: str
    email: str | None
    created_at: str
    cancelled_at: str | None
    test: bool
    financial_status: str | None
    currency: str
    subtotal: Decimal
    total: Decimal
    refunded: Decimal
    customer_id: str | None


@dataclass(frozen=True)
class CombinesWith:
    """Which other discount classes a code may combine with."""

    order_discounts: bool = False
    product_discounts: bool = False
    shipping_discounts: bool = False

    def as_input(self) -> dict[str, bool]:
        """DiscountCombinesWithInput."""
        return {"orderDiscounts": self.order_discounts,
                "productDiscounts": self.product_discounts,
                "shippingDiscounts": self.shipping_discounts}


NOT_COMBINABLE = CombinesWith()


@dataclass(frozen=True)
class CreatedDiscount:
    """A code discount Shopify created."""

    id: str
    code: str


@dataclass(frozen=True)
class StoreCreditTransaction:
    """A credit added to a customer's store credit account."""

    id: str | None
    account_id: str | None
    amount: Decimal
    currency: str
    balance_after: Decimal | None
    created_at: datetime | None = None


@dataclass(frozen=True)
class MetafieldInput:
    """One metafield to set (namespace `$app` is reserved to this app)."""

    owner_id: str
    key: str
    value: str
    type: str
    namespace: str = "$app"
    compare_digest: str | None = None

    def as_input(self) -> dict[str, str]:
        """MetafieldsSetInput."""
        data = {"ownerId": self.owner_id, "namespace": self.namespace, "key": self.key,
                "value": self.value, "type": self.type}
        if self.compare_digest is not None:
            data["compareDigest"] = self.compare_digest
        return data


@dataclass(frozen=True)
class Metafield:
    """A metafield as Shopify stored it."""

    id: str | None
    namespace: str
    key: str
    value: str
    type: str


# --- Operations -----------------------------------------------------------------------------

# shopify.dev/docs/api/admin-graphql/2026-07/queries/shop; `primaryDomain` (Domain: host, url)
# is where the store's shoppers go, the myshopify.com domain until the merchant adds their own.
SHOP_QUERY = """query LoyaltyShop {
  shop { id name email myshopifyDomain currencyCode ianaTimezone primaryDomain { host url } }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/queries/customer (Customer.email is deprecated)
CUSTOMER_QUERY = """query LoyaltyCustomer($id: ID!) {
  customer(id: $id) {
    id displayName firstName lastName numberOfOrders tags
    amountSpent { amount currencyCode }
    defaultEmailAddress { emailAddress }
  }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/objects/CustomerEmailAddress: marketingUpdatedAt is
# null when the address never changed its consent.
CUSTOMER_EMAIL_MARKETING_QUERY = """query LoyaltyCustomerEmailMarketing($id: ID!) {
  customer(id: $id) {
    id
    defaultEmailAddress { marketingState marketingUpdatedAt }
  }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/queries/order
ORDER_QUERY = """query LoyaltyOrder($id: ID!) {
  order(id: $id) {
    id name email createdAt cancelledAt test displayFinancialStatus currencyCode
    currentSubtotalPriceSet { shopMoney { amount currencyCode } }
    currentTotalPriceSet { shopMoney { amount currencyCode } }
    totalRefundedSet { shopMoney { amount currencyCode } }
    customer { id }
  }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/mutations/discountCodeBasicCreate
DISCOUNT_BASIC_MUTATION = """mutation LoyaltyDiscountCodeBasicCreate(
  $basicCodeDiscount: DiscountCodeBasicInput!
) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/mutations/discountCodeFreeShippingCreate
DISCOUNT_FREE_SHIPPING_MUTATION = """mutation LoyaltyDiscountCodeFreeShippingCreate(
  $freeShippingCodeDiscount: DiscountCodeFreeShippingInput!
) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $freeShippingCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/mutations/storeCreditAccountCredit
# (scope write_store_credit_account_transactions; the account is created on first credit)
STORE_CREDIT_MUTATION = """mutation LoyaltyStoreCreditAccountCredit(
  $id: ID!, $creditInput: StoreCreditAccountCreditInput!
) {
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {
    storeCreditAccountTransaction {
      id
      amount { amount currencyCode }
      balanceAfterTransaction { amount currencyCode }
      account { id }
    }
    userErrors { field code message }
  }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/queries/codeDiscountNodeByCode
DISCOUNT_BY_CODE_QUERY = """query LoyaltyDiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/queries/currentAppInstallation: the owner of the
# app-data metafields the theme extension reads as `app.metafields`.
CURRENT_APP_INSTALLATION_QUERY = """query LoyaltyAppInstallation {
  currentAppInstallation { id }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/queries/discountNode: any discount by the id its
# create mutation returned (codeDiscountNode is deprecated in its favour).
DISCOUNT_BY_ID_QUERY = """query LoyaltyDiscountById($id: ID!) {
  discountNode(id: $id) { id }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/mutations/discountCodeDelete
DISCOUNT_DELETE_MUTATION = """mutation LoyaltyDiscountCodeDelete($id: ID!) {
  discountCodeDelete(id: $id) {
    deletedCodeDiscountId
    userErrors { field code message }
  }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/objects/StoreCreditAccount: `transactions` is a
# connection of the StoreCreditAccountTransaction interface, sorted by CREATED_AT (reverse:
# newest first); `id` lives on the concrete types, hence the fragment. Customer
# .storeCreditAccounts needs read_store_credit_accounts, transactions
# read_store_credit_account_transactions (implied by its write scope).
STORE_CREDITS_QUERY = """query LoyaltyStoreCredits($id: ID!, $first: Int!) {
  customer(id: $id) {
    storeCreditAccounts(first: 5) {
      nodes {
        id
        balance { amount currencyCode }
        transactions(first: $first, reverse: true) {
          nodes {
            createdAt
            amount { amount currencyCode }
            balanceAfterTransaction { amount currencyCode }
            ... on StoreCreditAccountCreditTransaction { id }
          }
        }
      }
    }
  }
}"""

# shopify.dev/docs/api/admin-graphql/2026-07/mutations/metafieldsSet (≤ 25, atomic per call)
METAFIELDS_SET_MUTATION = """mutation LoyaltyMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key value type }
    userErrors { field code message elementIndex }
  }
}"""


def _user_errors(payload: Mapping[str, Any] | None, offset: int = 0) -> list[UserError]:
    """A payload's userErrors; element indexes shifted by the batch offset."""
    errors = []
    for raw in (payload or {}).get("userErrors") or []:
        index = raw.get("elementIndex")
        errors.append(UserError(field=tuple(raw.get("field") or ()), code=raw.get("code"),
                                message=str(raw.get("message") or ""),
                                element_index=index + offset if isinstance(index, int)
                                else None))
    return errors


def _shop_money(money_set: Mapping[str, Any] | None) -> Decimal:
    """The shop-currency amount of a MoneyBag."""
    shop_money = (money_set or {}).get("shopMoney") or {}
    return Decimal(str(shop_money.get("amount") or "0"))


class AdminClient:
    """The Admin GraphQL API of one shop, with one valid access token."""

    def __init__(self, shop: str, access_token: str, *, settings: Settings, http: httpx.Client,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, bucket: CostBucket | None = None,
                 max_attempts: int = 5) -> None:
        """A client for `shop` using `access_token` over `http`."""
        domain = valid_shop(shop)
        if domain is None:
            raise ValueError("not a myshopify.com shop domain")
        self.shop = domain
        self._token = access_token
        self.settings = settings
        self.http = http
        self.sleep = sleep
        self.clock = clock
        self.bucket = bucket or bucket_for(domain)
        self.max_attempts = max_attempts

    def __repr__(self) -> str:
        """The shop, never the token."""
        return f"AdminClient({self.shop!r})"  # never the token

    def execute(self, query: str, variables: Mapping[str, Any] | None = None, *,
                operation: str = "query", cost: float = QUERY_COST) -> dict[str, Any]:
        """Run one query or mutation; returns `data`. Waits out throttling, retries 429/5xx."""
        app = shopify_app(self.settings)
        for attempt in range(1, self.max_attempts + 1):
            expected = self.bucket.known_costs.get(operation, cost)
            wait = self.bucket.wait_before(expected, self.clock())
            if wait > 0:
                log.info("waiting for the cost bucket", extra={"shop": self.shop,
                                                                "code": "cost_wait"})
                self.sleep(wait)
            self.bucket.spend(expected, self.clock())
            result = app.admin_graphql_request(
                query, shop=shop_handle(self.shop), access_token=self._token,
                api_version=api_version(self.settings), variables=dict(variables or {}),
                max_retries=0, http_client=self.http)
            if result.ok:
                self.bucket.observe((result.extensions or {}).get("cost"), self.clock(),
                                    operation)
                return result.data or {}
            delay = self._retry_delay(result, operation)
            if attempt == self.max_attempts:
                raise ShopifyUnavailable(self._failure_code(result),
                                         f"gave up after {attempt} attempts")
            log.info("retrying Admin API call", extra={"shop": self.shop,
                                                        "code": self._failure_code(result)})
            self.sleep(delay)
        raise AssertionError("unreachable")

    @staticmethod
    def _failure_code(result: GQLResult) -> str:
        """The stable code of a failed attempt."""
        if result.log.code == "graphql_errors":
            return "throttled"
        return result.log.code

    def _retry_delay(self, result: GQLResult, operation: str) -> float:
        """Seconds before retrying a failed call, or raise when retrying cannot help."""
        code = result.log.code
        if code == "graphql_errors":
            try:
                body = json.loads(result.response.body)
            except ValueError:
                body = {}
            errors = body.get("errors") or []
            throttled = isinstance(errors, list) and any(
                isinstance(e, Mapping) and (e.get("extensions") or {}).get("code") == "THROTTLED"
                for e in errors)
            cost = (body.get("extensions") or {}).get("cost") or {}
            self.bucket.observe(cost, self.clock(), operation)
            if not throttled:
                raise ShopifyRequestError("graphql_errors", "; ".join(
                    str(e.get("message")) for e in errors if isinstance(e, Mapping))[:500])
            status = cost.get("throttleStatus") or {}
            try:
                missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
                return max(missing / float(status["restoreRate"]), 0.0)
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                return DEFAULT_RETRY_AFTER_S
        if code == "unauthorized":
            raise ShopifyUnauthorized(code, "access token invalid or revoked")
        if code == "network_error":
            # The request may have reached Shopify: never repeat a mutation blindly.
            raise ShopifyUnavailable(code, "Shopify unreachable")
        status_code = result.http_logs[-1].res.status if result.http_logs else 0
        if code == "rate_limited" or 500 <= status_code <= 599:
            return _retry_after(result)
        raise ShopifyRequestError(code, f"HTTP {status_code}")

    def _mutate(self, name: str, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """Run a mutation; its payload, or ShopifyUserError for its userErrors."""
        data = self.execute(query, variables, operation=name, cost=MUTATION_COST)
        payload = data.get(name) or {}
        errors = _user_errors(payload)
        if errors:
            log.info("mutation refused", extra={"shop": self.shop, "code": errors[0].code})
            raise ShopifyUserError(errors)
        return payload

    # Reads ------------------------------------------------------------------------------

    def shop_details(self) -> ShopDetails:
        """The shop's name, currency and timezone."""
        shop = self.execute(SHOP_QUERY, operation="shop")["shop"]
        return ShopDetails(id=shop["id"], name=shop["name"], email=shop.get("email"),
                           domain=shop["myshopifyDomain"], currency=shop["currencyCode"],
                           timezone=shop["ianaTimezone"],
                           primary_domain=(shop.get("primaryDomain") or {}).get("host"))

    def app_installation_id(self) -> str:
        """The gid of this app's installation on the shop (owner of app-data metafields)."""
        answer = self.execute(CURRENT_APP_INSTALLATION_QUERY, operation="currentAppInstallation")
        return answer["currentAppInstallation"]["id"]

    def customer(self, customer_id: int | str) -> CustomerDetails | None:
        """A customer by numeric id or gid; None if Shopify has no such customer."""
        raw = self.execute(CUSTOMER_QUERY, {"id": gid("Customer", customer_id)},
                           operation="customer").get("customer")
        if raw is None:
            return None
        spent = raw.get("amountSpent") or {}
        email = (raw.get("defaultEmailAddress") or {}).get("emailAddress")
        return CustomerDetails(
            id=raw["id"], display_name=raw.get("displayName"), first_name=raw.get("firstName"),
            last_name=raw.get("lastName"), email=email,
            number_of_orders=int(raw.get("numberOfOrders") or 0),
            amount_spent=Decimal(str(spent.get("amount") or "0")),
            currency=spent.get("currencyCode"), tags=tuple(raw.get("tags") or ()))

    def customer_email_marketing(self, customer_id: int | str) -> EmailMarketing | None:
        """The customer's email marketing consent; None without such a customer or email."""
        raw = self.execute(CUSTOMER_EMAIL_MARKETING_QUERY, {"id": gid("Customer", customer_id)},
                           operation="customer").get("customer")
        address = (raw or {}).get("defaultEmailAddress")
        if not address or not address.get("marketingState"):
            return None
        return EmailMarketing(state=str(address["marketingState"]),
                              updated_at=_naive_utc(address["marketingUpdatedAt"])
                              if address.get("marketingUpdatedAt") else None)

    def order(self, order_id: int | str) -> OrderDetails | None:
        """An order by numeric id or gid; None if Shopify has no such order."""
        raw = self.execute(ORDER_QUERY, {"id": gid("Order", order_id)},
                           operation="order").get("order")
        if raw is None:
            return None
        return OrderDetails(
            id=raw["id"], name=raw["name"], email=raw.get("email"), created_at=raw["createdAt"],
            cancelled_at=raw.get("cancelledAt"), test=bool(raw.get("test")),
            financial_status=raw.get("displayFinancialStatus"), currency=raw["currencyCode"],
            subtotal=_shop_money(raw.get("currentSubtotalPriceSet")),
            total=_shop_money(raw.get("currentTotalPriceSet")),
            refunded=_shop_money(raw.get("totalRefundedSet")),
            customer_id=(raw.get("customer") or {}).get("id"))

    # Writes -----------------------------------------------------------------------------

    def create_basic_discount(self, *, code: str, title: str, customer_id: int | str | None,
                              starts_at: datetime, ends_at: datetime | None = None,
                              amount: Decimal | None = None, percentage: Decimal | None = None,
                              minimum_subtotal: Decimal | None = None,
                              combines_with: CombinesWith = NOT_COMBINABLE,
                              usage_limit: int | None = 1, applies_once_per_customer: bool = True,
                              tags: Sequence[str] = ()) -> CreatedDiscount:
        """A code for one customer (None: anyone), single use by default: a fixed `amount` off,
        or a `percentage` (0-1]."""
        if (amount is None) == (percentage is None):
            raise ValueError("give exactly one of amount or percentage")
        if percentage is not None:
            if not Decimal(0) < Decimal(percentage) <= Decimal(1):
                raise ValueError("percentage is a fraction in (0, 1]")
            value: dict[str, Any] = {"percentage": float(percentage)}
        else:
            if Decimal(amount) <= 0:
                raise ValueError("amount must be positive")
            value = {"discountAmount": {"amount": _money(amount), "appliesOnEachItem": False}}
        discount = self._code_discount_input(code, title, customer_id, starts_at, ends_at,
                                             minimum_subtotal, combines_with, usage_limit,
                                             applies_once_per_customer, tags)
        discount["customerGets"] = {"value": value, "items": {"all": True}}
        payload = self._mutate("discountCodeBasicCreate", DISCOUNT_BASIC_MUTATION,
                               {"basicCodeDiscount": discount})
        return CreatedDiscount(id=payload["codeDiscountNode"]["id"], code=code)

    def create_free_shipping_discount(self, *, code: str, title: str,
                                      customer_id: int | str | None, starts_at: datetime,
                                      ends_at: datetime | None = None,
                                      minimum_subtotal: Decimal | None = None,
                                      combines_with: CombinesWith = NOT_COMBINABLE,
                                      usage_limit: int | None = 1,
                                      applies_once_per_customer: bool = True,
                                      tags: Sequence[str] = ()) -> CreatedDiscount:
        """A free-shipping code for one customer (None: anyone), to every country."""
        discount = self._code_discount_input(code, title, customer_id, starts_at, ends_at,
                                             minimum_subtotal, combines_with, usage_limit,
                                             applies_once_per_customer, tags)
        discount["destination"] = {"all": True}
        payload = self._mutate("discountCodeFreeShippingCreate", DISCOUNT_FREE_SHIPPING_MUTATION,
                               {"freeShippingCodeDiscount": discount})
        return CreatedDiscount(id=payload["codeDiscountNode"]["id"], code=code)

    @staticmethod
    def _code_discount_input(code: str, title: str, customer_id: int | str | None,
                             starts_at: datetime, ends_at: datetime | None,
                             minimum_subtotal: Decimal | None, combines_with: CombinesWith,
                             usage_limit: int | None, applies_once_per_customer: bool,
                             tags: Sequence[str]) -> dict[str, Any]:
        """The fields basic and free-shipping code discounts share."""
        # `context` replaces the deprecated customerSelection (notes §7).
        context = ({"all": "ALL"} if customer_id is None
                   else {"customers": {"add": [gid("Customer", customer_id)]}})
        discount: dict[str, Any] = {
            "title": title, "code": code, "startsAt": _iso(starts_at), "endsAt": _iso(ends_at),
            "context": context, "appliesOncePerCustomer": applies_once_per_customer,
            "usageLimit": usage_limit, "combinesWith": combines_with.as_input(),
        }
        if minimum_subtotal is not None:
            discount["minimumRequirement"] = {
                "subtotal": {"greaterThanOrEqualToSubtotal": _money(minimum_subtotal)}}
        if tags:
            discount["tags"] = list(tags)
        return discount

    def credit_store_credit(self, customer_id: int | str, amount: Decimal, currency: str, *,
                            expires_at: datetime | None = None, notify: bool = False
                            ) -> StoreCreditTransaction:
        """Add `amount` in `currency` to the customer's store credit (account made if needed)."""
        if Decimal(amount) <= 0:
            raise ValueError("amount must be positive")
        credit: dict[str, Any] = {"creditAmount": {"amount": _money(amount),
                                                   "currencyCode": currency.upper()},
                                  "notify": notify}
        if expires_at is not None:
            credit["expiresAt"] = _iso(expires_at)
        payload = self._mutate("storeCreditAccountCredit", STORE_CREDIT_MUTATION,
                               {"id": gid("Customer", customer_id), "creditInput": credit})
        tx = payload.get("storeCreditAccountTransaction") or {}
        money = tx.get("amount") or {}
        balance = tx.get("balanceAfterTransaction") or {}
        return StoreCreditTransaction(
            id=tx.get("id"), account_id=(tx.get("account") or {}).get("id"),
            amount=Decimal(str(money.get("amount") or amount)),
            currency=money.get("currencyCode") or currency.upper(),
            balance_after=Decimal(str(balance["amount"])) if balance.get("amount") is not None
            else None)

    def find_discount(self, code: str) -> str | None:
        """The id of the code discount holding `code` (case-insensitive), or None."""
        node = self.execute(DISCOUNT_BY_CODE_QUERY, {"code": code},
                            operation="codeDiscountNodeByCode").get("codeDiscountNodeByCode")
        return node["id"] if node else None

    def discount_exists(self, discount_id: str) -> bool:
        """Whether a code discount with this id still exists."""
        node = self.execute(DISCOUNT_BY_ID_QUERY, {"id": discount_id},
                            operation="discountNode").get("discountNode")
        return node is not None

    def delete_discount(self, discount_id: str) -> str:
        """Delete a code discount so it can no longer be used; returns the deleted id."""
        payload = self._mutate("discountCodeDelete", DISCOUNT_DELETE_MUTATION,
                               {"id": discount_id})
        return payload.get("deletedCodeDiscountId") or discount_id

    def recent_store_credits(self, customer_id: int | str, currency: str, *, limit: int = 25
                             ) -> list[StoreCreditTransaction]:
        """The customer's latest credits in `currency`, newest first (at most `limit`)."""
        customer = self.execute(STORE_CREDITS_QUERY, {"id": gid("Customer", customer_id),
                                                      "first": limit},
                                operation="storeCredits").get("customer")
        accounts = ((customer or {}).get("storeCreditAccounts") or {}).get("nodes") or []
        credits = []
        for account in accounts:
            if (account.get("balance") or {}).get("currencyCode") != currency.upper():
                continue
            for tx in (account.get("transactions") or {}).get("nodes") or []:
                money = tx.get("amount") or {}
                # Only credit transactions carry an id here (the fragment); skip the rest.
                if tx.get("id") is None or money.get("amount") is None:
                    continue
                balance = (tx.get("balanceAfterTransaction") or {}).get("amount")
                credits.append(StoreCreditTransaction(
                    id=tx["id"], account_id=account.get("id"),
                    amount=Decimal(str(money["amount"])),
                    currency=money.get("currencyCode") or currency.upper(),
                    balance_after=Decimal(str(balance)) if balance is not None else None,
                    created_at=_naive_utc(tx.get("createdAt"))))
        return credits

    def find_store_credit(self, customer_id: int | str, amount: Decimal, currency: str,
                          since: datetime) -> StoreCreditTransaction | None:
        """The newest credit of exactly `amount` to the customer made at or after `since`
        (naive UTC), or None.

        storeCreditAccountCredit takes no idempotency key, so this is how a caller whose answer
        was lost learns whether the credit happened. Only the latest credits are read: enough
        for a retry minutes later, not for an audit.
        """
        wanted = Decimal(amount).quantize(Decimal("0.01"))
        for credit in self.recent_store_credits(customer_id, currency):
            if credit.created_at is None or credit.created_at < since:
                continue
            if credit.amount.quantize(Decimal("0.01")) == wanted:
                return credit
        return None

    def set_metafields(self, metafields: Sequence[MetafieldInput]) -> list[Metafield]:
        """Set metafields, 25 per call; each call is atomic, earlier batches stay set on error."""
        stored: list[Metafield] = []
        for offset, batch in _batches(metafields, METAFIELDS_PER_CALL):
            data = self.execute(METAFIELDS_SET_MUTATION,
                                {"metafields": [m.as_input() for m in batch]},
                                operation="metafieldsSet", cost=MUTATION_COST)
            payload = data.get("metafieldsSet") or {}
            errors = _user_errors(payload, offset)
            if errors:
                raise ShopifyUserError(errors)
            stored.extend(Metafield(id=m.get("id"), namespace=m["namespace"], key=m["key"],
                                    value=m["value"], type=m["type"])
                          for m in payload.get("metafields") or [])
        return stored


def _batches(items: Sequence[MetafieldInput], size: int
             ) -> Iterator[tuple[int, Sequence[MetafieldInput]]]:
    """(offset, slice) pairs of at most `size` items."""
    for offset in range(0, len(items), size):
        yield offset, items[offset:offset + size]
