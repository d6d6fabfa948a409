"""Input the admin cannot use is a clear 4xx in our error shape, never a 500, and writes nothing.

Each case answered 500 on PostgreSQL or SQLite before ids and text were checked at the edge:
a NUL in a search, a member id or ledger cursor beyond bigint, a superscript digit that
`str.isdigit` accepts and `int()` refuses, a NUL inside a settings text.
"""

from __future__ import annotations

import pytest

from app.loyalty.members import enrol
from app.models import Shop
from tests.integration.admin.conftest import AdminSession
from tests.support.factories import T0
from tests.support.rows import row_counts

KEY = "adjust-request-0001"


@pytest.fixture
def member_id(admin: AdminSession) -> int:
    """Ada, a member of the admin's shop."""
    with admin.db.transaction() as session:
        shop = session.get(Shop, admin.shop_id)
        return enrol(session, shop, now=T0, customer_id=501, email="ada@example.com",
                     first_name="Ada").id


def test_a_search_with_a_nul_character_is_400_invalid_query(admin: AdminSession,
                                                             member_id: int) -> None:
    before = row_counts(admin.db)
    response = admin.page("/admin/customers", q="ada\x00")
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_query")
    assert row_counts(admin.db) == before


@pytest.mark.parametrize("raw_id", ["99999999999999999999999", "9223372036854775808"])
def test_a_member_id_beyond_bigint_is_not_found(admin: AdminSession, member_id: int,
                                                raw_id: str) -> None:
    before = row_counts(admin.db)
    response = admin.page(f"/admin/customers/{raw_id}")
    assert (response.status_code, response.get_json()["error"]) == (404, "not_found")
    adjusted = admin.fetch(f"/admin/customers/{raw_id}/adjustments",
                           {"points": 10, "reason": "Sorry", "request_key": KEY})
    assert (adjusted.status_code, adjusted.get_json()["error"]) == (404, "not_found")
    assert row_counts(admin.db) == before


@pytest.mark.parametrize("cursor", ["\u00b2", "99999999999999999999", "\u0663", "-1"])
def test_a_ledger_cursor_that_is_not_an_id_is_400_invalid_cursor(
        admin: AdminSession, member_id: int, cursor: str) -> None:
    before = row_counts(admin.db)
    response = admin.page(f"/admin/customers/{member_id}", before=cursor)
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_cursor")
    assert row_counts(admin.db) == before


@pytest.mark.parametrize(("section", "body", "field"), [
    ("widget", {"widget": {"launcher_label": "Rewards\u0000"}}, "widget.launcher_label"),
    ("tiers", {"tiers": {"levels": [{"name": "Bronze\u0000", "threshold": "0",
                                     "multiplier": "1", "benefits": ""}]}},
     "tiers.levels.0.name"),
])
def test_a_settings_text_with_a_nul_character_is_422_and_saves_nothing(
        admin: AdminSession, section: str, body: dict, field: str) -> None:
    before = row_counts(admin.db)
    response = admin.fetch(f"/admin/settings/{section}", body)
    assert (response.status_code, response.get_json()["error"]) == (422, "invalid_settings")
    assert field in response.get_json()["fields"]
    assert row_counts(admin.db) == before


def test_an_adjustment_reason_with_a_nul_character_is_422_and_adjusts_nothing(
        admin: AdminSession, member_id: int) -> None:
    before = row_counts(admin.db)
    response = admin.fetch(f"/admin/customers/{member_id}/adjustments",
                           {"points": 10, "reason": "Sorry\u0000", "request_key": KEY})
    assert (response.status_code, response.get_json()["error"]) == (422, "invalid_adjustment")
    assert "reason" in response.get_json()["fields"]
    assert row_counts(admin.db) == before


@pytest.mark.parametrize("query", ["\u00b2", "9999999999999999999", "99999999999999999999"])
def test_a_search_for_digits_that_are_not_a_customer_id_still_answers(
        admin: AdminSession, member_id: int, query: str) -> None:
    response = admin.page("/admin/customers", q=query)
    assert response.status_code == 200
    assert "ada@example.com" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("first", "last"), [("9999-12-30", "9999-12-31"),
                                             ("0001-01-01", "0001-01-02")])
def test_a_dashboard_period_at_the_ends_of_the_calendar_shows_the_default_period(
        admin: AdminSession, first: str, last: str) -> None:
    response = admin.page("/admin/dashboard", **{"from": first, "to": last})
    assert response.status_code == 200


@pytest.mark.parametrize("title", ["Ten off\u0000", "T" * 256])
def test_a_reward_title_that_cannot_be_stored_is_422_and_adds_nothing(
        admin: AdminSession, title: str) -> None:
    before = row_counts(admin.db)
    response = admin.fetch("/admin/settings/rewards",
                           {"kind": "amount_off", "cost": 500, "value": "5", "title": title})
    assert (response.status_code, response.get_json()["error"]) == (422, "invalid_reward")
    assert "title" in response.get_json()["fields"]
    assert row_counts(admin.db) == before
