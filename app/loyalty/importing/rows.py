"""The one row every source's parser produces, and the field readers they share.

A parser turns one CSV record (a dict keyed by normalised header) into an `ImportRow`, or
raises `RowRefused` with the reason the merchant reads next to the line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from app.db import parse_utc
from app.loyalty.bonuses import UNKNOWN_YEAR
from app.loyalty.members import normalise_email

# A referral code we can keep as it is: what fits our column and a `?ref=` link unescaped.
KEEPABLE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# PostgreSQL's integer column: a balance beyond it is a typo, not a customer.
MAX_POINTS = 2_000_000_000
MAX_CUSTOMER_ID = 2**63 - 1


class RowRefused(ValueError):
    """This line cannot be imported; the message says why."""


@dataclass
class ImportRow:
    """A customer from another program, in our terms.

    `key` identifies the customer in its source (its id there, else the email), so the same
    customer imported again is recognised; `customer_id` is Shopify's, when the source has it.
    """

    line: int
    key: str
    email: str | None
    customer_id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    points: int = 0
    pending_points: int = 0
    pending_until: datetime | None = None
    tier: str | None = None
    referral_code: str | None = None
    birthday: date | None = None
    last_activity_at: datetime | None = None
    enrolled_at: datetime | None = None
    # A referral code an earlier row of the file already has: this member gets a new one.
    shared_code: str | None = None

    def to_json(self) -> dict:
        """A JSON-ready dict (dates as ISO text) for the staged chunk."""
        data = dict(vars(self))
        for name in ("pending_until", "birthday", "last_activity_at", "enrolled_at"):
            if data[name] is not None:
                data[name] = data[name].isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict) -> ImportRow:
        """The row back from its staged dict."""
        values = dict(data)
        for name in ("pending_until", "last_activity_at", "enrolled_at"):
            if values.get(name):
                values[name] = datetime.fromisoformat(values[name])
        if values.get("birthday"):
            values["birthday"] = date.fromisoformat(values["birthday"])
        return cls(**values)


def normalise_header(name: str) -> str:
    """`Points Balance`, `points_balance` and ` POINTS-BALANCE ` all read `points_balance`."""
    return re.sub(r"[^a-z0-9]+", "_", (name or "").strip().lower().lstrip("\ufeff")).strip("_")


def pick(record: dict[str, str], *names: str) -> str:
    """The first non-empty value among these (normalised) column names, else ''."""
    for name in names:
        value = (record.get(name) or "").strip()
        if value:
            return value
    return ""


def email_of(record: dict[str, str], *names: str) -> str | None:
    """The row's email, lowercased; RowRefused when it is present but not an email."""
    raw = pick(record, *names)
    if not raw:
        return None
    if "\x00" in raw or len(raw) > 320 or not _EMAIL.match(raw):
        raise RowRefused(f"email {raw[:80]!r} is not an email address")
    return normalise_email(raw)


def points_of(record: dict[str, str], *names: str, label: str = "points") -> int:
    """A whole, non-negative number of points ('' is 0; `1,200` and `1200.0` are read)."""
    raw = pick(record, *names).replace(",", "").replace("_", "")
    if not raw:
        return 0
    try:
        number = float(raw)
    except ValueError:
        raise RowRefused(f"{label} {raw[:40]!r} is not a number") from None
    if number != int(number):
        raise RowRefused(f"{label} {raw[:40]!r} is not a whole number")
    if number < 0:
        raise RowRefused(f"{label} {raw[:40]!r} is negative")
    if number > MAX_POINTS:
        raise RowRefused(f"{label} {raw[:40]!r} is too large")
    return int(number)


def customer_id_of(record: dict[str, str], *names: str) -> int | None:
    """Shopify's customer id when the column has one; RowRefused when it is not an id."""
    raw = pick(record, *names)
    if not raw:
        return None
    if raw.startswith("gid://shopify/Customer/"):
        raw = raw.rsplit("/", 1)[1]
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_CUSTOMER_ID:
        raise RowRefused(f"customer id {raw[:40]!r} is not a Shopify customer id")
    return int(raw)


def moment_of(record: dict[str, str], *names: str) -> datetime | None:
    """An ISO 8601 time or date from the first of these columns that has one, as naive UTC;
    None when all are empty."""
    name = next((n for n in names if (record.get(n) or "").strip()), None)
    if name is None:
        return None
    raw = record[name].strip()
    try:
        return parse_utc(raw.replace(" UTC", "").replace(" ", "T", 1) if " " in raw else raw)
    except ValueError:
        raise RowRefused(f"{name} {raw[:40]!r} is not an ISO 8601 date") from None


def birthday_of(raw: str, *, year_unknown: int | None = None) -> date | None:
    """A birthday from `YYYY-MM-DD`, `MM-DD`, `MM/DD` or `MM/DD/YYYY`; a year the source uses
    for "no year" (Smile's 1004) or none at all is stored as our UNKNOWN_YEAR."""
    text = raw.strip()
    if not text:
        return None
    full = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", text)
    us = re.match(r"^(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}))?$", text)
    if full:
        year, month, day = int(full[1]), int(full[2]), int(full[3])
    elif us:
        month, day, year = int(us[1]), int(us[2]), int(us[3] or UNKNOWN_YEAR)
    else:
        raise RowRefused(f"birthday {text[:40]!r} is not a date")
    if year == year_unknown or year < 1900:
        year = UNKNOWN_YEAR
    try:
        return date(year, month, day)
    except ValueError:
        raise RowRefused(f"birthday {text[:40]!r} is not a calendar date") from None


def code_from_link(link: str) -> str | None:
    """The referral code at the end of a referral link (`http://i.refs.cc/9qr5Pw` → 9qr5Pw,
    `https://shop.com/?ref=ADA-7K3Q` → ADA-7K3Q)."""
    link = link.strip()
    if not link:
        return None
    parts = urlsplit(link if "//" in link else f"//{link}")
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        if name in ("ref", "referral_code", "code") and value:
            return value
    segments = [s for s in parts.path.split("/") if s]
    return segments[-1] if segments else None


def text_of(record: dict[str, str], *names: str, limit: int = 255) -> str | None:
    """A short text field, trimmed; RowRefused for a NUL, None when empty."""
    raw = pick(record, *names)
    if "\x00" in raw:
        raise RowRefused("a field contains a NUL character")
    return raw[:limit] or None


def identify(source: str, external_id: str | None, email: str | None,
             customer_id: int | None) -> str:
    """The row's source key: the source's own id, else the Shopify id, else the email."""
    if external_id:
        return f"{source}:id:{external_id[:120]}"
    if customer_id:
        return f"{source}:customer:{customer_id}"
    if email:
        return f"{source}:email:{email[:160]}"
    raise RowRefused("the row has neither an email nor a customer id")
