"""The store an email sends a shopper to is the one they know: the shop's primary domain."""

from __future__ import annotations

from sqlalchemy import update

from app.models import Shop
from tests.integration.engagement.conftest import T0, days
from tests.support.smtp_fixture import body_text

ADA, ADA_EMAIL = 9001, "ada@example.com"


def test_the_store_link_in_an_email_goes_to_the_shops_primary_domain(shopfront):
    with shopfront.session() as s:
        s.execute(update(Shop).where(Shop.id == shopfront.shop_id)
                  .values(primary_domain="teaandco.example"))
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0)
    shopfront.run_due(T0)
    [welcome] = shopfront.inbox(ADA_EMAIL)
    store = body_text(welcome).split("Redeem at Tea & Co: ")[1].split()[0]
    clicked = shopfront.client(T0 + days(1)).get(store.removeprefix("https://loyalty.test"))
    assert (clicked.status_code, clicked.location) == (302, "https://teaandco.example/")
