"""Discount codes for redeemed rewards: unguessable, readable aloud, unique per shop.

A code like `LOYAL-7F3KQ-9XM4P` is a bearer token for money off, so its random part carries
at least MIN_ENTROPY_BITS from the OS random source. The alphabet drops 0/O and 1/I/L, which
shoppers mistype from a phone screen; Shopify compares codes case-insensitively, so
upper case alone costs nothing.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.loyalty.members import CODE_ALPHABET
from app.models import Redemption

MIN_ENTROPY_BITS = 40
DEFAULT_PREFIX = "LOYAL"
GROUPS = 2
GROUP_SIZE = 5
# Redemptions.code is 64 characters: a prefix of at most 20 leaves room for the groups.
_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,19}$")


class CodeSpaceExhausted(RuntimeError):
    """No free code was found in a reasonable number of draws (a broken generator)."""


def entropy_bits(groups: int = GROUPS, group_size: int = GROUP_SIZE) -> float:
    """Bits of randomness in a code's random part."""
    return groups * group_size * math.log2(len(CODE_ALPHABET))


def new_discount_code(prefix: str = DEFAULT_PREFIX, *, groups: int = GROUPS,
                      group_size: int = GROUP_SIZE) -> str:
    """A fresh random code such as LOYAL-7F3KQ-9XM4P."""
    prefix = prefix.upper()
    if not _PREFIX.match(prefix):
        raise ValueError("a code prefix is 1-20 letters and digits, starting with a letter")
    if entropy_bits(groups, group_size) < MIN_ENTROPY_BITS:
        raise ValueError(f"a code needs at least {MIN_ENTROPY_BITS} bits of randomness")
    parts = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(group_size))
             for _ in range(groups)]
    return "-".join([prefix, *parts])


def normalise_code(raw: str | None) -> str | None:
    """A code as typed by a shopper, trimmed and upper-cased, or None when empty."""
    code = (raw or "").strip().upper()
    return code or None


def code_is_taken(session: Session, shop_id: int, code: str) -> bool:
    """Whether a redemption of this shop already holds the code."""
    return session.execute(select(Redemption.id).where(
        Redemption.shop_id == shop_id, Redemption.code == code)).first() is not None


def unused_discount_code(session: Session, shop_id: int, prefix: str = DEFAULT_PREFIX, *,
                         generate: Callable[[str], str] = new_discount_code,
                         attempts: int = 8) -> str:
    """A code no redemption of this shop holds yet.

    The unique constraint on redemptions(shop_id, code) stays the real guard: two
    transactions may still draw the same free code, and the loser retries (redemption.py).
    """
    for _ in range(attempts):
        code = generate(prefix)
        if not code_is_taken(session, shop_id, code):
            return code
    raise CodeSpaceExhausted(f"no free code after {attempts} draws")
