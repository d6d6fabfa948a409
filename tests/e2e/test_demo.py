"""`make demo` keeps working: a demo shop installed through the emulator, with a history."""

from sqlalchemy import select

from app.demo import DEMO_SHOP, describe, seed_demo_shop, start_demo
from app.models import Member, Referral, Shop


def test_the_demo_installs_a_shop_whose_orders_became_members_with_points_tiers_and_a_referral(
        tmp_path):
    demo = start_demo(database_url=f"sqlite:///{tmp_path / 'demo.db'}", port=0)
    try:
        seed_demo_shop(demo)
        seed_demo_shop(demo)  # running the demo twice changes nothing
        db = demo.app.extensions["runtime"].db
        with db.sessions() as s:
            shop = s.execute(select(Shop)).scalar_one()
            members = {m.first_name: m for m in s.execute(select(Member)).scalars()}
            referral = s.execute(select(Referral)).scalar_one()
        assert (shop.domain, shop.is_installed) == (DEMO_SHOP, True)
        ada, grace, alan = members["Ada"], members["Grace"], members["Alan"]
        # Ada: 250 welcome + 360.00 forty days ago (unlocked) as Bronze, then Silver on 45.00.
        assert ada.tier == "Silver"
        assert (ada.points_available, ada.points_pending) == (250 + 1800, 281)
        assert grace.points_pending == 300 and grace.points_available == 250
        assert (referral.status, referral.referrer_id) == ("pending", ada.id)
        # Alan bought two at 25.00 and returned one: half of 250 points reversed.
        assert alan.points_pending == 125
        assert "Silver" in describe(demo)
        assert demo.emulator.shop(DEMO_SHOP).metafields
    finally:
        demo.stop()
