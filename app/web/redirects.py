"""Which redirect targets stay on this app: a same-origin path, judged as a browser reads it.

A browser's URL parser (WHATWG URL Standard, "basic URL parser") removes every tab and newline
from the input, strips leading and trailing C0 controls and spaces, and reads `\\` as `/` in
http(s) URLs. So `/\\t/evil.com`, `/\\evil.com` and ` //evil.com` all leave the origin even
though they look like paths. The rule here is strict on purpose: printable ASCII only, no
backslash, a single leading `/`, and Python's own parser must agree there is no scheme or host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# Printable ASCII without space; anything else (controls, DEL, C1 controls, non-ASCII letters a
# browser may fold or strip) has no place in a path this app hands out unencoded.
_FIRST_PRINTABLE, _LAST_PRINTABLE = 0x21, 0x7E


def same_origin_path(target: object) -> str | None:
    """`target` when it is a path on this app (`/admin?x=1`), else None.

    Refused: empty, absolute URLs (`https://…`, `javascript:…`), scheme-relative `//host`,
    `/\\host`, any control character, whitespace, backslash or non-ASCII character.
    """
    if not isinstance(target, str) or not target.startswith("/"):
        return None
    if any(not _FIRST_PRINTABLE <= ord(ch) <= _LAST_PRINTABLE or ch == "\\" for ch in target):
        return None
    if target[1:2] in ("/", "\\"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or \
            parts.path.startswith("//"):
        return None
    return target
