"""Tokens at rest: Fernet with key rotation; expiries taken back from shopifyapp's wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from app.config import DEV_ENCRYPTION_KEY
from app.shopify.tokens import TokenCipher, TokenUnavailable, _lifetime


def test_the_development_key_is_a_valid_fernet_key() -> None:
    cipher = TokenCipher(DEV_ENCRYPTION_KEY)
    assert cipher.decrypt(cipher.encrypt("shpat_abc")) == "shpat_abc"


def test_ciphertext_never_contains_the_token() -> None:
    assert "shpat_abc" not in TokenCipher(DEV_ENCRYPTION_KEY).encrypt("shpat_abc")


def test_a_rotated_key_list_still_opens_tokens_of_the_previous_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = TokenCipher(old).encrypt("shpat_abc")
    rotated = TokenCipher(f"{new},{old}")
    assert rotated.decrypt(stored) == "shpat_abc"
    # New tokens are encrypted with the first key only.
    assert TokenCipher(new).decrypt(rotated.encrypt("shpat_x")) == "shpat_x"


def test_a_token_encrypted_with_an_unknown_key_is_unavailable() -> None:
    stored = TokenCipher(Fernet.generate_key().decode()).encrypt("shpat_abc")
    with pytest.raises(TokenUnavailable) as caught:
        TokenCipher(DEV_ENCRYPTION_KEY).decrypt(stored)
    assert caught.value.code == "undecryptable_token"


def test_shopifyapps_wall_clock_expiry_gives_back_the_lifetime_shopify_sent() -> None:
    wall = datetime(2026, 11, 27, 7, 0, 0, 400_000, tzinfo=UTC)
    stamped = (wall - timedelta(milliseconds=300) + timedelta(seconds=3600)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")  # shopifyapp truncates to the second
    assert _lifetime(stamped, wall) == timedelta(seconds=3600)
    assert _lifetime(None, wall) is None
    # shopifyapp stamps "now" when Shopify sent no refresh_token_expires_in: unknown, not 0.
    assert _lifetime(wall.strftime("%Y-%m-%dT%H:%M:%SZ"), wall) is None
