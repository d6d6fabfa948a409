"""Product reviews members write, and the products they bought (to review and to reorder)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow


class Review(Base):
    """A member's review of one product: once per product, shown once the merchant approves it."""

    __tablename__ = "reviews"
    __table_args__ = (
        # The bonus is once per product per member, and so is the review itself.
        UniqueConstraint("shop_id", "member_id", "product_id"),
        Index("ix_reviews_shop_status", "shop_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(BigInteger)
    product_title: Mapped[str | None] = mapped_column(String(255))
    # The order the review request came from (the shopper bought the product there).
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    rating: Mapped[int] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    # pending until the merchant approves it; only approved reviews are shown.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PurchasedProduct(Base):
    """One product of a paid order, kept for review forms and reorder intervals."""

    __tablename__ = "purchased_products"
    __table_args__ = (
        UniqueConstraint("shop_id", "order_id", "product_id"),
        Index("ix_purchased_products_member", "member_id", "purchased_at"),
        Index("ix_purchased_products_product", "shop_id", "product_id", "purchased_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # The Shopify order id (as in orders.shopify_order_id).
    order_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    purchased_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
