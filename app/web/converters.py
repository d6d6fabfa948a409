"""URL converters: `<id:name>` matches only what app.inputs.parse_id accepts as an id."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter, ValidationError

from app.inputs import parse_id


class IdConverter(BaseConverter):
    """A path segment that is one of our ids; anything else does not match (404)."""

    regex = r"[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        """The id, or no match when it is beyond bigint."""
        parsed = parse_id(value)
        if parsed is None:
            raise ValidationError()
        return parsed

    def to_url(self, value: Any) -> str:
        """The id as digits."""
        return str(int(value))
