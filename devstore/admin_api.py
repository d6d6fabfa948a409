"""The Admin GraphQL root fields the app uses, answered from a ShopState.

Shapes follow shopify.dev's Admin GraphQL reference (2026-07):
- https://shopify.dev/docs/api/admin-graphql/latest/mutations/discountCodeBasicCreate
- https://shopify.dev/docs/api/admin-graphql/latest/mutations/discountCodeFreeShippingCreate
- https://shopify.dev/docs/api/admin-graphql/latest/mutations/storeCreditAccountCredit
- https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsSet
- https://shopify.dev/docs/api/admin-graphql/latest/queries/customer (and order, shop,
  currentAppInstallation, codeDiscountNodeByCode, discountNode, and the deprecated
  codeDiscountNode Shopify still answers)
- https://shopify.dev/docs/api/admin-graphql/2026-07/objects/StoreCreditAccount (its
  `transactions` connection; Customer.storeCreditAccounts needs read_store_credit_accounts)
Mutations validate first and return a commit function, so nothing changes when the request
fails later (an unknown selected field is rejected before any write, as Shopify validates first).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from devstore import billing
from devstore import bulk as bulk_ops
from devstore.bulk import BulkRunner
from devstore.flow import mutation_flow_trigger_receive
from devstore.graphql import GraphQLError, Items
from devstore.state import (
    Customer,
    Discount,
    Metafield,
    ShopState,
    StoreCreditAccount,
    StoreCreditTransaction,
    gid,
    gid_number,
    next_id,
)

Commit = Callable[[], None]


@dataclass
class ApiContext:
    """What a resolver may know: the shop, the caller's scopes, the app and the clock."""

    shop: ShopState
    scopes: frozenset[str]
    app_id: int
    client_id: str
    now: float
    forced_user_errors: set[str] = field(default_factory=set)
    # Runs bulk operations in the background (devstore/bulk.py); None: refused.
    bulk: BulkRunner | None = None
    # Where the emulator serves (confirmation pages of app subscriptions).
    base_url: str = ""

    def has_scope(self, scope: str) -> bool:
        """Whether the token grants a scope (write_x implies read_x)."""
        if scope in self.scopes:
            return True
        return scope.startswith("read_") and "write_" + scope[5:] in self.scopes

    @property
    def iso_now(self) -> str:
        """Now as Shopify writes DateTime values."""
        return iso(self.now)

    def namespace(self, namespace: str | None) -> str:
        """Resolve the reserved `$app` prefix to this app's namespace (`app--<id>`)."""
        namespace = namespace or "$app"
        if namespace == "$app":
            return f"app--{self.app_id}"
        if namespace.startswith("$app:"):
            return f"app--{self.app_id}--{namespace[5:]}"
        return namespace


def iso(ts: float) -> str:
    """A UTC DateTime string like Shopify's: 2026-11-27T10:00:00Z."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def decimal_text(amount: Decimal | str | float | int) -> str:
    """Shopify's Decimal scalar: no trailing zeros but at least one decimal ("10.0", "12.5")."""
    text = format(Decimal(str(amount)).normalize(), "f")
    return text if "." in text else text + ".0"


def money(amount: Decimal | str | float | int, currency: str) -> dict[str, Any]:
    """MoneyV2"""
    return {"__typename": "MoneyV2", "amount": decimal_text(amount), "currencyCode": currency}


def money_bag(amount: Decimal | str | float | int | None, currency: str) -> dict[str, Any]:
    """MoneyBag: the same amount in shop and presentment currency."""
    value = money(amount if amount is not None else "0", currency)
    return {"__typename": "MoneyBag", "shopMoney": value, "presentmentMoney": value}


