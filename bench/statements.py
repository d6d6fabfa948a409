"""Counting the statements a code path sends to the database (round trips, not rows)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """Collect every statement (its first 120 characters) and every COMMIT on this engine."""
    seen: list[str] = []

    def statement(conn, cursor, text, params, context, executemany) -> None:  # noqa: ANN001
        """One statement sent."""
        seen.append(" ".join(text.split())[:120])

    def commit(conn) -> None:  # noqa: ANN001
        """A commit is a round trip too."""
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
