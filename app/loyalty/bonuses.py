"""Points for things other than orders: joining, birthdays, reviews and NPS answers.

Each bonus is paid once per natural key, and the ledger's source key is what enforces it, so
a webhook delivered twice or a double-submitted form cannot pay twice:
`signup:{member}`, `birthday:{member}:{year}`, `review:{member}:{product}`, `nps:{order}`.
Bonuses are available at once: there is no purchase to return.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from app.errors import DomainError
from app.loyalty.ledger import post
from app.loyalty.program import ProgramSettings
from app.models import LedgerEntry, Member

# A shopper may give only month and day. The stored date needs a year: 1904 is a leap year (so
# 02-29 fits) that no living shopper was born in, so it reads as "year not given".
UNKNOWN_YEAR = 1904
# A daily sweep that missed a day (an outage, a deploy) still pays within this many days.
BIRTHDAY_GRACE_DAYS = 7
# Once set, the date is locked this long from when it was set, so changing it cannot farm points.
BIRTHDAY_LOCK = timedelta(days=365)

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class InvalidBirthday(DomainError, ValueError):
    """The entered birthday is not MM-DD or YYYY-MM-DD, or not a real past date."""

    code = "invalid_birthday"


class BirthdayLocked(DomainError):
    """The birthday was set less than BIRTHDAY_LOCK ago; only staff may change it before `until`."""

    code, status = "birthday_locked", 409
    public_message = "your birthday can be changed once a year"

    def __init__(self, until: datetime) -> None:
        super().__init__(f"the birthday can be changed from {until:%Y-%m-%d}")
        self.until = until


def _calendar_date(year: int, month: int, day: int, text: str) -> date:
    """The date, or InvalidBirthday for one the calendar lacks (02-30, 13-01)."""
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidBirthday(f"{text!r} is not a calendar date") from None


def parse_birthday(raw: str, today: date) -> date:
    """A birthday from MM-DD or YYYY-MM-DD; a missing year is stored as UNKNOWN_YEAR."""
    text = (raw or "").strip()
    if full := _FULL_DATE.match(text):
        value = _calendar_date(int(full[1]), int(full[2]), int(full[3]), text)
        if value.year < 1900 or value > today:
            raise InvalidBirthday("a birthday is a past date after 1900")
        return value
    if short := _MONTH_DAY.match(text):
        return _calendar_date(UNKNOWN_YEAR, int(short[1]), int(short[2]), text)
    raise InvalidBirthday("a birthday is written MM-DD or YYYY-MM-DD")


def set_birthday(session: Session, member: Member, raw: str, now: datetime, *,
                 by_staff: bool = False) -> date:
    """Validate and save a member's birthday.

    Once set, a shopper can change it only BIRTHDAY_LOCK after it was set (staff always can):
    that stops farming (set today, collect, move the date, collect again). Re-entering the
    same date is not a change and does not restart the lock.
    """
    value = parse_birthday(raw, now.date())
    if value == member.birthday:
        return value
    if member.birthday is not None and not by_staff and member.birthday_set_at is not None:
        until = member.birthday_set_at + BIRTHDAY_LOCK
        if now < until:
            raise BirthdayLocked(until)
    member.birthday, member.birthday_set_at = value, now
    session.flush()
    return value


def _occurrence(birthday: date, year: int) -> date:
    """The birthday in a given year; 29 February is celebrated on the 28th in common years."""
    try:
        return birthday.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def shop_today(now: datetime, shop_timezone: str) -> date:
    """Today's date where the shop is (birthdays follow the shop's calendar, design.md §4)."""
    try:
        zone = ZoneInfo(shop_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.replace(tzinfo=UTC).astimezone(zone).date()


def award_signup(session: Session, member: Member, settings: ProgramSettings,
                 now: datetime) -> LedgerEntry | None:
    """Welcome points on joining (customers/create), once per member."""
    points = settings.bonuses.get("signup", 0)
    if points <= 0:
        return None
    return post(session, member, points=points, kind="bonus_signup",
                source_key=f"signup:{member.id}", now=now, note="Welcome to the program")


def award_birthday(session: Session, member: Member, settings: ProgramSettings,
                   now: datetime, shop_timezone: str) -> LedgerEntry | None:
    """Birthday points on the day (or up to BIRTHDAY_GRACE_DAYS late), once per year."""
    points = settings.bonuses.get("birthday", 0)
    if points <= 0 or member.birthday is None or member.redacted_at is not None:
        return None
    today = shop_today(now, shop_timezone)
    occurrence = _occurrence(member.birthday, today.year)
    if occurrence > today:
        # Early January still belongs to a late-December birthday's grace period.
        occurrence = _occurrence(member.birthday, today.year - 1)
    if not 0 <= (today - occurrence).days <= BIRTHDAY_GRACE_DAYS:
        return None
    return post(session, member, points=points, kind="bonus_birthday",
                source_key=f"birthday:{member.id}:{occurrence.year}", now=now,
                note="Happy birthday")


def award_review(session: Session, member: Member, settings: ProgramSettings, now: datetime,
                 *, product_id: int, with_photo: bool) -> LedgerEntry | None:
    """Points for reviewing a product, more with a photo; once per product per member."""
    points = settings.bonuses.get("review_photo" if with_photo else "review", 0)
    if points <= 0:
        return None
    return post(session, member, points=points, kind="bonus_review",
                source_key=f"review:{member.id}:{product_id}", now=now,
                note="Review with a photo" if with_photo else "Product review")


def award_nps(session: Session, member: Member, settings: ProgramSettings, now: datetime,
              *, order_id: int) -> LedgerEntry | None:
    """Points for answering the post-purchase survey, once per order."""
    points = settings.bonuses.get("nps", 0)
    if points <= 0:
        return None
    return post(session, member, points=points, kind="bonus_nps",
                source_key=f"nps:{order_id}", now=now, order_id=order_id,
                note="Thanks for your feedback")
