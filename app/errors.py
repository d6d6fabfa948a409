"""The base of every refusal the rules raise: a stable code, the HTTP status, a message.

Plain Python, no Flask. The web layer answers any `DomainError` a view lets through in one
place (app/web/responses.py): the JSON envelope `{"error": code, "message": message}` (plus
`fields` for a form), or the admin's HTML error page for an admin page load. A view catches
one only where the refusal is part of a page it renders (a form shown again with the problem).
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """A request the rules refuse. Subclasses set `code` and `status`; the exception's own
    text is the message unless `public_message` says what a person should read instead."""

    code: str = "invalid_request"
    status: int = 400
    public_message: str | None = None
    # Dotted field → message, for a form that shows each problem next to its field.
    fields: Mapping[str, str] | None = None

    @property
    def message(self) -> str:
        """What the answer's `message` says."""
        return self.public_message if self.public_message is not None else str(self)


class NotFound(DomainError):
    """Nothing with that id in this shop (another shop's id finds nothing either)."""

    code = "not_found"
    status = 404


class FieldErrors(DomainError):
    """Input that cannot be saved; `errors` maps a field to a message for the page."""

    status = 422
    public_message = "Some fields need attention."

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.fields = errors
