"""Reading an uploaded file one record at a time: each line becomes a row or a refusal.

The file is never held whole: `read_file` yields as `csv` reads, and remembers only the keys,
emails, customer ids and referral codes it has seen, to refuse the same customer twice and to
spot a referral code two rows share.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType

from app.loyalty.importing.rows import ImportRow, RowRefused, normalise_header

# A field longer than this is not a customer's data (csv's own default is 128 KiB).
csv.field_size_limit(64 * 1024)


class ImportFileError(ValueError):
    """The file as a whole cannot be read as this source's export."""


@dataclass(frozen=True)
class Refusal:
    """A line that will not be imported, and why."""

    line: int
    reason: str


def read_file(lines: Iterable[str], source: ModuleType, now: datetime
              ) -> Iterator[ImportRow | Refusal]:
    """Rows and refusals, in file order, with the line each record starts on."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    except csv.Error as exc:
        raise ImportFileError(f"line 1 is not CSV: {exc}") from None
    names = [normalise_header(h) for h in header]
    if not any(name in names for name in source.IDENTITY_COLUMNS):
        wanted = " or ".join(source.IDENTITY_COLUMNS)
        raise ImportFileError(f"the first line names no {wanted} column: is this a "
                              f"{source.LABEL} export?")
    seen: dict[str, dict[object, int]] = {"key": {}, "email": {}, "customer": {}, "code": {}}
    line = reader.line_num
    while True:
        start = line + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Refusal(start, f"not readable as CSV: {exc}")
            line = reader.line_num
            continue
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(names):
            yield Refusal(start, f"{len(values)} fields where the header has {len(names)}")
            continue
        record = dict(zip(names, values, strict=False))
        try:
            row = source.parse(record, start, now)
            _check_unique(row, seen)
        except RowRefused as exc:
            yield Refusal(start, str(exc))
            continue
        yield row


def _check_unique(row: ImportRow, seen: dict[str, dict[object, int]]) -> None:
    """Refuse a customer the file already had; a referral code already used by an earlier
    row is dropped from this one (it gets a new code, with a note)."""
    for kind, value in (("key", row.key), ("email", row.email),
                        ("customer", row.customer_id)):
        if value is None:
            continue
        earlier = seen[kind].get(value)
        if earlier is not None:
            raise RowRefused(f"the same customer as line {earlier}")
    for kind, value in (("key", row.key), ("email", row.email),
                        ("customer", row.customer_id)):
        if value is not None:
            seen[kind][value] = row.line
    code = (row.referral_code or "").upper()
    if code:
        earlier = seen["code"].get(code)
        if earlier is not None:
            row.shared_code = f"{row.referral_code} (also on line {earlier})"
            row.referral_code = None
        else:
            seen["code"][code] = row.line
