"""Smile.io customers.

Smile documents its Customer object, not the header row of its admin's CSV export:
https://dev.smile.io/api/resources/customers/customer-object (id, first_name, last_name, email,
state, date_of_birth with year 1004 for "no year", points_balance, referral_url, vip_tier,
created_at, updated_at). We read a CSV whose headers are those field names, matched without
regard to case, spaces or dashes (`Points balance` reads as points_balance); `vip_tier` is the
tier's name. Smile's own points import file (`email`, `points`;
https://help.smile.io/en/articles/4036233-import-points-with-a-csv-file) is read too.
Assumed, not documented: that the export carries these names; the last activity is
`updated_at` (Smile's export has no activity date we could find).
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
    moment_of,
    pick,
    points_of,
    text_of,
)

SOURCE = "smile"
LABEL = "Smile.io"
DOCUMENTATION = "https://dev.smile.io/api/resources/customers/customer-object"
IDENTITY_COLUMNS = ("email",)
COLUMNS = ("id", "first_name", "last_name", "email", "state", "date_of_birth",
           "points_balance", "referral_url", "vip_tier", "created_at", "updated_at")
# Smile writes this year when only the day and month of a birthday are known.
NO_YEAR = 1004


def parse(record: dict[str, str], line: int, now: datetime) -> ImportRow:
    """One Smile customer."""
    if pick(record, "state").lower() == "disabled":
        raise RowRefused("the customer is disabled in Smile (excluded from the program)")
    email = email_of(record, "email")
    if email is None:
        raise RowRefused("the row has no email")
    external = pick(record, "id")
    return ImportRow(
        line=line, key=identify(SOURCE, external, email, None), email=email,
        first_name=text_of(record, "first_name"), last_name=text_of(record, "last_name"),
        points=points_of(record, "points_balance", "points"),
        tier=text_of(record, "vip_tier", "vip_tier_name", limit=64),
        referral_code=code_from_link(pick(record, "referral_url")),
        birthday=birthday_of(pick(record, "date_of_birth"), year_unknown=NO_YEAR),
        last_activity_at=moment_of(record, "updated_at", "created_at"),
        enrolled_at=moment_of(record, "created_at"))
