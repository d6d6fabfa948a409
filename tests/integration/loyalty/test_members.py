"""Members come from customers or guest emails; guests' points follow them into an account."""

from datetime import timedelta

from app.loyalty.ledger import post
from app.loyalty.members import enrol, referral_code_for
from tests.support.factories import T0, make_shop


def test_referral_codes_are_readable_and_carry_the_first_name():
    code = referral_code_for("Zoë")
    prefix, suffix = code.split("-")
    assert prefix == "ZOE"
    assert len(suffix) == 4 and not set(suffix) & set("01ILO")


def test_a_customer_is_enrolled_once(db):
    with db.transaction() as s:
        shop = make_shop(s)
        a = enrol(s, shop, now=T0, customer_id=42, email="Ada@Example.com", first_name="Ada")
        b = enrol(s, shop, now=T0, customer_id=42, email="ada@example.com")
        assert a.id == b.id
        assert a.email == "ada@example.com"
        assert a.referral_code.startswith("ADA-")


def test_a_guest_who_creates_an_account_keeps_the_points_earned_as_a_guest(db):
    with db.transaction() as s:
        shop = make_shop(s)
        guest = enrol(s, shop, now=T0, customer_id=None, email="guest@example.com")
        post(s, guest, points=120, kind="earn_order", source_key="order:9:earn", now=T0,
             available_at=T0 + timedelta(days=30))
        member = enrol(s, shop, now=T0, customer_id=77, email="GUEST@example.com",
                       first_name="Grace")
        assert member.id == guest.id
        assert member.customer_id == 77
        assert member.points_pending == 120


def test_an_existing_customer_absorbs_a_later_guest_history(db):
    with db.transaction() as s:
        shop = make_shop(s)
        customer = enrol(s, shop, now=T0, customer_id=5, email="old@example.com")
        post(s, customer, points=50, kind="bonus_signup", source_key="signup:5", now=T0)
        guest = enrol(s, shop, now=T0, customer_id=None, email="new@example.com")
        post(s, guest, points=70, kind="earn_order", source_key="order:3:earn", now=T0)
        merged = enrol(s, shop, now=T0, customer_id=5, email="new@example.com")
        assert merged.id == customer.id
        assert merged.points_available == 120


def test_members_of_two_shops_never_mix(db):
    with db.transaction() as s:
        one, two = make_shop(s), make_shop(s)
        a = enrol(s, one, now=T0, customer_id=1, email="same@example.com")
        b = enrol(s, two, now=T0, customer_id=1, email="same@example.com")
        assert a.id != b.id and a.shop_id == one.id and b.shop_id == two.id


def test_two_events_enrolling_a_new_customer_at_once_share_one_member(pg):
    """Two workers apply two orders of a new customer at once: the second waits for the
    first's member row and uses it, instead of failing on the unique key."""
    import threading
    from datetime import timedelta

    from app.loyalty.members import enrol
    from app.models import Member, Shop
    from tests.support.factories import T0, make_shop

    with pg.transaction() as s:
        shop_id = make_shop(s).id
    first = pg.sessions()
    first.begin()
    mine = enrol(first, first.get(Shop, shop_id), now=T0, customer_id=4242,
                 email="dee@example.com", first_name="Dee")
    theirs: list = []

    def second_worker() -> None:
        with pg.transaction() as s:
            member = enrol(s, s.get(Shop, shop_id), now=T0 + timedelta(seconds=1),
                           customer_id=4242, email="dee@example.com", last_name="Day")
            theirs.append((member.id, member.created_at))

    worker = threading.Thread(target=second_worker)
    worker.start()
    worker.join(0.5)
    assert worker.is_alive(), "the second enrolment must wait for the first's row"
    first.commit()
    first.close()
    worker.join(10)
    assert theirs == [(mine.id, T0)]
    with pg.sessions() as s:
        [member] = s.query(Member).filter_by(customer_id=4242).all()
        assert (member.first_name, member.last_name) == ("Dee", "Day")


def test_a_referral_code_already_taken_is_drawn_again_without_failing_the_event(
        db, monkeypatch):
    """The new member's INSERT is the only check of its code: a taken one is a conflict and
    the next draw is used. The draw is random, so the test makes it collide on purpose."""
    from app.loyalty import members
    from app.loyalty.members import enrol
    from app.models import Member
    from tests.support.factories import T0, make_shop

    with db.transaction() as s:
        shop = make_shop(s)
        enrol(s, shop, now=T0, customer_id=1, email="ada@example.com", first_name="Ada")
        taken = s.query(Member.referral_code).filter_by(customer_id=1).scalar()
    draws = iter([taken, "ADA-FREE1"])
    monkeypatch.setattr(members, "referral_code_for", lambda *_: next(draws))
    with db.transaction() as s:
        shop = s.merge(shop)
        member = enrol(s, shop, now=T0, customer_id=2, email="ada2@example.com",
                       first_name="Ada")
        assert member.referral_code == "ADA-FREE1"
    with db.sessions() as s:
        assert sorted(code for (code,) in s.query(Member.referral_code)) == sorted(
            [taken, "ADA-FREE1"])