def connection(nodes: list[Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A Relay connection over a list, honouring first/last/after/before."""

    def page(args: dict[str, Any]) -> dict[str, Any]:
        """The requested page of the list."""
        indexed = list(enumerate(nodes))
        if args.get("after") is not None:
            after = _cursor_index(args["after"])
            indexed = [(i, n) for i, n in indexed if i > after]
        if args.get("before") is not None:
            before = _cursor_index(args["before"])
            indexed = [(i, n) for i, n in indexed if i < before]
        total = len(indexed)
        if isinstance(args.get("first"), int):
            indexed = indexed[: args["first"]]
        if isinstance(args.get("last"), int):
            indexed = indexed[-args["last"]:] if args["last"] else []
        cursors = [_cursor(i) for i, _ in indexed]
        return {
            "edges": [{"cursor": c, "node": n} for c, (_, n) in zip(cursors, indexed, strict=True)],
            "nodes": [n for _, n in indexed],
            "pageInfo": {"hasNextPage": len(indexed) < total and "last" not in args,
                         "hasPreviousPage": bool(indexed) and indexed[0][0] > 0,
                         "startCursor": cursors[0] if cursors else None,
                         "endCursor": cursors[-1] if cursors else None},
        }

    return page


def _cursor(index: int) -> str:
    """An opaque pagination cursor for a list index."""
    return base64.b64encode(json.dumps({"last_id": index}).encode()).decode()


def _cursor_index(cursor: str) -> int:
    """The list index behind a cursor (-1 when unreadable)."""
    try:
        return int(json.loads(base64.b64decode(cursor))["last_id"])
    except (ValueError, KeyError, TypeError):
        return -1


# --- nodes ------------------------------------------------------------------------------------

def metafield_node(ctx: ApiContext, mf: Metafield | None) -> dict[str, Any] | None:
    """Metafield"""
    if mf is None:
        return None

    def json_value(_: dict[str, Any]) -> Any:
        """The value parsed as JSON (the raw string when it is not JSON)."""
        try:
            return json.loads(mf.value)
        except ValueError:
            return mf.value

    return {"__typename": "Metafield", "id": mf.gid, "legacyResourceId": str(mf.id),
            "namespace": mf.namespace, "key": mf.key, "type": mf.type, "value": mf.value,
            "jsonValue": json_value, "createdAt": mf.created_at, "updatedAt": mf.updated_at,
            "compareDigest": compare_digest(mf.value, mf.type),
            "ownerType": _owner_type(mf.owner_id),
            "owner": {"__typename": _owner_kind(mf.owner_id), "id": mf.owner_id}}


def compare_digest(value: str, type_: str) -> str:
    """The digest an app passes back as compareDigest to detect concurrent writes."""
    return hashlib.sha256(f"{type_}\x00{value}".encode()).hexdigest()


def _owner_kind(owner_id: str) -> str:
    """The resource kind of a gid: gid://shopify/Customer/1 -> Customer."""
    return owner_id.removeprefix("gid://shopify/").partition("/")[0]


# MetafieldOwnerType values that are not the kind's words joined by "_": an app installation's
# (app-data) metafields are API_PERMISSION's, and some kinds are one word (2026-07 enum,
# shopify.dev/docs/api/admin-graphql/2026-07/enums/MetafieldOwnerType).
_OWNER_TYPES = {"AppInstallation": "API_PERMISSION", "ProductVariant": "PRODUCTVARIANT",
                "DraftOrder": "DRAFTORDER", "CartTransform": "CARTTRANSFORM"}


def _owner_type(owner_id: str) -> str:
    """MetafieldOwnerType of an owner: Customer -> CUSTOMER, AppInstallation -> API_PERMISSION."""
    kind = _owner_kind(owner_id)
    return _OWNER_TYPES.get(kind) or re.sub(r"(?<!^)(?=[A-Z])", "_", kind).upper()


def _metafield_fields(ctx: ApiContext, owner_id: str) -> dict[str, Any]:
    """`metafield(namespace:, key:)` and `metafields(...)` for an owner."""
    def one(args: dict[str, Any]) -> dict[str, Any] | None:
        """One metafield by namespace and key (or `namespace.key`)."""
        namespace, key = args.get("namespace"), args.get("key") or ""
        if namespace is None and "." in key:
            namespace, key = key.rsplit(".", 1)
        return metafield_node(ctx, ctx.shop.metafield(owner_id, ctx.namespace(namespace), key))

    def many(args: dict[str, Any]) -> dict[str, Any]:
        """The owner's metafields, optionally in one namespace."""
        wanted = ctx.namespace(args["namespace"]) if args.get("namespace") else None
        found = [m for (owner, ns, _), m in ctx.shop.metafields.items()
                 if owner == owner_id and (wanted is None or ns == wanted)]
        return connection([metafield_node(ctx, m) for m in found])(args)

    return {"metafield": one, "metafields": many}


def customer_node(ctx: ApiContext, customer: Customer | None, *,
                  with_accounts: bool = True) -> dict[str, Any] | None:
    """Customer (`email` is deprecated in favour of defaultEmailAddress, both answered).

    An account's owner is answered without its accounts: the two point at each other.
    """
    if customer is None:
        return None
    c = customer
    display = " ".join(p for p in (c.first_name, c.last_name) if p) or c.email or ""
    accounts = [a for (owner, _), a in ctx.shop.store_credit.items() if owner == c.gid]
    return {
        "__typename": "Customer", "id": c.gid, "legacyResourceId": str(c.id),
        "firstName": c.first_name, "lastName": c.last_name, "displayName": display,
        "email": c.email, "phone": c.phone,
        "defaultEmailAddress": ({"emailAddress": c.email,
                                 "marketingState": c.email_marketing_state,
                                 "marketingUpdatedAt": c.email_marketing_updated_at}
                                if c.email else None),
        "numberOfOrders": str(c.number_of_orders),
        "amountSpent": money(c.amount_spent, ctx.shop.currency),
        "tags": list(c.tags), "state": c.state.upper(), "note": c.note,
        "verifiedEmail": c.verified_email, "createdAt": c.created_at, "updatedAt": c.created_at,
        "storeCreditAccounts": _requires(ctx, "read_store_credit_accounts", "storeCreditAccounts",
                                         connection([store_credit_account_node(ctx, a)
                                                     for a in accounts]
                                                    if with_accounts else [])),
        **_metafield_fields(ctx, c.gid),
    }


def _requires(ctx: ApiContext, scope: str, name: str,
              resolver: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """A nested field that needs its own access scope, checked only when it is selected.

    Shopify nulls such a field and adds an ACCESS_DENIED error; here the whole request fails
    with that error, which an app sees the same way (GraphQL errors, no usable data).
    """
    def checked(args: dict[str, Any]) -> Any:
        """The field's value, or ACCESS_DENIED without the scope."""
        if not ctx.has_scope(scope):
            raise GraphQLError(
                f"Access denied for {name} field. Required access: `{scope}` access scope.",
                extensions={"code": "ACCESS_DENIED",
                            "documentation": "https://shopify.dev/api/usage/access-scopes",
                            "requiredAccess": f"`{scope}` access scope."})
        return resolver(args)

    return checked


def store_credit_account_node(ctx: ApiContext, account: StoreCreditAccount) -> dict[str, Any]:
    """StoreCreditAccount"""
    owner = ctx.shop.customers.get(gid_number(account.owner_id, "Customer") or -1)

    def transactions(args: dict[str, Any]) -> dict[str, Any]:
        """transactions(first, after, last, before, reverse, sortKey): oldest first by default.

        Every transaction here is a credit (the app never debits); `query` is not applied.
        """
        key = (lambda t: t.expires_at or "") if args.get("sortKey") == "EXPIRES_AT" else (
            lambda t: t.created_at)
        ordered = sorted(account.transactions, key=lambda t: (key(t), t.id),
                         reverse=bool(args.get("reverse")))
        return connection([credit_transaction_node(ctx, account, t) for t in ordered])(args)

    return {"__typename": "StoreCreditAccount", "id": account.gid,
            "balance": money(account.balance, account.currency),
            "owner": customer_node(ctx, owner, with_accounts=False)
            or {"__typename": "Customer", "id": account.owner_id},
            "transactions": _requires(ctx, "read_store_credit_account_transactions",
                                      "transactions", transactions)}


def credit_transaction_node(ctx: ApiContext, account: StoreCreditAccount,
                            txn: StoreCreditTransaction) -> dict[str, Any]:
    """StoreCreditAccountCreditTransaction (its account resolved only when selected)."""
    return {"__typename": "StoreCreditAccountCreditTransaction",
            "id": gid("StoreCreditAccountCreditTransaction", txn.id),
            "amount": money(txn.amount, account.currency),
            "balanceAfterTransaction": money(txn.balance_after, account.currency),
            "createdAt": txn.created_at, "expiresAt": txn.expires_at, "event": "ADJUSTMENT",
            "origin": None, "remainingAmount": money(txn.amount, account.currency),
            "account": lambda _: store_credit_account_node(ctx, account)}


def _customer_for(ctx: ApiContext, customer_gid: str) -> Customer | None:
    """The shop's customer with this gid, if known."""
    number = gid_number(customer_gid, "Customer")
    return ctx.shop.customers.get(number) if number is not None else None


def order_node(ctx: ApiContext, order: dict[str, Any] | None) -> dict[str, Any] | None:
    """Order, mapped from the REST-shaped payload the emulator delivered for it."""
    if order is None:
        return None
    currency = order.get("currency") or ctx.shop.currency
    embedded = order.get("customer") or None
    customer = None
    if embedded and embedded.get("id") is not None:
        customer = ctx.shop.customers.get(int(embedded["id"])) or Customer(
            id=int(embedded["id"]), email=embedded.get("email"),
            first_name=embedded.get("first_name"), last_name=embedded.get("last_name"))
    refunded = sum((Decimal(str(t.get("amount", "0")))
                    for r in order.get("refunds") or [] for t in r.get("transactions") or []
                    if t.get("kind") == "refund" and t.get("status") == "success"),
                   Decimal("0"))
    lines = [{
        "__typename": "LineItem",
        "id": li.get("admin_graphql_api_id") or gid("LineItem", li["id"]),
        "name": li.get("name"), "title": li.get("title"), "quantity": li.get("quantity"),
        "currentQuantity": li.get("current_quantity", li.get("quantity")),
        "sku": li.get("sku"), "isGiftCard": bool(li.get("gift_card")),
        "originalUnitPriceSet": money_bag(li.get("price"), currency),
        "totalDiscountSet": money_bag(li.get("total_discount"), currency),
        "discountedTotalSet": money_bag(
            Decimal(str(li.get("price") or "0")) * int(li.get("quantity") or 0)
            - Decimal(str(li.get("total_discount") or "0")), currency),
        "product": ({"__typename": "Product", "id": gid("Product", li["product_id"])}
                    if li.get("product_id") else None),
    } for li in order.get("line_items") or []]
    tags = [t.strip() for t in (order.get("tags") or "").split(",") if t.strip()]
    return {
        "__typename": "Order",
        "id": order.get("admin_graphql_api_id") or gid("Order", order["id"]),
        "legacyResourceId": str(order["id"]), "name": order.get("name"),
        "email": order.get("email"), "phone": order.get("phone"), "note": order.get("note"),
        "createdAt": order.get("created_at"), "processedAt": order.get("processed_at"),
        "updatedAt": order.get("updated_at"), "cancelledAt": order.get("cancelled_at"),
        "cancelReason": (order.get("cancel_reason") or "").upper() or None,
        "closed": order.get("closed_at") is not None, "test": bool(order.get("test")),
        "currencyCode": currency,
        "presentmentCurrencyCode": order.get("presentment_currency") or currency,
        "displayFinancialStatus": (order.get("financial_status") or "pending").upper(),
        "displayFulfillmentStatus": (order.get("fulfillment_status") or "unfulfilled").upper(),
        "tags": tags, "sourceName": order.get("source_name"), "clientIp": order.get("browser_ip"),
        "discountCodes": [d.get("code") for d in order.get("discount_codes") or []],
        "customAttributes": [{"key": a.get("name"), "value": a.get("value")}
                             for a in order.get("note_attributes") or []],
        "customer": customer_node(ctx, customer),
        "subtotalPriceSet": money_bag(order.get("subtotal_price"), currency),
        "currentSubtotalPriceSet": money_bag(order.get("current_subtotal_price",
                                                       order.get("subtotal_price")), currency),
        "totalPriceSet": money_bag(order.get("total_price"), currency),
        "currentTotalPriceSet": money_bag(order.get("current_total_price",
                                                    order.get("total_price")), currency),
        "totalDiscountsSet": money_bag(order.get("total_discounts"), currency),
        "totalTaxSet": money_bag(order.get("total_tax"), currency),
        "totalRefundedSet": money_bag(refunded, currency),
        "taxesIncluded": bool(order.get("taxes_included")),
        "totalShippingPriceSet": money_bag(_shipping(order), currency),
        "totalTipReceivedSet": money_bag(order.get("total_tip_received") or "0", currency),
        "lineItems": connection(lines),
        **_metafield_fields(ctx, order.get("admin_graphql_api_id") or gid("Order", order["id"])),
    }


def _shipping(order: dict[str, Any]) -> Decimal:
    """An order payload's shipping charges (total_shipping_price_set, else its lines)."""
    total = ((order.get("total_shipping_price_set") or {}).get("shop_money") or {}).get("amount")
    if total is not None:
        return Decimal(str(total))
    return sum((Decimal(str(line.get("price") or "0"))
                for line in order.get("shipping_lines") or []), Decimal("0"))


def discount_node(ctx: ApiContext, discount: Discount | None) -> dict[str, Any] | None:
    """DiscountCodeNode with its DiscountCodeBasic / DiscountCodeFreeShipping."""
    if discount is None:
        return None
    d = discount
    typename = "DiscountCodeBasic" if d.kind == "basic" else "DiscountCodeFreeShipping"
    code = {"__typename": "DiscountRedeemCode", "id": gid("DiscountRedeemCode", d.id),
            "code": d.code, "asyncUsageCount": 0}
    if d.customer_ids is None:
        context: dict[str, Any] = {"__typename": "DiscountBuyerSelectionAll", "all": "ALL"}
    else:
        context = {"__typename": "DiscountCustomers",
                   "customers": [{"__typename": "Customer", "id": c} for c in d.customer_ids]}
    minimum = None
    if d.minimum_subtotal is not None:
        minimum = {"__typename": "DiscountMinimumSubtotal",
                   "greaterThanOrEqualToSubtotal": money(d.minimum_subtotal, ctx.shop.currency)}
    elif d.minimum_quantity is not None:
        minimum = {"__typename": "DiscountMinimumQuantity",
                   "greaterThanOrEqualToQuantity": d.minimum_quantity}
    body: dict[str, Any] = {
        "__typename": typename, "title": d.title, "status": d.status, "startsAt": d.starts_at,
        "endsAt": d.ends_at, "createdAt": d.created_at, "updatedAt": d.created_at,
        "usageLimit": d.usage_limit, "appliesOncePerCustomer": d.applies_once_per_customer,
        "asyncUsageCount": 0, "codesCount": {"count": 1, "precision": "EXACT"},
        "codes": connection([code]), "context": context, "minimumRequirement": minimum,
        "combinesWith": {"__typename": "DiscountCombinesWith", **d.combines_with},
        "summary": d.title, "discountClass": "ORDER" if d.kind == "basic" else "SHIPPING",
    }
    if d.kind == "basic":
        value = d.value or {}
        if "percentage" in value:
            gets_value: dict[str, Any] = {"__typename": "DiscountPercentage",
                                          "percentage": value["percentage"]}
        else:
            gets_value = {"__typename": "DiscountAmount",
                          "amount": money(value.get("amount", "0"), ctx.shop.currency),
                          "appliesOnEachItem": bool(value.get("appliesOnEachItem"))}
        body["customerGets"] = {"__typename": "DiscountCustomerGets", "value": gets_value,
                                "items": {"__typename": "AllDiscountItems", "allItems": True}}
    return {"__typename": "DiscountCodeNode", "id": d.gid, "codeDiscount": body,
            **_metafield_fields(ctx, d.gid)}


def shop_node(ctx: ApiContext) -> dict[str, Any]:
    """Shop"""
    s = ctx.shop
    plus = "plus" in s.plan.lower()
    return {"__typename": "Shop", "id": s.gid, "name": s.name, "email": s.email,
            "contactEmail": s.email, "myshopifyDomain": s.domain, "url": f"https://{s.domain}",
            "primaryDomain": {"__typename": "Domain", "host": s.primary_host,
                              "url": f"https://{s.primary_host}"},
            "currencyCode": s.currency, "enabledPresentmentCurrencies": [s.currency],
            "ianaTimezone": s.timezone, "timezoneAbbreviation": "UTC",
            "plan": {"__typename": "ShopPlan", "displayName": s.plan,
                     "partnerDevelopment": False, "shopifyPlus": plus},
            **_metafield_fields(ctx, s.gid)}


def installation_node(ctx: ApiContext) -> dict[str, Any]:
    """AppInstallation (the owner of app-wide metafields)."""
    s = ctx.shop
    return {"__typename": "AppInstallation", "id": s.installation_gid,
            "app": {"__typename": "App", "id": gid("App", ctx.app_id), "apiKey": ctx.client_id,
                    "title": "Loyalty app (emulated)", "handle": "emulated-app"},
            "accessScopes": [{"__typename": "AccessScope", "handle": h}
                             for h in sorted(ctx.scopes)],
            "activeSubscriptions": Items(billing.active_subscriptions(s), "AppSubscription",
                                         billing.SUBSCRIPTION_FIELDS),
            "launchUrl": f"https://admin.shopify.com/store/"
                         f"{s.domain.removesuffix('.myshopify.com')}/apps/{ctx.client_id}",
            **_metafield_fields(ctx, s.installation_gid)}


# --- queries ----------------------------------------------------------------------------------

def query_customer(ctx: ApiContext, args: dict[str, Any]) -> Any:
    """customer(id:)"""
    return customer_node(ctx, _customer_for(ctx, args.get("id") or ""))


def query_order(ctx: ApiContext, args: dict[str, Any]) -> Any:
    """order(id:)"""
    number = gid_number(args.get("id"), "Order")
    return order_node(ctx, ctx.shop.orders.get(number) if number is not None else None)


def query_code_discount_by_code(ctx: ApiContext, args: dict[str, Any]) -> Any:
    """codeDiscountNodeByCode(code:)"""
    return discount_node(ctx, ctx.shop.discount(str(args.get("code") or "")))


def query_code_discount_node(ctx: ApiContext, args: dict[str, Any]) -> Any:
    """codeDiscountNode(id:)"""
    wanted = args.get("id")
    return discount_node(ctx, next((d for d in ctx.shop.discounts.values() if d.gid == wanted),
                                   None))


def query_discount_node(ctx: ApiContext, args: dict[str, Any]) -> Any:
    """discountNode(id:): the DiscountNode of a code discount, found by the id its create
    mutation returned (https://shopify.dev/docs/api/admin-graphql/2026-07/queries/discountNode).
    """
    node = query_code_discount_node(ctx, args)
    if node is None:
        return None
    return {"__typename": "DiscountNode", "id": node["id"], "discount": node["codeDiscount"],
            **_metafield_fields(ctx, node["id"])}


def query_bulk_operation(ctx: ApiContext, args: dict[str, Any]) -> Any:
    """bulkOperation(id:): one of this app's operations on the shop."""
    op = ctx.shop.bulk_operations.get(gid_number(args.get("id"), "BulkOperation") or 0)
    return bulk_ops.operation_node(ctx.bulk, ctx.shop, op) if op is not None else None


QUERIES: dict[str, tuple[str | None, Callable[[ApiContext, dict[str, Any]], Any]]] = {
    "shop": (None, lambda ctx, _: shop_node(ctx)),
    "currentAppInstallation": (None, lambda ctx, _: installation_node(ctx)),
    "customer": ("read_customers", query_customer),
    "order": ("read_orders", query_order),
    "codeDiscountNodeByCode": ("read_discounts", query_code_discount_by_code),
    "codeDiscountNode": ("read_discounts", query_code_discount_node),
    "discountNode": ("read_discounts", query_discount_node),
    "bulkOperation": (None, query_bulk_operation),
}


# --- mutations --------------------------------------------------------------------------------

def _user_error(path: list[str], code: str, message: str, **extra: Any) -> dict[str, Any]:
    """A userError entry: the input path, a code and a message."""
    return {"field": path, "code": code, "message": message, **extra}


_USER_ERROR_FIELDS = {
    "DiscountUserError": frozenset({"field", "code", "message", "extraInfo"}),
    "MetafieldsSetUserError": frozenset({"field", "code", "message", "elementIndex"}),
    "BulkOperationUserError": frozenset({"field", "code", "message"}),
    "StoreCreditAccountCreditUserError": frozenset({"field", "code", "message"}),
}


def _errors(errors: list[dict[str, Any]], typename: str) -> Items:
    """A mutation's userErrors, typed so their selection is checked even when empty."""
    defaults = {"extraInfo": None} if typename == "DiscountUserError" else (
        {"elementIndex": None} if typename == "MetafieldsSetUserError" else {})
    return Items([{"__typename": typename, **defaults, **e} for e in errors], typename,
                 _USER_ERROR_FIELDS[typename])


def _discount_errors(ctx: ApiContext, data: dict[str, Any], root: str) -> list[dict[str, Any]]:
    """Validation both code-discount create mutations share."""
    errors = []
    code = str(data.get("code") or "").strip()
    if not str(data.get("title") or "").strip():
        errors.append(_user_error([root, "title"], "BLANK", "Title can't be blank"))
    if not code:
        errors.append(_user_error([root, "code"], "BLANK", "Code can't be blank"))
    elif len(code) > 255:
        errors.append(_user_error([root, "code"], "TOO_LONG",
                                  "Code is too long (maximum is 255 characters)"))
    elif ctx.shop.discount(code) is not None:
        errors.append(_user_error([root, "code"], "TAKEN",
                                  "Code must be unique. Please try a different code."))
    if data.get("usageLimit") is not None and (_int(data["usageLimit"]) or 0) < 1:
        errors.append(_user_error([root, "usageLimit"], "GREATER_THAN",
                                  "Usage limit must be greater than 0"))
    starts, ends = data.get("startsAt"), data.get("endsAt")
    if starts and ends and str(ends) <= str(starts):
        errors.append(_user_error([root, "endsAt"], "INVALID",
                                  "Ends at needs to be after starts_at"))
    for index, customer_gid in enumerate(_customer_selection(data) or []):
        if gid_number(customer_gid, "Customer") is None:
            errors.append(_user_error([root, "context", "customers", "add", str(index)],
                                      "INVALID", "Customer is invalid"))
    minimum = data.get("minimumRequirement") or {}
    subtotal = (minimum.get("subtotal") or {}).get("greaterThanOrEqualToSubtotal")
    if subtotal is not None and _decimal(subtotal) is None:
        errors.append(_user_error([root, "minimumRequirement", "subtotal"], "INVALID",
                                  "Minimum subtotal is invalid"))
    return errors


def _customer_selection(data: dict[str, Any]) -> list[str] | None:
    """Customer gids the discount is limited to (context, or the deprecated customerSelection)."""
    context = data.get("context") or {}
    if context.get("customers"):
        return list((context["customers"] or {}).get("add") or [])
    selection = data.get("customerSelection") or {}
    if selection.get("customers"):
        return list((selection["customers"] or {}).get("add") or [])
    return None


def _int(value: Any) -> int | None:
    """An int, or None when the value is not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _decimal(value: Any) -> Decimal | None:
    """A Decimal, or None when the value is not a number."""
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _new_discount(ctx: ApiContext, data: dict[str, Any], kind: str,
                  value: dict[str, Any] | None) -> Discount:
    """The Discount a valid create input describes (not stored yet)."""
    minimum = data.get("minimumRequirement") or {}
    subtotal = (minimum.get("subtotal") or {}).get("greaterThanOrEqualToSubtotal")
    quantity = (minimum.get("quantity") or {}).get("greaterThanOrEqualToQuantity")
    combines = data.get("combinesWith") or {}
    return Discount(
        id=next_id(), kind=kind, code=str(data["code"]).strip(), title=str(data["title"]),
        starts_at=data.get("startsAt") or ctx.iso_now, ends_at=data.get("endsAt"),
        customer_ids=_customer_selection(data), value=value,
        usage_limit=_int(data.get("usageLimit")),
        applies_once_per_customer=bool(data.get("appliesOncePerCustomer")),
        combines_with={"orderDiscounts": bool(combines.get("orderDiscounts")),
                       "productDiscounts": bool(combines.get("productDiscounts")),
                       "shippingDiscounts": bool(combines.get("shippingDiscounts"))},
        minimum_subtotal=str(subtotal) if subtotal is not None else None,
        minimum_quantity=str(quantity) if quantity is not None else None,
        created_at=ctx.iso_now, raw_input=data)


def _store_discount(ctx: ApiContext, discount: Discount) -> Commit:
    """The commit that stores a created discount under its code."""
    def commit() -> None:
        """Apply the mutation's write."""
        ctx.shop.discounts[discount.code.upper()] = discount
    return commit


def _injected_user_error(root: str) -> dict[str, Any]:
    """The userError fail_next(..., 'user_error') produces."""
    return _user_error([root], "INTERNAL_ERROR",
                       "Emulated failure: the mutation could not be completed.")


def mutation_discount_basic(ctx: ApiContext, args: dict[str, Any]
                            ) -> tuple[dict[str, Any], Commit | None]:
    """discountCodeBasicCreate(basicCodeDiscount:)"""
    root = "basicCodeDiscount"
    data = args.get(root) or {}
    if "discountCodeBasicCreate" in ctx.forced_user_errors:
        return _discount_payload(None, [_injected_user_error(root)]), None
    errors = _discount_errors(ctx, data, root)
    gets = data.get("customerGets") or {}
    value_in = gets.get("value") or {}
    value: dict[str, Any] = {}
    if value_in.get("percentage") is not None:
        pct = _decimal(value_in["percentage"])
        if pct is None or not Decimal("0") < pct <= Decimal("1"):
            errors.append(_user_error([root, "customerGets", "value", "percentage"],
                                      "VALUE_OUTSIDE_RANGE", "Value must be between 0.0 and 1.0"))
        value = {"percentage": float(pct) if pct is not None else None}
    elif value_in.get("discountAmount") is not None:
        amount_in = value_in["discountAmount"] or {}
        amount = _decimal(amount_in.get("amount"))
        if amount is None or amount <= 0:
            errors.append(_user_error([root, "customerGets", "value", "discountAmount", "amount"],
                                      "GREATER_THAN", "Value must be greater than 0"))
        value = {"amount": str(amount),
                 "appliesOnEachItem": bool(amount_in.get("appliesOnEachItem"))}
    else:
        errors.append(_user_error([root, "customerGets", "value"], "BLANK",
                                  "Value can't be blank"))
    if not gets.get("items"):
        errors.append(_user_error([root, "customerGets", "items"], "BLANK",
                                  "Items can't be blank"))
    if errors:
        return _discount_payload(None, errors), None
    discount = _new_discount(ctx, data, "basic", value)
    return _discount_payload(discount_node(ctx, discount), []), _store_discount(ctx, discount)


def mutation_discount_free_shipping(ctx: ApiContext, args: dict[str, Any]
                                    ) -> tuple[dict[str, Any], Commit | None]:
    """discountCodeFreeShippingCreate(freeShippingCodeDiscount:)"""
    root = "freeShippingCodeDiscount"
    data = args.get(root) or {}
    if "discountCodeFreeShippingCreate" in ctx.forced_user_errors:
        return _discount_payload(None, [_injected_user_error(root)]), None
    errors = _discount_errors(ctx, data, root)
    if errors:
        return _discount_payload(None, errors), None
    discount = _new_discount(ctx, data, "free_shipping", None)
    return _discount_payload(discount_node(ctx, discount), []), _store_discount(ctx, discount)


def _discount_payload(node: dict[str, Any] | None, errors: list[dict[str, Any]]
                      ) -> dict[str, Any]:
    """DiscountCodeBasicCreatePayload / DiscountCodeFreeShippingCreatePayload."""
    return {"codeDiscountNode": node, "userErrors": _errors(errors, "DiscountUserError")}


def mutation_discount_delete(ctx: ApiContext, args: dict[str, Any]
                             ) -> tuple[dict[str, Any], Commit | None]:
    """discountCodeDelete(id:)"""
    if "discountCodeDelete" in ctx.forced_user_errors:
        return {"deletedCodeDiscountId": None,
                "userErrors": _errors([_injected_user_error("id")], "DiscountUserError")}, None
    found = next((d for d in ctx.shop.discounts.values() if d.gid == args.get("id")), None)
    if found is None:
        return {"deletedCodeDiscountId": None, "userErrors": _errors(
            [_user_error(["id"], "INVALID", "Discount does not exist")],
            "DiscountUserError")}, None

    def commit() -> None:
        """Apply the mutation's write."""
        ctx.shop.discounts.pop(found.code.upper(), None)

    return {"deletedCodeDiscountId": found.gid,
            "userErrors": _errors([], "DiscountUserError")}, commit


def mutation_store_credit(ctx: ApiContext, args: dict[str, Any]
                          ) -> tuple[dict[str, Any], Commit | None]:
    """storeCreditAccountCredit(id:, creditInput: {creditAmount, expiresAt})"""
    target = str(args.get("id") or "")
    credit = args.get("creditInput") or {}
    amount_in = credit.get("creditAmount") or {}
    amount = _decimal(amount_in.get("amount"))
    currency = str(amount_in.get("currencyCode") or "")
    errors: list[dict[str, Any]] = []

    def fail(path: list[str], code: str, message: str) -> None:
        """Record a userError for this input."""
        errors.append(_user_error(path, code, message))

    if "storeCreditAccountCredit" in ctx.forced_user_errors:
        errors.append(_injected_user_error("creditInput"))
    account = next((a for a in ctx.shop.store_credit.values() if a.gid == target), None)
    owner = account.owner_id if account else target
    if account is None and gid_number(target, "Customer") is None:
        if gid_number(target, "StoreCreditAccount") is not None:
            fail(["id"], "ACCOUNT_NOT_FOUND", "Store credit account does not exist.")
        else:
            fail(["id"], "OWNER_NOT_FOUND", "Owner does not exist.")
    if amount is None or amount <= 0:
        fail(["creditInput", "creditAmount", "amount"], "NEGATIVE_OR_ZERO_AMOUNT",
             "A positive amount must be used to credit a store credit account.")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        fail(["creditInput", "creditAmount", "currencyCode"], "UNSUPPORTED_CURRENCY",
             "The currency provided is not currently supported.")
    elif account is not None and account.currency != currency:
        fail(["creditInput", "creditAmount", "currencyCode"], "MISMATCHING_CURRENCY",
             "The currency provided does not match the currency of the store credit account.")
    expires = credit.get("expiresAt")
    if expires and str(expires) <= ctx.iso_now:
        fail(["creditInput", "expiresAt"], "EXPIRES_AT_IN_PAST",
             "The expiry date must be in the future.")
    if errors:
        return {"storeCreditAccountTransaction": None,
                "userErrors": _errors(errors, "StoreCreditAccountCreditUserError")}, None
    assert amount is not None
    account = account or ctx.shop.store_credit.get((owner, currency)) or StoreCreditAccount(
        id=next_id(), owner_id=owner, currency=currency)
    txn = StoreCreditTransaction(id=next_id(), amount=amount,
                                 balance_after=account.balance + amount,
                                 created_at=ctx.iso_now, expires_at=expires)
    after = StoreCreditAccount(id=account.id, owner_id=owner, currency=currency,
                               balance=txn.balance_after)
    node = {"__typename": "StoreCreditAccountCreditTransaction",
            "id": gid("StoreCreditAccountCreditTransaction", txn.id),
            "amount": money(amount, currency),
            "balanceAfterTransaction": money(txn.balance_after, currency),
            "createdAt": txn.created_at, "expiresAt": expires, "event": "ADJUSTMENT",
            "remainingAmount": money(amount, currency),
            "account": store_credit_account_node(ctx, after)}
    final = account

    def commit() -> None:
        """Apply the mutation's write."""
        final.balance = txn.balance_after
        final.transactions.append(txn)
        ctx.shop.store_credit[(owner, currency)] = final

    return {"storeCreditAccountTransaction": node,
            "userErrors": _errors([], "StoreCreditAccountCreditUserError")}, commit


# Value checks per metafield type; anything else is INVALID_TYPE.
def _valid_json(value: str) -> bool:
    """Whether a metafield value parses as JSON."""
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


_TYPE_CHECKS: dict[str, Callable[[str], bool]] = {
    "number_integer": lambda v: re.fullmatch(r"-?\d+", v) is not None,
    "number_decimal": lambda v: re.fullmatch(r"-?\d+(\.\d+)?", v) is not None,
    "boolean": lambda v: v in ("true", "false"),
    "json": _valid_json,
    "single_line_text_field": lambda v: "\n" not in v,
    "multi_line_text_field": lambda v: True,
    "date": lambda v: re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) is not None,
    "date_time": lambda v: re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})?", v)
    is not None,
    "url": lambda v: v.startswith(("http://", "https://")),
    "money": lambda v: _valid_json(v) and {"amount", "currency_code"} <= set(json.loads(v)),
    "color": lambda v: re.fullmatch(r"#[0-9A-Fa-f]{6}", v) is not None,
}
_TYPE_MESSAGES = {"number_integer": "Value must be an integer.",
                  "number_decimal": "Value must be a decimal.",
                  "boolean": "Value must be true or false.", "json": "Value must be valid JSON."}


