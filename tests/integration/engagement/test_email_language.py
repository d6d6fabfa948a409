"""Emails are written in the language the customer shops in (orders' `customer_locale`)."""

from __future__ import annotations

from sqlalchemy import update

from app.loyalty.program import save_settings
from app.models import Member, Shop
from tests.integration.engagement.conftest import T0, days
from tests.support.smtp_fixture import body_html, body_text

ADA, ADA_EMAIL = 9001, "ada@example.com"
NBSP = "\u00a0"


def test_a_french_customer_gets_the_welcome_in_french_with_french_numbers_money_and_dates(
        shopfront):
    with shopfront.session() as s:
        s.execute(update(Shop).where(Shop.id == shopfront.shop_id).values(currency="EUR"))
        save_settings(s, shopfront.shop_id, {"earning": {"points_per_unit": "10"}},
                      changed_by="test", now=T0 - days(30))
    ada = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "120.00", T0, customer_locale="fr")
    assert shopfront.member(ada).locale == "fr"

    shopfront.run_due(T0)

    [email] = shopfront.inbox(ADA_EMAIL)
    assert email["Subject"] == "Bienvenue dans le programme de fidélité Tea & Co, Ada"
    text, html = body_text(email), body_html(email)
    assert ("Votre première commande vous a rapporté 1\u202f200 points, utilisables le "
            "2 décembre 2026 une fois le délai de retour passé.") in text
    assert f"Vous gagnez 10 points par tranche de 1{NBSP}€ dépensée." in text
    assert "Votre solde : 0 point à utiliser, 1\u202f200 en attente (membre Bronze)." in text
    assert "Vous recevez cet e-mail car vous êtes membre du programme de fidélité" in text
    assert '<html lang="fr">' in html
    assert f"Vous gagnez 10 points par tranche de 1{NBSP}€ dépensée." in html
    assert "Se désabonner" in html
    for part in (text, html, email["Subject"]):
        assert "E+" not in part and "You earn" not in part and "points per" not in part


def test_a_customer_in_a_language_without_a_catalog_reads_english(shopfront):
    ada = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0, customer_locale="de-AT")
    assert shopfront.member(ada).locale == "de-AT"

    shopfront.run_due(T0)

    [email] = shopfront.inbox(ADA_EMAIL)
    assert email["Subject"] == "Welcome to Tea & Co rewards, Ada"
    assert "You earn 5 points for every $1 you spend." in body_text(email)


def test_the_latest_order_decides_and_an_order_without_a_locale_keeps_it(shopfront):
    ada = shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0, customer_locale="fr-ca")
    assert shopfront.member(ada).locale == "fr-CA"
    shopfront.pay(5002, ADA, ADA_EMAIL, "60.00", T0 + days(1), customer_locale=None)
    assert shopfront.member(ada).locale == "fr-CA"
    shopfront.pay(5003, ADA, ADA_EMAIL, "60.00", T0 + days(2), customer_locale="en")
    assert shopfront.member(ada).locale == "en"
    with shopfront.session() as s:
        assert s.query(Member).count() == 1


def test_a_french_member_answers_the_survey_on_a_french_page_from_the_french_email(shopfront):
    shopfront.customer(ADA, ADA_EMAIL, "Ada")
    shopfront.pay(5001, ADA, ADA_EMAIL, "60.00", T0, customer_locale="fr")
    shopfront.run_due(T0 + days(14))
    survey = shopfront.inbox(ADA_EMAIL)[-1]
    assert survey["Subject"] == "Une petite question sur la commande #5001"
    assert "Répondre vous rapporte 50 points." in body_text(survey)
    score_9 = [line for line in body_text(survey).splitlines() if line.startswith("9: ")][0]
    path = score_9.removeprefix("9: ").removeprefix("https://loyalty.test")
    client = shopfront.client(T0 + days(14) + days(1 / 24))

    page = client.get(path)
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert "Quelle est la probabilité que vous recommandiez Tea &amp; Co à un ami ?" in page.text
    assert "Envoyer ma réponse" in page.text
    refused = client.post(path.split("?")[0], data={"score": "11"})
    assert refused.status_code == 400 and "choisissez une note de 0 à 10" in refused.text
    answered = client.post(path.split("?")[0], data={"score": "9"})
    assert answered.status_code == 200
    assert "Merci, Ada : vous avez répondu 9." in answered.text
    assert "50 points sont sur votre compte." in answered.text
