"""An in-memory Shopify for redemption tests: it keeps discounts and credits, records every
call, and can be told to fail, to lose its answer, or to take the process down mid-call.

It stands for Shopify's Admin API (not our code), implementing the DiscountIssuer port the
way discountCodeBasicCreate and friends behave: codes are unique per shop (case-insensitive),
and a create either happens or raises.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


class ShopifyUnavailable(Exception):
    """A 5xx, a timeout, or throttling given up on."""


class ShopifyUserError(Exception):
    """userErrors in a mutation's payload."""


class SimulatedCrash(BaseException):  # noqa: N818 - it is the process dying, not an error
    """The worker process dies (OOM kill, deploy) in the middle of the call."""


@dataclass
class Call:
    """One call the app made."""

    method: str
    args: dict[str, Any]


@dataclass
class InMemoryDiscountIssuer:
    """A shop's discounts and store credit, with switches for the failures that matter.

    mode:
      ok                 calls succeed
      fail               creates raise before anything is made (lookups still answer)
      fail_after_create  the discount/credit is made, then the answer is lost (a timeout)
      crash              the process dies before Shopify sees the call
      crash_after_create the process dies after Shopify made it
      unreachable        every call, lookups too, raises
    """

    mode: str = "ok"
    calls: list[Call] = field(default_factory=list)
    discounts: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    credits: list[tuple[str, dict[str, Any], datetime]] = field(default_factory=list)
    clock: datetime | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _create(self, method: str, args: dict[str, Any], make: Any) -> str:
        with self._lock:
            self.calls.append(Call(method, args))
            if self.mode in {"fail", "unreachable"}:
                raise ShopifyUnavailable("503 Service Unavailable")
            if self.mode == "crash":
                raise SimulatedCrash
            made = make()
            if self.mode == "fail_after_create":
                raise ShopifyUnavailable("read timeout")
            if self.mode == "crash_after_create":
                raise SimulatedCrash
            return made

    def _new_discount(self, kind: str, args: dict[str, Any]) -> str:
        key = args["code"].upper()
        if key in self.discounts:
            raise ShopifyUserError("Code must be unique. Please try a different code.")
        gid = f"gid://shopify/DiscountCodeNode/{next(self._ids)}"
        self.discounts[key] = (gid, {"kind": kind, **args})
        return gid

    def create_basic_discount(self, **args: Any) -> str:
        """discountCodeBasicCreate."""
        return self._create("create_basic_discount", args,
                            lambda: self._new_discount("basic", args))

    def create_free_shipping_discount(self, **args: Any) -> str:
        """discountCodeFreeShippingCreate."""
        return self._create("create_free_shipping_discount", args,
                            lambda: self._new_discount("free_shipping", args))

    def credit_store_credit(self, *, customer_gid: str, amount: Decimal, currency: str) -> str:
        """storeCreditAccountCredit."""
        args = {"customer_gid": customer_gid, "amount": amount, "currency": currency}

        def make() -> str:
            gid = f"gid://shopify/StoreCreditAccountCreditTransaction/{next(self._ids)}"
            self.credits.append((gid, args, self.clock or datetime.min))
            return gid

        return self._create("credit_store_credit", args, make)

    def find_discount(self, code: str) -> str | None:
        """codeDiscountNodeByCode."""
        with self._lock:
            self.calls.append(Call("find_discount", {"code": code}))
            if self.mode == "unreachable":
                raise ShopifyUnavailable("503 Service Unavailable")
            found = self.discounts.get(code.upper())
            return found[0] if found else None

    def find_store_credit(self, *, customer_gid: str, amount: Decimal, currency: str,
                          since: datetime) -> str | None:
        """A matching credit in the customer's store credit account transactions."""
        with self._lock:
            self.calls.append(Call("find_store_credit", {"customer_gid": customer_gid}))
            if self.mode == "unreachable":
                raise ShopifyUnavailable("503 Service Unavailable")
            return next((gid for gid, args, at in self.credits
                         if args == {"customer_gid": customer_gid, "amount": amount,
                                     "currency": currency} and at >= since), None)

    def void_discount(self, discount_id: str) -> None:
        """discountCodeDelete; a discount already gone counts as deleted."""
        with self._lock:
            self.calls.append(Call("void_discount", {"discount_id": discount_id}))
            if self.mode in {"fail", "unreachable"}:
                raise ShopifyUnavailable("503 Service Unavailable")
            for code, (gid, _) in list(self.discounts.items()):
                if gid == discount_id:
                    del self.discounts[code]

    def creates(self) -> list[Call]:
        """The calls that ask Shopify to make something."""
        return [c for c in self.calls
                if c.method.startswith("create_") or c.method == "credit_store_credit"]
