"""The rewards catalog page: add, edit, switch off and reorder, each change in the history."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.db import utcnow
from app.loyalty.rewards import seed_default_rewards
from app.models import Reward, SettingsVersion, Shop
from tests.integration.admin.conftest import OTHER_SHOP, AdminSession


def _catalog(admin: AdminSession, shop_id: int | None = None) -> list[Reward]:
    """The shop's rewards in catalog order."""
    with admin.db.sessions() as session:
        return list(session.execute(select(Reward).where(
            Reward.shop_id == (shop_id or admin.shop_id))
            .order_by(Reward.position, Reward.id)).scalars())


def _seed(admin: AdminSession) -> list[int]:
    """The default ladder; the ids in order."""
    with admin.db.transaction() as session:
        return [r.id for r in seed_default_rewards(session, session.get(Shop, admin.shop_id),
                                                   utcnow())]


def _summaries(admin: AdminSession) -> list[tuple[str, str]]:
    """Every settings version's (who, what)."""
    with admin.db.sessions() as session:
        return [(v.changed_by, v.summary) for v in session.execute(
            select(SettingsVersion).order_by(SettingsVersion.version)).scalars()]


def test_the_catalog_page_lists_the_default_ladder(admin: AdminSession) -> None:
    _seed(admin)
    page = admin.page("/admin/settings/rewards").get_data(as_text=True)
    for title in ("Free shipping", "$5 off", "$10 off", "$25 off"):
        assert f'value="{title}"' in page


def test_adding_a_reward_puts_it_last_and_records_who_added_it(admin: AdminSession) -> None:
    _seed(admin)
    response = admin.fetch("/admin/settings/rewards", {
        "kind": "percent_off", "cost": "1500", "value": "15", "min_subtotal": "",
        "tier_required": "Silver", "title": "", "combines": False}, user_id="9")
    added = _catalog(admin)[-1]
    assert response.status_code == 201
    assert (added.title, added.cost, added.value, added.tier_required, added.position) == (
        "15% off", 1500, Decimal(15), "Silver", 4)
    assert _summaries(admin) == [("staff:9", "rewards: added “15% off” for 1,500 points")]
    assert "rewards_reviewed" in admin.shop().onboarding["steps"]


def test_a_reward_with_mistakes_is_refused_field_by_field(admin: AdminSession) -> None:
    response = admin.fetch("/admin/settings/rewards", {
        "kind": "percent_off", "cost": "lots", "value": "150", "tier_required": "Platinum"})
    assert response.status_code == 422
    assert response.json["fields"] == {
        "cost": "must be a whole number of points from 1 to 10,000,000",
        "value": "must be a percentage above 0 and at most 100",
        "tier_required": "must name one of the program's tiers"}
    assert _catalog(admin) == []


def test_editing_a_reward_changes_its_terms(admin: AdminSession) -> None:
    ids = _seed(admin)
    response = admin.fetch(f"/admin/settings/rewards/{ids[1]}", {
        "title": "Five off", "kind": "amount_off", "cost": "450", "value": "5",
        "min_subtotal": "", "tier_required": ""})
    edited = next(r for r in _catalog(admin) if r.id == ids[1])
    assert response.status_code == 200
    assert (edited.title, edited.cost, edited.min_subtotal) == ("Five off", 450, None)
    assert _summaries(admin)[-1][1] == "rewards: “$5 off” 500 points → “Five off” 450 points"


def test_a_reward_switched_off_stays_in_the_catalog_inactive(admin: AdminSession) -> None:
    ids = _seed(admin)
    response = admin.fetch(f"/admin/settings/rewards/{ids[0]}", {"active": False})
    assert (response.status_code, response.json["active"]) == (200, False)
    assert [r.active for r in _catalog(admin)] == [False, True, True, True]
    assert _summaries(admin)[-1][1] == "rewards: “Free shipping” switched off"


def test_reordering_sets_every_position(admin: AdminSession) -> None:
    ids = _seed(admin)
    new_order = [ids[3], ids[0], ids[2], ids[1]]
    response = admin.fetch("/admin/settings/rewards/order", {"ids": new_order})
    assert response.status_code == 200
    assert [r.id for r in _catalog(admin)] == new_order


def test_a_reorder_missing_a_reward_is_refused(admin: AdminSession) -> None:
    ids = _seed(admin)
    response = admin.fetch("/admin/settings/rewards/order", {"ids": ids[:3]})
    assert (response.status_code, response.json["error"]) == (422, "invalid_order")
    assert [r.id for r in _catalog(admin)] == ids


def test_another_shops_reward_cannot_be_edited(admin: AdminSession) -> None:
    ids = _seed(admin)
    response = admin.fetch(f"/admin/settings/rewards/{ids[0]}", {"active": False},
                           shop=OTHER_SHOP)
    assert response.status_code == 404
    assert _catalog(admin)[0].active is True


def test_a_large_reward_shows_its_exact_value_and_minimum_for_editing_never_1e06(
        admin: AdminSession) -> None:
    # A shop in rupiah: Rp987,654.50 off from Rp2,500,000, and a quarter-unit store credit.
    assert admin.fetch("/admin/settings/rewards", {
        "kind": "amount_off", "cost": "5000", "value": "987654.5", "min_subtotal": "2500000",
        "tier_required": "", "title": "Big one"}).status_code == 201
    assert admin.fetch("/admin/settings/rewards", {
        "kind": "store_credit", "cost": "10", "value": "0.25", "min_subtotal": "",
        "tier_required": "", "title": "Tiny one"}).status_code == 201
    page = admin.page("/admin/settings/rewards").get_data(as_text=True)
    assert 'name="value" value="987654.5"' in page
    assert 'name="min_subtotal" value="2500000"' in page
    assert 'name="value" value="0.25"' in page
    assert "e+0" not in page
