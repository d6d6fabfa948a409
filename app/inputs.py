"""What the app accepts from outside as an id or as text (no Flask here).

Every id that arrives in a path, a query, a form, a JSON body or a signed parameter goes
through `parse_id`: ASCII digits only (`str.isdigit` also accepts `²` and Arabic-Indic digits,
which `int()` then refuses or reads as another number) and no larger than PostgreSQL's bigint,
the type of every id column. Anything else is simply not an id of ours, so callers answer it
like an id that does not exist, before any query runs.

Text that is stored must not contain NUL: PostgreSQL refuses it in text and jsonb, so it would
otherwise fail at the INSERT on one backend and be stored on the other.
"""

from __future__ import annotations

import re

# PostgreSQL bigint (and SQLite INTEGER): every id column of the schema.
BIGINT_MAX = 2**63 - 1
# At most 19 ASCII digits; 19 digits may still exceed BIGINT_MAX, checked after.
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(raw: object) -> int | None:
    """A positive id from ASCII digits (or an int) that fits bigint; None for anything else."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _DIGITS.fullmatch(raw):
        value = int(raw)
    else:
        return None
    return value if 0 < value <= BIGINT_MAX else None


def has_nul(text: object) -> bool:
    """Whether a text value holds a NUL character (which PostgreSQL cannot store)."""
    return isinstance(text, str) and "\x00" in text


NUL_MESSAGE = "cannot contain a NUL character"
