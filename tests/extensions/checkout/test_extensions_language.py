"""The thank-you and order-status blocks in French, in Chromium: Shopify's i18n reads the
extension's locales/fr.json, formats numbers, money and dates for the buyer, and the app writes
its own text (tier names, the referral message) for the `locale` the block sends.

The BUILT bundles run in the app's extension host against the real app, as in
test_extensions_browser.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.extensions.checkout.conftest import (
    ADA,
    MEMBER_ORDER_ID,
    SHOP,
    RunningCheckout,
    yesterday_noon,
)
from tests.extensions.checkout.harness import TEST_OUTPUT, Build
from tests.extensions.checkout.test_extensions_accessibility import _preview
from tests.extensions.checkout.test_extensions_browser import (  # noqa: F401 - fixtures
    ORDER_STATUS,
    THANK_YOU,
    ExtensionHost,
    browser,
    extension_host,
    open_extension,
    order_gid,
    page,
    referral_code,
)
from tests.support.accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db", ["postgresql"], indirect=True)]

NBSP, NNBSP = "\u00a0", "\u202f"


def french_long_date(day: Any) -> str:
    """A date as Intl.DateTimeFormat('fr-FR', {day, month: 'long', year}) writes it."""
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre"]
    return f"{day.day} {months[day.month - 1]} {day.year}"


def test_thank_you_for_a_french_buyer_is_french_with_french_numbers_money_and_dates(
        page: Any, extension_host: ExtensionHost,  # noqa: F811
        checkout_backend: RunningCheckout) -> None:
    from datetime import timedelta

    paid_at = yesterday_noon()
    checkout_backend.pay(checkout_backend.order_payload(MEMBER_ORDER_ID, ADA, "13.50",
                                                        quantity=2, paid_at=paid_at))
    handle, target = THANK_YOU
    open_extension(page, extension_host.publish(
        handle, target, sessionToken=checkout_backend.token(ADA), locale="fr-FR",
        orderConfirmation={"order": {"id": order_gid(MEMBER_ORDER_ID)}, "number": "X7KQ2",
                           "isFirstOrder": False}))

    page.get_by_text("Vous avez gagné 135 points").wait_for()
    assert page.locator("s-section").get_attribute("heading") == "Récompenses"
    assert page.locator("s-badge").first.inner_text() == "En attente"
    unlocks = french_long_date((paid_at + timedelta(days=30)).date())
    code = referral_code(checkout_backend)
    link = f"https://{SHOP}/?ref={code}"
    for sentence in (
            f"Ils seront disponibles le {unlocks}, à la fin du délai de retour.",
            "Ada, votre solde : 0 points disponibles, 135 en attente",
            f"Membre Bronze : encore 273,00{NBSP}$US d'achats pour atteindre Argent",
            "Quelle est la probabilité que vous nous recommandiez à un ami ?",
            "Répondez et gagnez 50 points.",
            f"Voici 10{NBSP}% de réduction sur ta première commande chez Loyalty Loop Test "
            f"Tea - utilise mon lien : {link}"):
        assert page.get_by_text(sentence, exact=True).count() == 1, sentence
    assert page.locator("s-button", has_text="Copier le lien").count() == 1
    assert page.locator("s-button[accessibilitylabel='9 sur 10']").count() == 1
    # The buyer's language reached the app, which wrote its own text in it.
    (get,) = checkout_backend.slot.requests_to("GET", f"/api/checkout/order/{MEMBER_ORDER_ID}")
    assert get["query"] == "locale=fr-FR"
    assert serious_violations(page, "s-section") == []
    TEST_OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(TEST_OUTPUT / "thank-you-fr.png"), full_page=True)

    page.locator("s-button", has_text="9").filter(has_not_text="10").click()
    page.get_by_text("Merci ! 50 points sont en route.").wait_for()


def test_order_status_for_a_canadian_french_buyer_reads_the_french_file(
        page: Any, extension_host: ExtensionHost,  # noqa: F811
        checkout_backend: RunningCheckout) -> None:
    checkout_backend.pay(checkout_backend.order_payload(MEMBER_ORDER_ID, ADA, "27.00",
                                                        paid_at=yesterday_noon()))
    handle, target = ORDER_STATUS
    open_extension(page, extension_host.publish(
        handle, target, sessionToken=checkout_backend.token(ADA), locale="fr-CA",
        order={"id": order_gid(MEMBER_ORDER_ID), "name": "#9999"}))

    page.get_by_text("Vous avez gagné 135 points").wait_for()
    assert page.get_by_text("Membre Bronze", exact=False).count() == 1
    (get,) = checkout_backend.slot.requests_to("GET", f"/api/checkout/order/{MEMBER_ORDER_ID}")
    assert get["query"] == "surface=customer_account&locale=fr-CA"


def test_a_buyer_in_a_language_the_extension_lacks_reads_the_default_english(
        page: Any, extension_host: ExtensionHost,  # noqa: F811
        checkout_backend: RunningCheckout) -> None:
    checkout_backend.pay(checkout_backend.order_payload(MEMBER_ORDER_ID, ADA, "27.00",
                                                        paid_at=yesterday_noon()))
    handle, target = THANK_YOU
    open_extension(page, extension_host.publish(
        handle, target, sessionToken=checkout_backend.token(ADA), locale="de-DE",
        orderConfirmation={"order": {"id": order_gid(MEMBER_ORDER_ID)}, "number": "1",
                           "isFirstOrder": False}))

    page.get_by_text("You earned 135 points").wait_for()
    # Numbers follow the buyer's locale even where the words fall back to English.
    assert page.get_by_text(f"Bronze member: spend 273,00{NBSP}$ more to reach Silver",
                            exact=True).count() == 1


def test_the_development_preview_plays_a_french_buyer(
        page: Any, checkout_backend: RunningCheckout,  # noqa: F811
        extension_build: Build) -> None:
    checkout_backend.pay(checkout_backend.order_payload(MEMBER_ORDER_ID, ADA, "27.00",
                                                        paid_at=yesterday_noon()))
    _preview(checkout_backend, extension_build)

    page.goto(f"{checkout_backend.url}/dev/thank-you?locale=fr")

    page.get_by_text("Vous avez gagné 135 points").wait_for()
    assert page.get_attribute("html", "lang") == "fr"
    assert page.get_by_role("button", name="9 sur 10", exact=True).count() == 1
