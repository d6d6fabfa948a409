"""Response headers every answer carries, set in one place after the view has answered.

- `X-Content-Type-Options: nosniff` on every answer, errors included: a browser never reads a
  JSON error or a text body as HTML or script.
- `Cache-Control: no-store` on the embedded admin and the install/bounce pages (their URL and
  HTML carry the merchant's `id_token`), on the storefront, checkout and customer account
  answers (a shopper's balance, codes and referral link) and on the email-link pages (a
  shopper's address), unless the view chose its own caching.
- `Content-Security-Policy: frame-ancestors 'none'` on the email-link pages (`/e/…`): nobody
  may frame an unsubscribe or survey button. The embedded admin sets its own shop-specific
  `frame-ancestors` (app/web/auth.py), which is never replaced here.
"""

from __future__ import annotations

from flask import Flask, Request, Response, request

# Paths whose answers are personal to a merchant or a shopper.
_PRIVATE_PREFIXES = ("/admin", "/auth/", "/proxy/", "/api/checkout/", "/api/account/",
                     "/e/")
_EMAIL_LINK_PREFIX = "/e/"


def _is_private(req: Request) -> bool:
    """Whether the answer to this request belongs to one merchant or shopper."""
    return req.path == "/" or req.path.startswith(_PRIVATE_PREFIXES)


def secure(response: Response) -> Response:
    """Add the headers this module's docstring lists to one response."""
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    if _is_private(request) and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    if request.path.startswith(_EMAIL_LINK_PREFIX) and "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def install(app: Flask) -> None:
    """Register the hook on the app (after_request also runs for error handlers' answers)."""
    app.after_request(secure)
