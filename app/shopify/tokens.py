"""Offline access tokens: encrypted at rest, obtained by token exchange, refreshed ahead of expiry.

Expiring offline tokens live 60 minutes and come with a refresh token that Shopify rotates on
every use (notes §0.2, §1B; shopify.dev/docs/apps/build/authentication-authorization/
access-token-types/offline-access-tokens). A rotated pair must be committed even if the work
that needed it later fails, so the functions that refresh run their own transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from shopify_app import IdTokenDetails, Res, TokenExchangeResult
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import dialect_insert
from app.models import Shop
from app.shopify.domains import shop_handle, valid_shop
from app.shopify.verify import Verification, shopify_app

log = logging.getLogger(__name__)

# Exchange or refresh when the stored token has less than this left (notes §1B).
EXPIRY_MARGIN = timedelta(minutes=5)


class TokenUnavailable(RuntimeError):
    """No usable access token: the shop must open the app again, or Shopify is unreachable."""

    def __init__(self, code: str, detail: str = "") -> None:
        """Keep the stable code next to the message."""
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class TokenGrant:
    """What Shopify's token endpoint granted, with expiries on our clock (naive UTC)."""

    access_token: str
    scope: str
    expires_at: datetime | None
    refresh_token: str | None
    refresh_token_expires_at: datetime | None


@dataclass(frozen=True)
class GrantResult:
    """A grant, or a stable code (`invalid_subject_token`, `invalid_grant`, …) and an answer."""

    ok: bool
    code: str
    grant: TokenGrant | None = None
    detail: str = ""
    response: Res | None = None


@dataclass(frozen=True)
class TokenOutcome:
    """A usable token, and whether this call (re)installed the shop."""

    access_token: str
    shop_id: int
    installed_now: bool


class TokenCipher:
    """Fernet encryption of tokens; TOKEN_ENCRYPTION_KEY may list keys (comma-separated).

    The first key encrypts; every key decrypts, so keys rotate without a migration.
    """

    def __init__(self, keys: str) -> None:
        """Build the cipher from one key or a comma-separated list."""
        fernets = [Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()]
        if not fernets:
            raise ValueError("TOKEN_ENCRYPTION_KEY is empty")
        self._fernet = MultiFernet(fernets)

    def encrypt(self, plain: str) -> str:
        """Ciphertext of a token, as text for a Text column."""
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, cipher: str) -> str:
        """The plain token; TokenUnavailable if no key opens it."""
        try:
            return self._fernet.decrypt(cipher.encode()).decode()
        except InvalidToken as exc:
            raise TokenUnavailable("undecryptable_token", "no encryption key opens it") from exc


def cipher_for(settings: Settings) -> TokenCipher:
    """The cipher for the configured key(s)."""
    return TokenCipher(settings.token_encryption_key)


def _lifetime(expires_iso: str | None, wall_now: datetime) -> timedelta | None:
    """How long an expiry shopifyapp stamped with the wall clock is from `wall_now`.

    shopifyapp turns `expires_in` into a wall-clock ISO time; we store expiries on the injected
    clock, so take the lifetime back out. Shopify's lifetimes are whole minutes (3600 s) and the
    call took well under 30 s, so rounding to the minute recovers `expires_in` exactly.
    """
    if not expires_iso:
        return None
    expires = datetime.fromisoformat(expires_iso.replace("Z", "+00:00"))
    seconds = round((expires - wall_now).total_seconds() / 60) * 60
    # shopifyapp's refresh writes "now" when Shopify omits refresh_token_expires_in: unknown.
    return timedelta(seconds=seconds) if seconds > 0 else None


def _grant_result(result: TokenExchangeResult, now: datetime) -> GrantResult:
    """shopifyapp's exchange or refresh result as a GrantResult on our clock."""
    wall_now = datetime.now(UTC)
    if not result.ok or result.access_token is None:
        log.warning("token request failed", extra={"code": result.log.code})
        return GrantResult(ok=False, code=result.log.code, detail=result.log.detail,
                           response=result.response)
    token = result.access_token
    lifetime = _lifetime(token.expires, wall_now)
    refresh_lifetime = _lifetime(token.refresh_token_expires, wall_now)
    grant = TokenGrant(access_token=token.token, scope=token.scope,
                       expires_at=now + lifetime if lifetime else None,
                       refresh_token=token.refresh_token or None,
                       refresh_token_expires_at=now + refresh_lifetime if refresh_lifetime
                       else None)
    return GrantResult(ok=True, code="granted", grant=grant)


def exchange_session_token(settings: Settings, session_token: Verification, now: datetime,
                           http: httpx.Client, invalid_token_response: Res | None = None
                           ) -> GrantResult:
    """Trade a verified admin session token for an expiring offline token (notes §1B)."""
    if not session_token.ok or session_token.token is None or session_token.claims is None:
        raise ValueError("only a verified admin session token can be exchanged")
    details = IdTokenDetails(exchangeable=True, token=session_token.token,
                             claims=dict(session_token.claims))
    result = shopify_app(settings).exchange_using_token_exchange(
        "offline", id_token=details, invalid_token_response=invalid_token_response,
        expiring=True, http_client=http)
    return _grant_result(result, now)


