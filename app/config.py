"""Settings from the environment, validated once (design.md §5)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

# One place for the Admin API version the app speaks (shopify-notes §0.5).
API_VERSION = "2026-07"

DEV_API_KEY = "loyalty-loop-dev-client-id"
# Long enough that PyJWT does not warn about short HMAC keys.
DEV_API_SECRET = "loyalty-loop-development-secret-not-for-production-use"
DEV_ENCRYPTION_KEY = "bG95YWx0eS1sb29wLWRldmVsb3BtZW50LWtleS0zMmI="


class ConfigError(RuntimeError):
    """The environment cannot run the app in the requested mode."""


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment."""

    env: str = "development"
    database_url: str = "sqlite:///instance/loyalty.db"
    redis_url: str | None = None
    shopify_api_key: str = DEV_API_KEY
    shopify_api_secret: str = DEV_API_SECRET
    shopify_old_api_secret: str | None = None
    shopify_app_url: str = "http://127.0.0.1:8000"
    shopify_api_version: str = API_VERSION
    shopify_admin_base: str | None = None
    # Kept equal to shopify.app.toml [access_scopes] (a test checks it).
    scopes: str = ("read_orders,read_all_orders,read_customers,write_customers,write_discounts,"
                   "write_app_proxy,write_store_credit_account_transactions,"
                   "read_store_credit_accounts")
    token_encryption_key: str = DEV_ENCRYPTION_KEY
    secret_key: str = "dev-flask-secret-key-change-me-in-production"
    webhook_max_bytes: int = 1_000_000
    smtp_url: str | None = None
    # How long a web process reuses a shop's program (row, settings, rewards) for storefront
    # reads; 0 reads it on every request. Writes never use it.
    storefront_cache_seconds: float = 5.0
    devstore_enabled: bool = True
    # Where `python wsgi.py` listens (HOST_BIND); None when another server (gunicorn) binds.
    bind_host: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        """Whether we run for real merchants."""
        return self.env == "production"


_ENV_NAMES = {
    "env": "APP_ENV",
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "shopify_api_key": "SHOPIFY_API_KEY",
    "shopify_api_secret": "SHOPIFY_API_SECRET",
    "shopify_old_api_secret": "SHOPIFY_OLD_API_SECRET",
    "shopify_app_url": "SHOPIFY_APP_URL",
    "shopify_api_version": "SHOPIFY_API_VERSION",
    "shopify_admin_base": "SHOPIFY_ADMIN_BASE",
    "scopes": "SCOPES",
    "token_encryption_key": "TOKEN_ENCRYPTION_KEY",
    "secret_key": "SECRET_KEY",
    "webhook_max_bytes": "WEBHOOK_MAX_BYTES",
    "smtp_url": "SMTP_URL",
    "storefront_cache_seconds": "STOREFRONT_CACHE_SECONDS",
    "devstore_enabled": "DEVSTORE_ENABLED",
    "bind_host": "HOST_BIND",
}

# Production must never fall back to the development secrets above.
_REQUIRED_IN_PRODUCTION = ("SHOPIFY_API_SECRET", "TOKEN_ENCRYPTION_KEY", "SHOPIFY_API_KEY")


def _coerce(name: str, raw: str) -> Any:
    if name == "webhook_max_bytes":
        return int(raw)
    if name == "storefront_cache_seconds":
        return float(raw)
    if name == "devstore_enabled":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return raw or None if name in {"redis_url", "shopify_admin_base", "smtp_url",
                                   "shopify_old_api_secret", "bind_host"} else raw


def load_settings(environ: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build Settings from environment variables, then apply explicit overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for attr, var in _ENV_NAMES.items():
        if var in environ:
            values[attr] = _coerce(attr, environ[var])
    settings = Settings(**values)
    if environ.get("APP_ENV") == "production" or settings.env == "production":
        missing = [var for var in _REQUIRED_IN_PRODUCTION if not environ.get(var)]
        if missing:
            raise ConfigError(
                "production needs these environment variables: " + ", ".join(missing))
        # The emulator is a development tool; production config can never turn it on.
        settings = replace(settings, devstore_enabled=False, shopify_admin_base=None)
    if overrides:
        known = {f.name for f in fields(Settings)}
        extra = {k: v for k, v in overrides.items() if k not in known}
        settings = replace(settings, **{k: v for k, v in overrides.items() if k in known},
                           extra={**settings.extra, **extra})
        if settings.is_production:
            settings = replace(settings, devstore_enabled=False, shopify_admin_base=None)
    if settings.bind_host is not None:
        refuse_development_secrets_in_public(settings, [settings.bind_host])
    return settings


def is_loopback(host: str) -> bool:
    """Whether a listening address only this machine can reach (127.0.0.0/8, ::1, localhost).

    Anything else, `0.0.0.0`, `::`, an empty host, a hostname or a unix socket behind a proxy,
    may be reachable from outside.
    """
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def development_secrets(settings: Settings) -> list[str]:
    """The secrets still at their built-in development values (public in this repository)."""
    defaults = {"SHOPIFY_API_SECRET": (settings.shopify_api_secret, DEV_API_SECRET),
                "TOKEN_ENCRYPTION_KEY": (settings.token_encryption_key, DEV_ENCRYPTION_KEY)}
    return [name for name, (value, default) in defaults.items() if value == default]


def refuse_development_secrets_in_public(settings: Settings, hosts: Iterable[str]) -> None:
    """Raise ConfigError before serving anywhere but loopback with a development secret.

    Anyone holding the repository could then forge webhooks, proxy requests and session tokens
    and read the shops' access tokens, so a server that others can reach must have its own.
    """
    public = [host for host in hosts if not is_loopback(host)]
    defaults = development_secrets(settings)
    if public and defaults:
        raise ConfigError(
            f"refusing to serve on {', '.join(public)} with the built-in development "
            f"{' and '.join(defaults)}: set {', '.join(defaults)} in the environment, or "
            "listen on 127.0.0.1 only")
