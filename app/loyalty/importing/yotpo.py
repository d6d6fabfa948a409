"""Yotpo Loyalty & Referrals (formerly Swell) customers.

Yotpo documents one CSV shape for both its import and its export
(https://support.yotpo.com/v1/docs/importingexporting-points-and-customers): Full Name, First
Name, Last Name, Email (required), Points Balance, Points Spent, Birthday (MM/DD or
MM/DD/YYYY), and its export adds the customer's Referral Link. A tier column is not in that
list: we read `VIP Tier` (the name its customer attributes use,
https://support.yotpo.com/docs/email-integrations-attributes-events) when present. Yotpo
exports no customer id and no activity date: customers are matched by email, and their
points count as active from the import.
"""

from __future__ import annotations

from datetime import datetime

from app.loyalty.importing.rows import (
    ImportRow,
    RowRefused,
    birthday_of,
    code_from_link,
    email_of,
    identify,
    pick,
    points_of,
    text_of,
)

SOURCE = "yotpo"
LABEL = "Yotpo Loyalty & Referrals"
DOCUMENTATION = "https://support.yotpo.com/v1/docs/importingexporting-points-and-customers"
IDENTITY_COLUMNS = ("email",)
COLUMNS = ("full_name", "first_name", "last_name", "email", "points_balance", "points_spent",
           "birthday_mm_dd_or_mm_dd_yyyy", "vip_tier", "referral_link")


def _birthday(record: dict[str, str]) -> str:
    """Yotpo's header spells the format into the name: `Birthday (MM/DD) or (MM/DD/YYYY)`."""
    for name, value in record.items():
        if name.startswith("birthday") and (value or "").strip():
            return value
    return ""


def parse(record: dict[str, str], line: int, now: datetime) -> ImportRow:
    """One Yotpo customer."""
    email = email_of(record, "email", "emails")
    if email is None:
        raise RowRefused("the row has no email")
    first, last = text_of(record, "first_name"), text_of(record, "last_name")
    full = text_of(record, "full_name", "name")
    if full and not first:
        first, _, rest = full.partition(" ")
        last = last or rest or None
    return ImportRow(
        line=line, key=identify(SOURCE, None, email, None), email=email, first_name=first,
        last_name=last,
        points=points_of(record, "points_balance", "current_points_balance", "point_balance",
                         "points", label="Points Balance"),
        tier=text_of(record, "vip_tier", "vip_tier_name", limit=64),
        referral_code=code_from_link(pick(record, "referral_link")),
        birthday=birthday_of(_birthday(record)))
