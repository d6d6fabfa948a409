"""The widget's program and member answers in the shopper's language (the signed `locale`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import utcnow
from app.loyalty.ledger import debit_available, post
from app.loyalty.members import enrol
from app.loyalty.program import current_settings
from app.loyalty.rewards import create_reward, seed_default_rewards
from app.models import Order
from tests.integration.proxy.test_proxy import proxy_query
from tests.support.factories import make_shop

SHOP = "boutique.myshopify.com"
NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.fixture
def boutique(db):
    now = utcnow()
    with db.transaction() as s:
        shop = make_shop(s, domain=SHOP, name="Boutique", currency="EUR")
        seed_default_rewards(s, shop, now)
        create_reward(s, shop, current_settings(s, shop.id), kind="amount_off", cost=3000,
                      value="30", title="Le cadeau de Noël", now=now)
        ada = enrol(s, shop, now=now, customer_id=11, email="ada@example.com", first_name="Ada")
        post(s, ada, points=1200, kind="bonus_signup", source_key="seed", now=now,
             note="Welcome to the program")
        s.add(Order(shop_id=shop.id, shopify_order_id=1, name="#1001", member_id=ada.id,
                    placed_at=now, paid_at=now))
        post(s, ada, points=300, kind="earn_order", source_key="order:1:earn", now=now,
             available_at=now + timedelta(days=30), order_id=1, note="Order #1001")
        post(s, ada, points=-50, kind="adjust", source_key="adjust:1", now=now,
             note="Geste commercial corrigé")
        debit_available(s, ada, points=100, kind="redeem", source_key="redeem:x", now=now,
                        note="€5 off · ADA-5OFF")
    return now


def _get(client, path: str, **extra: str):
    customer = 11 if path == "member" else None
    response = client.get(f"/proxy/{path}?{proxy_query(SHOP, customer, **extra)}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_program_reads_in_french_for_a_french_storefront(client, boutique):
    program = _get(client, "program", locale="fr")["program"]

    assert program["earn"] == {"points_per_unit": 5, "label": f"5 points par tranche de 1{NBSP}€"}
    assert program["ways_to_earn"][:2] == [
        {"title": f"Chaque tranche de 1{NBSP}€ dépensée", "points": 5},
        {"title": "Créer un compte", "points": 250}]
    assert [r["title"] for r in program["rewards"]] == [
        "Livraison gratuite", f"5{NBSP}€ de réduction", f"10{NBSP}€ de réduction",
        f"25{NBSP}€ de réduction", "Le cadeau de Noël"]
    assert [(t["name"], t["benefits"]) for t in program["tiers"]] == [
        ("Bronze", "5 points par unité dépensée"),
        ("Argent", f"25{NNBSP}% de points en plus sur chaque commande"),
        ("Or", f"50{NNBSP}% de points en plus et accès en avant-première")]
    assert program["referral"]["friend_gets"] == f"10{NBSP}% de réduction"


def test_the_member_reads_in_french_with_the_merchants_own_words_kept(client, boutique):
    body = _get(client, "member", locale="fr")

    assert (body["tier"]["name"], body["tier"]["next"]) == ("Bronze", "Argent")
    assert [a["label"] for a in body["activity"]] == [
        f"5{NBSP}€ de réduction · ADA-5OFF", "Geste commercial corrigé", "Commande #1001",
        "Bonus de bienvenue"]
    assert body["referral"]["share_text"].startswith(
        f"Voici 10{NBSP}% de réduction sur ta première commande chez Boutique")
    assert body["referral"]["url"] in body["referral"]["share_text"]
    assert [r["title"] for r in body["rewards"]] == [
        "Livraison gratuite", f"5{NBSP}€ de réduction", f"10{NBSP}€ de réduction",
        f"25{NBSP}€ de réduction", "Le cadeau de Noël"]


@pytest.mark.parametrize("locale", [None, "en", "de", "zz-top", "fr;drop"])
def test_any_other_locale_reads_in_english(client, boutique, locale):
    extra = {} if locale is None else {"locale": locale}
    program = _get(client, "program", **extra)["program"]
    member = _get(client, "member", **extra)

    assert program["earn"]["label"] == "5 points per €1"
    assert [t["name"] for t in program["tiers"]] == ["Bronze", "Silver", "Gold"]
    assert program["rewards"][1]["title"] == "€5 off"
    assert [a["label"] for a in member["activity"]] == [
        "€5 off · ADA-5OFF", "Geste commercial corrigé", "Order #1001", "Welcome bonus"]
    assert member["referral"]["share_text"].startswith("Here's 10% off your first order")


def test_a_canadian_french_storefront_reads_french(client, boutique):
    program = _get(client, "program", locale="fr-CA")["program"]
    assert program["ways_to_earn"][1]["title"] == "Créer un compte"
    assert program["tiers"][1]["name"] == "Argent"


def test_the_locale_is_signed_with_the_rest_of_the_query(client, boutique):
    query = proxy_query(SHOP, 11) + "&locale=fr"
    assert client.get(f"/proxy/member?{query}").status_code == 401
