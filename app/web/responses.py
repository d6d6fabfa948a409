"""The one error shape every endpoint answers with (design.md §4), also for what no view
expected: an unknown path, a wrong method, an oversized body, an exception.

JSON `{"error": code, "message": message}` everywhere, except an admin page that Shopify's
admin loads as a document: a merchant would see raw JSON inside the admin frame, so those get
an HTML page that carries the same code.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from app.errors import DomainError

log = logging.getLogger(__name__)

# Stable codes for the HTTP errors Werkzeug raises before or instead of a view.
HTTP_ERROR_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
                    413: "body_too_large", 414: "uri_too_long", 415: "unsupported_media_type",
                    429: "rate_limited", 431: "headers_too_large"}
INTERNAL_ERROR = "internal_error"
PAGE_HEADINGS = {404: "Page not found", 500: "Something went wrong"}


def error(code: str, message: str, status: int) -> tuple[Response, int]:
    """JSON `{"error": code, "message": message}` with its status."""
    return jsonify({"error": code, "message": message}), status


def is_admin_page_load() -> bool:
    """A GET of an admin page by the browser (App Bridge fetches always send a Bearer token)."""
    return (request.method == "GET" and request.path.startswith("/admin")
            and "Authorization" not in request.headers)


def _answer(code: str, message: str, status: int,
            fields: dict[str, str] | None = None) -> Response:
    """The error as JSON, or as the admin's HTML error page for an admin page load."""
    if is_admin_page_load():
        heading = PAGE_HEADINGS.get(status, "This request could not be handled")
        page = render_template("admin/error.html", code=code, heading=heading,
                               message=message)
        return Response(page, status, mimetype="text/html")
    body = {"error": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


def domain_error(exc: DomainError) -> Response:
    """A refusal of the rules that the view let through: its own code, status and message."""
    return _answer(exc.code, exc.message, exc.status,
                   dict(exc.fields) if exc.fields is not None else None)


def http_error(exc: HTTPException) -> Response | HTTPException:
    """Werkzeug's HTTP errors (404, 405, 413, …) in our shape, keeping headers such as Allow."""
    if exc.response is not None or exc.code is None or exc.code < 400:
        return exc  # a redirect or a response a view built itself
    code = HTTP_ERROR_CODES.get(exc.code) or re.sub(r"[^a-z]+", "_", exc.name.lower()).strip("_")
    response = _answer(code, exc.description or exc.name, exc.code)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def unexpected_error(exc: Exception) -> Response | HTTPException:
    """Anything a view did not expect: logged with its traceback, answered 500 in our shape."""
    if isinstance(exc, HTTPException):
        return http_error(exc)
    if isinstance(exc, DomainError):
        return domain_error(exc)
    log.exception("request failed", extra={"code": INTERNAL_ERROR, "path": request.path})
    return _answer(INTERNAL_ERROR, "something went wrong on our side", 500)


def register_error_handlers(app: Flask) -> None:
    """Answer every blueprint's HTTP errors, refusals and unexpected exceptions in our shape."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(DomainError, domain_error)
    app.register_error_handler(Exception, unexpected_error)
