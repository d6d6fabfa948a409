"""shop/update keeps the shop's currency current, and the reward titles the app wrote follow."""

from sqlalchemy import select

from app.loyalty.rewards import seed_default_rewards, shop_rewards
from app.models import Shop, WebhookEvent
from tests.support.factories import T0, make_shop
from tests.support.webhook_signing import fixture_payload, post_webhook

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


def test_a_shop_update_of_odd_shape_keeps_what_we_know_and_is_processed(db, client):
    with db.transaction() as s:
        seed_default_rewards(s, make_shop(s, domain=SHOP, currency="GBP", name="Boutique"), T0)
    odd_values = (None, "", 7, {"code": "EUR"}, "x" * 300)
    for n, odd in enumerate((*odd_values, "euro")):
        payload = {**fixture_payload("shop/update"), "currency": odd,
                   "name": odd_values[n % len(odd_values)],
                   "iana_timezone": odd_values[n % len(odd_values)]}
        response = post_webhook(client, "shop/update", SHOP, payload, webhook_id=f"odd-{n}")
        assert response.status_code == 200
    assert _titles(db) == ("GBP", ["Free shipping", "£5 off", "£10 off", "£25 off"])
    with db.sessions() as s:
        assert {e.outcome for e in s.execute(select(WebhookEvent)).scalars()} == {"processed"}
        shop = s.execute(select(Shop).where(Shop.domain == SHOP)).scalar_one()
        assert (shop.name, shop.timezone) == ("Boutique", "UTC")


def test_shop_update_keeps_the_primary_domain_the_shopper_links_go_to(db, client):
    with db.transaction() as s:
        make_shop(s, domain=SHOP, primary_domain="boutique.example")
    # The documented sample names no domain: what we know stays.
    assert post_webhook(client, "shop/update", SHOP, fixture_payload("shop/update"),
                        webhook_id="sample").status_code == 200
    assert _primary_domain(db) == "boutique.example"
    for n, odd in enumerate((None, "", 7, "https://evil.example/", "evil.example/path",
                             "evil example.com", "x" * 250 + ".com", "localhost")):
        payload = {**fixture_payload("shop/update"), "domain": odd}
        response = post_webhook(client, "shop/update", SHOP, payload, webhook_id=f"odd-{n}")
        assert response.status_code == 200
    assert _primary_domain(db) == "boutique.example"
    payload = {**fixture_payload("shop/update"), "domain": "Shop.Boutique.Example"}
    assert post_webhook(client, "shop/update", SHOP, payload,
                        webhook_id="new-domain").status_code == 200
    assert _primary_domain(db) == "shop.boutique.example"
    with db.sessions() as s:
        assert {e.outcome for e in s.execute(select(WebhookEvent)).scalars()} == {"processed"}


def _primary_domain(db):
    with db.sessions() as s:
        return s.execute(select(Shop.primary_domain).where(Shop.domain == SHOP)).scalar_one()
