"""shop/update keeps the shop's currency current, and the reward titles the app wrote follow."""

from sqlalchemy import select

from app.loyalty.rewards import seed_default_rewards, shop_rewards
from app.models import Shop, WebhookEvent
from tests.factories import T0, make_shop
from tests.webhook_signing import fixture_payload, post_webhook

SHOP = "boutique.myshopify.com"


def _titles(db):
    with db.sessions() as s:
        shop = s.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        return shop.currency, [r.title for r in shop_rewards(s, shop.id)]


def test_a_shop_that_changes_currency_gets_its_default_reward_titles_in_it(db, client):
    with db.transaction() as s:
        shop = make_shop(s, domain=SHOP)
        rewards = seed_default_rewards(s, shop, T0)
        rewards[3].title = "The big one"
    payload = {**fixture_payload("shop/update"), "currency": "EUR"}
    assert post_webhook(client, "shop/update", SHOP, payload).status_code == 200
    with db.sessions() as s:
        event = s.execute(select(WebhookEvent)).scalar_one()
        assert (event.outcome, event.last_error) == (
            "processed", "shop updated; currency EUR (was USD)")
    assert _titles(db) == ("EUR", ["Free shipping", "€5 off", "€10 off", "The big one"])


def test_a_shop_update_without_a_usable_currency_keeps_the_one_we_know(db, client):
    with db.transaction() as s:
        seed_default_rewards(s, make_shop(s, domain=SHOP, currency="GBP"), T0)
    for currency in (None, "", "euro", 7):
        payload = {**fixture_payload("shop/update"), "currency": currency}
        assert post_webhook(client, "shop/update", SHOP, payload).status_code == 200
    assert _titles(db) == ("GBP", ["Free shipping", "£5 off", "£10 off", "£25 off"])
