"""Our own member export (`app/loyalty/importing/exporting.py`), read back: what a shop
exported from Loyalty Loop imports into another shop with the same balances, tiers, referral
codes and birthdays."""

from __future__ import annotations

from datetime import datetime

from app.loyalty.importing.rows import (
    ImportRow,
    birthday_of,
    customer_id_of,
    email_of,
    identify,
    moment_of,
    pick,
    points_of,
    text_of,
)

SOURCE = "loyaltyloop"
LABEL = "Loyalty Loop"
DOCUMENTATION = "README.md#importing-members-and-exporting-everything"
IDENTITY_COLUMNS = ("email", "customer_id")
MEMBER_COLUMNS = ("customer_id", "email", "first_name", "last_name", "points_available",
                  "points_pending", "pending_until", "points_lifetime", "tier", "tier_since",
                  "referral_code", "birthday", "last_activity_at", "created_at")
COLUMNS = MEMBER_COLUMNS


def _unguarded(text: str | None) -> str | None:
    """A name as it was before the export guarded it from spreadsheets (`'=Bob` → `=Bob`)."""
    if text and len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        return text[1:]
    return text


def parse(record: dict[str, str], line: int, now: datetime) -> ImportRow:
    """One member as we export them."""
    email = email_of(record, "email")
    customer_id = customer_id_of(record, "customer_id")
    return ImportRow(
        line=line, key=identify(SOURCE, None, email, customer_id), email=email,
        customer_id=customer_id, first_name=_unguarded(text_of(record, "first_name")),
        last_name=_unguarded(text_of(record, "last_name")),
        points=points_of(record, "points_available", label="points_available"),
        pending_points=points_of(record, "points_pending", label="points_pending"),
        pending_until=moment_of(record, "pending_until"),
        tier=text_of(record, "tier", limit=64),
        referral_code=text_of(record, "referral_code", limit=64),
        birthday=birthday_of(pick(record, "birthday")),
        last_activity_at=moment_of(record, "last_activity_at"),
        enrolled_at=moment_of(record, "created_at"))
