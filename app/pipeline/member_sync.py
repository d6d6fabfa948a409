"""Mirror a member's balance and tier into customer metafields, so Liquid renders them
without a request (the widget's first paint)."""

from __future__ import annotations

from datetime import datetime

from app.db import utcnow
from app.loyalty.ledger import release_unlocked
from app.models import Member, Shop
from app.pipeline.runtime import Runtime
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient, MetafieldInput, gid
from app.shopify.tokens import access_token_for


def member_metafields(member: Member) -> list[MetafieldInput]:
    """The `$app` customer metafields the theme extension reads."""
    owner = gid("Customer", member.customer_id)
    fields = [
        MetafieldInput(owner, "points", str(member.points_available), "number_integer"),
        MetafieldInput(owner, "pending", str(member.points_pending), "number_integer"),
        MetafieldInput(owner, "tier", member.tier or "", "single_line_text_field"),
    ]
    if member.next_unlock_at is not None:
        fields.append(MetafieldInput(owner, "pending_until",
                                     member.next_unlock_at.date().isoformat(), "date"))
    # An empty single-line text is not a valid value: leave the tier unset until there is one.
    return [f for f in fields if f.value != ""]


# Re-reads after a write before giving up on catching a moving balance.
MAX_SYNC_ROUNDS = 3


def push_member_metafields(runtime: Runtime, shop_id: int, member_id: int,
                           now: datetime | None = None) -> str:
    """Set the member's metafields in Shopify; a job, safe to run twice.

    Two syncs of one member can overlap (two events, two workers): the one that read the
    older balance may write last. So after writing, the member is read again and written
    again if it moved; whichever sync finishes last leaves the newest balance in Shopify.
    """
    now = now or utcnow()
    settings = runtime.settings
    written: list[MetafieldInput] | None = None
    with shop_http_client(settings) as http:
        for _ in range(MAX_SYNC_ROUNDS):
            with runtime.db.sessions() as session:
                with session.begin():
                    shop = session.get(Shop, shop_id)
                    member = session.get(Member, member_id)
                    if shop is None or not shop.is_installed or member is None:
                        return "skipped: no such installed shop or member"
                    if member.shop_id != shop.id or member.customer_id is None:
                        return "skipped: guest or foreign member"
                    release_unlocked(session, member, now)
                    fields = member_metafields(member)
                    domain = shop.domain
                if fields == written:
                    break
                # Its own transaction: a refreshed token is committed before anything else.
                token = access_token_for(session, domain, now, settings=settings, http=http)
            AdminClient(domain, token, settings=settings, http=http).set_metafields(fields)
            written = fields
    return f"set {len(written or [])} metafields"