def refresh_grant(settings: Settings, shop: str, refresh_token: str, now: datetime,
                  http: httpx.Client) -> GrantResult:
    """Use a refresh token once; Shopify answers with a new access AND refresh token."""
    # Empty expiries: we decided on our clock that a refresh is due, so shopifyapp must not
    # second-guess it with the wall clock.
    current = {"shop": shop_handle(shop), "refresh_token": refresh_token, "expires": "",
               "refresh_token_expires": "", "access_mode": "offline", "user": None}
    result = shopify_app(settings).refresh_token_exchanged_access_token(current, http_client=http)
    return _grant_result(result, now)


def _is_fresh(shop: Shop, now: datetime) -> bool:
    """Whether the stored token has more than EXPIRY_MARGIN left."""
    if not shop.access_token_enc:
        return False
    expires = shop.access_token_expires_at
    return expires is None or expires - now > EXPIRY_MARGIN


def lock_shop(session: Session, shop_domain: str, *, create: bool = False) -> Shop | None:
    """The shop row, locked FOR UPDATE on PostgreSQL so only one worker refreshes its token.

    With `create`, a missing shop is inserted first (two first loads racing both end up here
    with the same row).
    """
    query = (select(Shop).where(Shop.domain == shop_domain).with_for_update()
             .execution_options(populate_existing=True))
    shop = session.execute(query).scalar_one_or_none()
    if shop is None and create:
        # One statement that cannot fail on a race: whoever inserts second inserts nothing.
        # (No savepoint: pysqlite's SAVEPOINT would commit outside our transaction.)
        insert = dialect_insert(session)
        session.execute(insert(Shop).values(domain=shop_domain)
                        .on_conflict_do_nothing(index_elements=["domain"]))
        shop = session.execute(query).scalar_one()
    return shop


def apply_grant(shop: Shop, grant: TokenGrant, now: datetime, cipher: TokenCipher) -> bool:
    """Store a grant on the shop (encrypted) and mark it installed; True if it was not before."""
    shop.access_token_enc = cipher.encrypt(grant.access_token)
    shop.access_token_expires_at = grant.expires_at
    shop.refresh_token_enc = cipher.encrypt(grant.refresh_token) if grant.refresh_token else None
    shop.refresh_token_expires_at = grant.refresh_token_expires_at
    shop.scopes = grant.scope or shop.scopes
    installed_now = not shop.is_installed
    if installed_now:
        # A reinstall updates the existing shop (notes §8).
        shop.installed_at, shop.uninstalled_at = now, None
    return installed_now


def store_grant(session: Session, shop_domain: str, grant: TokenGrant, now: datetime,
                cipher: TokenCipher) -> tuple[Shop, bool]:
    """Create or update the shop with a grant (OAuth callback); the caller commits."""
    shop = lock_shop(session, shop_domain, create=True)
    assert shop is not None
    return shop, apply_grant(shop, grant, now, cipher)


def ensure_access_token(session: Session, shop_domain: str, now: datetime, *,
                        settings: Settings, http: httpx.Client,
                        session_token: Verification | None = None,
                        invalid_token_response: Res | None = None) -> TokenOutcome:
    """A token valid for at least five more minutes, refreshing or exchanging when needed.

    Runs its own transaction on `session`, which must not be in one: a rotated refresh token
    is committed before the caller does anything that could roll back. With a verified admin
    `session_token`, a shop we do not know yet (managed install) or one that uninstalled us
    (reinstall) is connected by token exchange.
    """
    shop_domain = valid_shop(shop_domain) or ""
    if not shop_domain:
        raise TokenUnavailable("invalid_shop")
    cipher = cipher_for(settings)
    with session.begin():
        shop = lock_shop(session, shop_domain, create=session_token is not None)
        if shop is None:
            raise TokenUnavailable("unknown_shop")
        if not shop.is_installed and session_token is None:
            raise TokenUnavailable("shop_not_installed")
        if shop.is_installed and _is_fresh(shop, now):
            return TokenOutcome(cipher.decrypt(shop.access_token_enc), shop.id, False)
        result = None
        refresh_expired = (shop.refresh_token_expires_at is not None
                           and shop.refresh_token_expires_at <= now)
        if shop.is_installed and shop.refresh_token_enc and not refresh_expired:
            result = refresh_grant(settings, shop_domain, cipher.decrypt(shop.refresh_token_enc),
                                   now, http)
        if (result is None or not result.ok) and session_token is not None:
            result = exchange_session_token(settings, session_token, now, http,
                                            invalid_token_response)
        if result is None:
            raise TokenUnavailable("refresh_token_expired" if refresh_expired
                                   else "reauthorization_required")
        if not result.ok or result.grant is None:
            raise TokenUnavailable(result.code, result.detail)
        installed_now = apply_grant(shop, result.grant, now, cipher)
        log.info("access token renewed", extra={"shop": shop_domain, "code": result.code})
        return TokenOutcome(result.grant.access_token, shop.id, installed_now)


def access_token_for(session: Session, shop_domain: str, now: datetime, *,
                     settings: Settings, http: httpx.Client,
                     session_token: Verification | None = None) -> str:
    """A valid plain access token for the shop, refreshed ahead of expiry (see ensure_access_token).

    Raises TokenUnavailable with a stable code when the shop must open the app again.
    """
    return ensure_access_token(session, shop_domain, now, settings=settings, http=http,
                               session_token=session_token).access_token
