"""Settings come from the environment with safe development defaults."""

import pytest

from app.config import ConfigError, load_settings


def test_development_defaults_use_sqlite_and_inline_jobs():
    settings = load_settings(environ={})
    assert settings.database_url == "sqlite:///instance/loyalty.db"
    assert settings.redis_url is None
    assert settings.devstore_enabled is True


def test_production_refuses_to_start_without_its_secrets_and_names_them():
    with pytest.raises(ConfigError) as excinfo:
        load_settings(environ={"APP_ENV": "production", "SHOPIFY_API_KEY": "k"})
    assert "SHOPIFY_API_SECRET" in str(excinfo.value)
    assert "TOKEN_ENCRYPTION_KEY" in str(excinfo.value)


def test_production_never_enables_the_local_emulator():
    settings = load_settings(environ={
        "APP_ENV": "production", "SHOPIFY_API_KEY": "k", "SHOPIFY_API_SECRET": "s" * 40,
        "TOKEN_ENCRYPTION_KEY": "x", "DEVSTORE_ENABLED": "1",
        "SHOPIFY_ADMIN_BASE": "http://127.0.0.1:9"})
    assert settings.devstore_enabled is False
    assert settings.shopify_admin_base is None


def test_environment_variables_are_read():
    settings = load_settings(environ={"DATABASE_URL": "postgresql://x/y",
                                      "REDIS_URL": "redis://r:6379/0",
                                      "WEBHOOK_MAX_BYTES": "2048"})
    assert settings.database_url == "postgresql://x/y"
    assert settings.redis_url == "redis://r:6379/0"
    assert settings.webhook_max_bytes == 2048


def test_the_default_scopes_are_the_ones_shopify_app_toml_requests():
    import tomllib
    from pathlib import Path

    toml = tomllib.loads((Path(__file__).parents[2] / "shopify.app.toml").read_text())
    assert load_settings(environ={}).scopes == toml["access_scopes"]["scopes"]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]", "10.0.0.7", "app.example.com",
                                  "unix:/run/loyalty.sock"])
def test_development_secrets_are_refused_on_any_address_other_than_loopback(host):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(environ={"HOST_BIND": host})
    assert "SHOPIFY_API_SECRET and TOKEN_ENCRYPTION_KEY" in str(excinfo.value)
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEY"):
        load_settings(environ={"HOST_BIND": "0.0.0.0", "SHOPIFY_API_SECRET": "s" * 40})


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "::1", "[::1]", "localhost"])
def test_development_secrets_still_serve_on_loopback(host):
    assert load_settings(environ={"HOST_BIND": host}).bind_host == host


def test_a_public_address_serves_once_the_secrets_are_the_operators_own():
    settings = load_settings(environ={"HOST_BIND": "0.0.0.0", "SHOPIFY_API_SECRET": "s" * 40,
                                      "TOKEN_ENCRYPTION_KEY": "k" * 44})
    assert settings.bind_host == "0.0.0.0"
