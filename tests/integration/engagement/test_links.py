"""Links in emails are signed with a key derived from the app secret, for one purpose each."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from app.engagement.links import CLICK, REVIEW, SURVEY, UNSUBSCRIBE, LinkSigner

NOW = datetime(2026, 11, 2, 15, 0)
SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def test_a_link_is_signed_with_a_derived_key_never_with_the_app_secret_itself():
    signer = LinkSigner([SECRET], "https://loyalty.test/")
    token = signer.token(UNSUBSCRIBE, NOW, s=1, m=2, x=3)
    payload, _ = token.split(".")
    # The same claims signed with the raw secret are a forgery to us.
    raw = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).digest()
    forged = f"{payload}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}"
    assert signer.claims(forged, UNSUBSCRIBE, NOW) is None
    assert signer.claims(token, UNSUBSCRIBE, NOW) == {"p": "u", "s": 1, "m": 2, "x": 3,
                                                      "t": 3596580}
    assert signer.url("unsubscribe", UNSUBSCRIBE, NOW, s=1, m=2, x=3) == (
        f"https://loyalty.test/e/unsubscribe/{token}")


def test_a_link_for_one_purpose_or_from_another_secret_is_refused():
    signer = LinkSigner([SECRET], "https://loyalty.test")
    click = signer.token(CLICK, NOW, x=3, to="https://shop.example/")
    assert signer.claims(click, UNSUBSCRIBE, NOW) is None
    assert LinkSigner(["another-secret"], "https://x").claims(click, CLICK, NOW) is None
    assert signer.claims("garbage", CLICK, NOW) is None
    assert signer.claims(click + "A", CLICK, NOW) is None


def test_links_signed_before_a_secret_rotation_keep_working_during_it():
    before = LinkSigner(["old-secret-0123456789abcdef0123456789"], "https://x")
    token = before.token(UNSUBSCRIBE, NOW, s=1, m=2, x=3)
    during = LinkSigner([SECRET, "old-secret-0123456789abcdef0123456789"], "https://x")
    assert during.claims(token, UNSUBSCRIBE, NOW)["m"] == 2
    assert LinkSigner([SECRET], "https://x").claims(token, UNSUBSCRIBE, NOW) is None


def test_review_and_survey_links_expire_after_90_days_and_unsubscribe_links_never():
    signer = LinkSigner([SECRET], "https://x")
    for purpose in (REVIEW, SURVEY):
        token = signer.token(purpose, NOW, s=1, m=2, o=3, x=4)
        assert signer.claims(token, purpose, NOW + timedelta(days=90)) is not None
        assert signer.claims(token, purpose, NOW + timedelta(days=90, minutes=1)) is None
    unsubscribe = signer.token(UNSUBSCRIBE, NOW, s=1, m=2, x=4)
    assert signer.claims(unsubscribe, UNSUBSCRIBE, NOW + timedelta(days=3650)) is not None