def _owner_exists(ctx: ApiContext, owner_id: str) -> bool:
    """This shop's installation or Shop, or any well-formed customer, order or discount id.

    Customers and orders are not checked against the shop's records: tests often create them
    through webhooks posted straight to the app, which the emulator never saw.
    """
    if owner_id in (ctx.shop.installation_gid, ctx.shop.gid):
        return True
    return any(gid_number(owner_id, kind) is not None
               for kind in ("Customer", "Order", "DiscountCodeNode"))


_OWNER_SCOPES = {"Customer": "write_customers", "Order": "write_orders",
                 "DiscountCodeNode": "write_discounts"}


def mutation_bulk_run_query(ctx: ApiContext, args: dict[str, Any]
                            ) -> tuple[dict[str, Any], Commit | None]:
    """bulkOperationRunQuery(query:, groupObjects:): a CREATED operation, run in the
    background; one bulk query at a time per shop and app."""
    query = str(args.get("query") or "")
    problem = bulk_ops.validate(query)
    if problem is None and any(op.status in ("CREATED", "RUNNING")
                               for op in ctx.shop.bulk_operations.values()):
        problem = ("OPERATION_IN_PROGRESS", "A bulk query operation for this app and shop is "
                                            "already in progress.")
    if problem is None and ctx.bulk is None:
        problem = ("INVALID", "Bulk operations are not available here.")
    if problem is not None:
        return {"bulkOperation": None, "userErrors": _errors(
            [_user_error(["query"], *problem)], "BulkOperationUserError")}, None
    op = bulk_ops.new_operation(ctx, query, bool(args.get("groupObjects")))

    def commit() -> None:
        """Store the operation and start running it."""
        ctx.shop.bulk_operations[op.id] = op
        assert ctx.bulk is not None
        ctx.bulk.start(ctx, op)

    return {"bulkOperation": bulk_ops.operation_node(ctx.bulk, ctx.shop, op),
            "userErrors": _errors([], "BulkOperationUserError")}, commit


