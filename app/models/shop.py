"""The merchant's store and its versioned program settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow


class Shop(Base):
    """One installed (or once installed) Shopify store."""

    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    shopify_shop_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    scopes: Mapped[str | None] = mapped_column(Text)
    # Tokens are Fernet ciphertext, never plain (TOKEN_ENCRYPTION_KEY).
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None]
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_expires_at: Mapped[datetime | None]
    installed_at: Mapped[datetime | None]
    uninstalled_at: Mapped[datetime | None]
    onboarding: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # When the merchant launched the program (app/loyalty/launch.py): None while it is a draft
    # (shoppers see nothing, orders earn nothing). Shop-wide and one-way, unlike the versioned
    # settings: a settings change never takes a program back to draft.
    launched_at: Mapped[datetime | None]
    # The storefront path of the app proxy (`/apps/loyalty` unless the merchant changed it) as
    # last written to the app-data metafield the theme extension reads (app/shopify/proxy_path).
    proxy_path: Mapped[str | None] = mapped_column(String(64))
    # The host shoppers know the store by (Admin GraphQL `shop.primaryDomain.host`, kept current
    # by shop/update's `domain`); None until learned: links then use the myshopify.com domain.
    primary_domain: Mapped[str | None] = mapped_column(String(255))
    # The holdout (app/loyalty/holdout.py): the percentage of customers first seen while it runs
    # who get no program (0: none is running), the key their assignment is hashed with, and
    # when the merchant started and last ended it.
    holdout_share: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    holdout_key: Mapped[str | None] = mapped_column(String(64))
    holdout_started_at: Mapped[datetime | None]
    holdout_ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def storefront_host(self) -> str:
        """Where shoppers are sent: the primary domain when known, else the myshopify one."""
        return self.primary_domain or self.domain

    @property
    def is_installed(self) -> bool:
        """Installed and not uninstalled since."""
        return self.installed_at is not None and self.uninstalled_at is None

    @property
    def is_live(self) -> bool:
        """The program is launched: shoppers see it and orders earn."""
        return self.launched_at is not None


class SettingsVersion(Base):
    """One saved version of a shop's program settings; the newest applies from its time on."""

    __tablename__ = "settings_versions"
    __table_args__ = (UniqueConstraint("shop_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str | None] = mapped_column(String(255))
    summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
