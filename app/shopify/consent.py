"""Learn the email marketing consent Shopify already holds for a member the program just met.

A customer who subscribed before the app was installed sends no
customers_email_marketing_consent/update until they change their mind, so a member first seen
through an order or a customer webhook is looked up once in Admin GraphQL
(`Customer.defaultEmailAddress`). The answer goes through the same newest-wins rule as the
webhook (app.loyalty.consent), so a lookup racing a consent delivery never undoes it.
"""

from __future__ import annotations

from datetime import datetime

from app.db import utcnow
from app.loyalty.consent import is_subscribed, record_consent
from app.models import Member, Shop
from app.pipeline.runtime import Runtime
from app.shopify.domains import shop_http_client
from app.shopify.graphql import AdminClient
from app.shopify.tokens import access_token_for


def learn_member_consent(runtime: Runtime, shop_id: int, member_id: int,
                         now: datetime | None = None) -> str:
    """Read the member's consent from Shopify and keep it unless a newer one is held; a job."""
    now = now or utcnow()
    settings = runtime.settings
    with shop_http_client(settings) as http:
        with runtime.db.sessions() as session:
            with session.begin():
                shop, member = session.get(Shop, shop_id), session.get(Member, member_id)
                if shop is None or not shop.is_installed or member is None:
                    return "skipped: no such installed shop or member"
                if member.shop_id != shop.id or member.customer_id is None:
                    return "skipped: guest or foreign member"
                domain, customer_id = shop.domain, member.customer_id
            # Its own transaction: a refreshed token is committed before anything else.
            token = access_token_for(session, domain, now, settings=settings, http=http)
        found = AdminClient(domain, token, settings=settings,
                            http=http).customer_email_marketing(customer_id)
    if found is None:
        return "no email consent in Shopify"
    with runtime.db.transaction() as session:
        member = session.get(Member, member_id)
        if member is None:
            return "skipped: member gone"
        applied = record_consent(session, member, is_subscribed(found.state), found.updated_at)
    return f"consent {found.state}" if applied else "a newer consent is kept"