def mutation_metafields_set(ctx: ApiContext, args: dict[str, Any]
                            ) -> tuple[dict[str, Any], Commit | None]:
    """metafieldsSet(metafields: [MetafieldsSetInput!]!): all or nothing, at most 25."""
    inputs = args.get("metafields") or []
    errors: list[dict[str, Any]] = []

    def fail(index: int, part: str, code: str, message: str) -> None:
        """Record a userError for this input."""
        errors.append(_user_error(["metafields", str(index), part], code, message))

    if "metafieldsSet" in ctx.forced_user_errors:
        errors.append(_injected_user_error("metafields"))
    staged: list[Metafield] = []
    for index, item in enumerate(inputs):
        owner = str(item.get("ownerId") or "")
        namespace = ctx.namespace(item.get("namespace"))
        key = str(item.get("key") or "")
        value = item.get("value")
        existing = ctx.shop.metafield(owner, namespace, key)
        type_ = item.get("type") or (existing.type if existing else None)
        kind = _owner_kind(owner)
        if not owner or not _owner_exists(ctx, owner):
            fail(index, "ownerId", "INVALID", "Owner does not exist.")
            continue
        if kind in _OWNER_SCOPES and not ctx.has_scope(_OWNER_SCOPES[kind]):
            fail(index, "ownerId", "APP_NOT_AUTHORIZED",
                 f"Access denied: `{_OWNER_SCOPES[kind]}` access scope is required.")
            continue
        if len(key) < 2:
            fail(index, "key", "TOO_SHORT", "Key is too short (minimum is 2 characters)")
        elif len(key) > 64:
            fail(index, "key", "TOO_LONG", "Key is too long (maximum is 64 characters)")
        elif not re.fullmatch(r"[A-Za-z0-9_-]+", key):
            fail(index, "key", "INVALID", "Key contains one or more invalid characters.")
        if not 3 <= len(namespace) <= 255:
            fail(index, "namespace", "TOO_SHORT" if len(namespace) < 3 else "TOO_LONG",
                 "Namespace must be between 3 and 255 characters")
        if not type_:
            fail(index, "type", "BLANK", "Type can't be blank")
        elif type_ not in _TYPE_CHECKS:
            fail(index, "type", "INVALID_TYPE", f"Type '{type_}' is not a valid type.")
        if value is None or str(value) == "":
            fail(index, "value", "BLANK", "Value can't be blank")
        elif type_ in _TYPE_CHECKS and not _TYPE_CHECKS[type_](str(value)):
            fail(index, "value", "INVALID_VALUE",
                 _TYPE_MESSAGES.get(type_, f"Value is invalid for type '{type_}'."))
        digest = item.get("compareDigest")
        if digest is not None and existing is not None and digest != compare_digest(
                existing.value, existing.type):
            fail(index, "compareDigest", "STALE_OBJECT",
                 "The resource has been updated since it was loaded. Try again with an "
                 "updated `compareDigest` value.")
        staged.append(Metafield(
            id=existing.id if existing else next_id(), owner_id=owner, namespace=namespace,
            key=key, type=str(type_), value=str(value),
            created_at=existing.created_at if existing else ctx.iso_now, updated_at=ctx.iso_now))
    if errors:
        return {"metafields": None, "userErrors": _errors(errors, "MetafieldsSetUserError")}, None

    def commit() -> None:
        """Apply the mutation's write."""
        for mf in staged:
            ctx.shop.metafields[(mf.owner_id, mf.namespace, mf.key)] = mf

    return {"metafields": [metafield_node(ctx, m) for m in staged],
            "userErrors": _errors([], "MetafieldsSetUserError")}, commit


MUTATIONS: dict[str, tuple[str | None,
                           Callable[[ApiContext, dict[str, Any]],
                                    tuple[dict[str, Any], Commit | None]]]] = {
    "discountCodeBasicCreate": ("write_discounts", mutation_discount_basic),
    "discountCodeFreeShippingCreate": ("write_discounts", mutation_discount_free_shipping),
    "discountCodeDelete": ("write_discounts", mutation_discount_delete),
    "storeCreditAccountCredit": ("write_store_credit_account_transactions", mutation_store_credit),
    "metafieldsSet": (None, mutation_metafields_set),
    # No scope: an app sends its own Flow triggers (devstore/flow.py).
    "flowTriggerReceive": (None, mutation_flow_trigger_receive),
    "bulkOperationRunQuery": (None, mutation_bulk_run_query),
    "appSubscriptionCreate": (None, billing.mutation_subscription_create),
    "appUsageRecordCreate": (None, billing.mutation_usage_record_create),
}
