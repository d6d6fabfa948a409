"""LoyaltyLion customers.

LoyaltyLion's customer export lets the merchant pick and rename its columns
(https://help.loyaltylion.com/articles/5367139-export), so no fixed header row is documented.
We read the names of its customer object
(https://developers.loyaltylion.com/headless-api/2025-06/customers/get-customer):
merchant_id (the Shopify customer id), id, email, first_name, last_name, points_approved,
points_pending, points_spent, enrolled_at, state; its tier and birthday are nested there, so
we assume flat columns `tier` (the tier's name) and `birthday` (MM-DD or YYYY-MM-DD, or
`birthday_month` and `birthday_day`), plus `referral_code` and `last_activity_at`, all
optional. A blocked customer is refused.
"""

from __future__ import annotations

from datetime import datetime

from app.loyalty.importing.rows import (
    ImportRow,
    RowRefused,
    birthday_of,
    customer_id_of,
    email_of,
    identify,
    moment_of,
    pick,
    points_of,
    text_of,
)

SOURCE = "loyaltylion"
LABEL = "LoyaltyLion"
DOCUMENTATION = "https://developers.loyaltylion.com/headless-api/2025-06/customers/get-customer"
IDENTITY_COLUMNS = ("email", "merchant_id")
COLUMNS = ("merchant_id", "id", "email", "first_name", "last_name", "points_approved",
           "points_pending", "points_spent", "enrolled_at", "state", "tier", "birthday",
           "referral_code", "last_activity_at")


def _birthday(record: dict[str, str]) -> str:
    month, day = pick(record, "birthday_month"), pick(record, "birthday_day")
    if month and day:
        return f"{month}-{day}"
    return pick(record, "birthday")


def parse(record: dict[str, str], line: int, now: datetime) -> ImportRow:
    """One LoyaltyLion customer."""
    if pick(record, "state").lower() == "blocked":
        raise RowRefused("the customer is blocked in LoyaltyLion")
    email = email_of(record, "email")
    customer_id = customer_id_of(record, "merchant_id")
    return ImportRow(
        line=line, key=identify(SOURCE, pick(record, "id"), email, customer_id), email=email,
        customer_id=customer_id, first_name=text_of(record, "first_name"),
        last_name=text_of(record, "last_name"),
        points=points_of(record, "points_approved", label="points_approved"),
        pending_points=points_of(record, "points_pending", label="points_pending"),
        tier=text_of(record, "tier", "tier_name", limit=64),
        referral_code=text_of(record, "referral_code", limit=64),
        birthday=birthday_of(_birthday(record)),
        last_activity_at=moment_of(record, "last_activity_at", "enrolled_at"),
        enrolled_at=moment_of(record, "enrolled_at"))
