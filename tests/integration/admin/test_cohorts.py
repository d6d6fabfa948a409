"""Cohorts: each month's new customers and the share who ordered again, per segment, on the
page as heat maps and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

from app.insights.cohorts import cohort_table
from app.loyalty.holdout import CONTROL, PROGRAM
from app.models import Member, Order, Shop
from tests.integration.admin.conftest import NOW

# NOW is 2026-11-01 13:00 UTC: November is the current month.


def _customer(s, shop: Shop, n: int, paid: list[datetime], *, customer: bool = True,
              group: str | None = None) -> None:
    member = Member(shop_id=shop.id, customer_id=60_000 + n if customer else None,
                    email=f"k{n}@example.com", referral_code=f"K{shop.id}-{n}",
                    holdout_group=group, holdout_assigned_at=paid[0] if group else None,
                    created_at=paid[0])
    s.add(member)
    s.flush()
    for i, at in enumerate(paid):
        s.add(Order(shop_id=shop.id, shopify_order_id=shop.id * 10**6 + n * 100 + i,
                    member_id=member.id, total_price=Decimal("20"), status="paid", paid_at=at,
                    created_at=at))


def _seed(admin) -> None:
    with admin.db.transaction() as s:
        shop = s.get(Shop, admin.shop_id)
        # September: four members; one orders again in September, two in October, one never.
        _customer(s, shop, 1, [datetime(2026, 9, 3), datetime(2026, 9, 20)])
        _customer(s, shop, 2, [datetime(2026, 9, 5), datetime(2026, 10, 2)])
        _customer(s, shop, 3, [datetime(2026, 9, 9), datetime(2026, 10, 30),
                               datetime(2026, 10, 31)])
        _customer(s, shop, 4, [datetime(2026, 9, 12)], group=PROGRAM)
        # October: a guest who came back in November; a held-out customer who did not.
        _customer(s, shop, 5, [datetime(2026, 10, 1), datetime(2026, 11, 1, 9)],
                  customer=False)
        _customer(s, shop, 6, [datetime(2026, 10, 4)], group=CONTROL)
        # A first order before the twelve months shown: not a cohort here.
        _customer(s, shop, 7, [datetime(2025, 6, 1), datetime(2026, 10, 1)])


def test_cohort_rates_per_month_since_the_first_order(admin):
    _seed(admin)
    with admin.db.sessions() as s:
        shop = s.get(Shop, admin.shop_id)
        members = cohort_table(s, shop, "members", NOW)
        guests = cohort_table(s, shop, "guests", NOW)
        held = cohort_table(s, shop, "holdout", NOW)
    assert [c.month.isoformat() for c in members][-3:] == ["2026-09-01", "2026-10-01",
                                                          "2026-11-01"]
    september = members[-3]
    assert september.customers == 4
    # Month 0: one of four again in September; month 1: two in October; month 2 (November):
    # nobody yet; later months have not begun.
    assert september.rates[:4] == (0.25, 0.5, 0.0, None)
    assert members[-2].customers == 0 and members[-2].rates[0] is None
    assert guests[-2].customers == 1 and guests[-2].rates[:3] == (0.0, 1.0, None)
    assert held[-2].customers == 1 and held[-2].rates[:2] == (0.0, 0.0)
    assert sum(c.customers for c in members) == 4


def test_the_page_draws_a_heat_map_per_segment_and_downloads_csv(admin):
    _seed(admin)
    html = admin.page("/admin/cohorts").get_data(as_text=True)
    for segment in ("members", "guests", "holdout"):
        assert f'data-cohorts="{segment}"' in html
    assert "Sep 2026, 1: 50.0%" in html
    response = admin.page("/admin/cohorts", format="csv", segment="members")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="cohorts-members.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    september = next(r for r in rows if r["cohort"] == "2026-09")
    assert (september["customers"], september["month_0"], september["month_1"],
            september["month_3"]) == ("4", "0.2500", "0.5000", "")
    assert admin.page("/admin/cohorts", format="pdf").status_code == 400
    assert admin.page("/admin/cohorts", format="csv", segment="vip").status_code == 400
