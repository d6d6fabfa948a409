"""The ledger appends once per source key and keeps cached balances equal to its sums."""

import threading
from datetime import timedelta

import pytest

from app.loyalty.ledger import (
    InsufficientPoints,
    debit_available,
    ledger_balances,
    post,
    release_unlocked,
)
from tests.support.factories import T0, make_member, make_shop


def assert_cache_matches_ledger(session, member, now):
    sums = ledger_balances(session, member.id, now)
    assert (member.points_available, member.points_pending, member.points_lifetime) == (
        sums.available, sums.pending, sums.lifetime)


def test_pending_points_unlock_after_their_date(db):
    with db.transaction() as s:
        member = make_member(s, make_shop(s))
        unlock = T0 + timedelta(days=30)
        post(s, member, points=300, kind="earn_order", source_key="order:1:earn", now=T0,
             available_at=unlock)
        assert (member.points_available, member.points_pending) == (0, 300)
        assert member.next_unlock_at == unlock
        assert release_unlocked(s, member, T0 + timedelta(days=29)) is False
        assert release_unlocked(s, member, unlock) is True
        assert (member.points_available, member.points_pending, member.points_lifetime) == (
            300, 0, 300)
        assert member.next_unlock_at is None
        assert_cache_matches_ledger(s, member, unlock)


def test_the_same_source_key_is_applied_once(db):
    with db.transaction() as s:
        member = make_member(s, make_shop(s))
        first = post(s, member, points=100, kind="bonus_signup", source_key="signup", now=T0)
        again = post(s, member, points=100, kind="bonus_signup", source_key="signup", now=T0)
        assert first is not None and again is None
        assert member.points_available == 100
        assert_cache_matches_ledger(s, member, T0)


def test_a_debit_beyond_the_available_balance_is_refused_and_changes_nothing(db):
    with db.sessions() as s:
        with s.begin():
            member = make_member(s, make_shop(s))
            post(s, member, points=400, kind="bonus_signup", source_key="signup", now=T0)
        with pytest.raises(InsufficientPoints) as excinfo, s.begin():
            debit_available(s, member, points=500, kind="redeem", source_key="r:1", now=T0)
        assert excinfo.value.available == 400
        s.refresh(member)
        assert member.points_available == 400
        assert_cache_matches_ledger(s, member, T0)


def test_concurrent_debits_never_overdraw_on_postgresql(pg):
    with pg.transaction() as s:
        member = make_member(s, make_shop(s))
        post(s, member, points=1000, kind="bonus_signup", source_key="signup", now=T0)
        member_id = member.id
    outcomes: list[str] = []
    barrier = threading.Barrier(10)

    def redeem(n: int) -> None:
        barrier.wait()
        try:
            with pg.transaction() as s:
                from app.models import Member
                m = s.get(Member, member_id)
                debit_available(s, m, points=300, kind="redeem", source_key=f"r:{n}", now=T0)
            outcomes.append("ok")
        except InsufficientPoints:
            outcomes.append("refused")

    threads = [threading.Thread(target=redeem, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 3
    with pg.sessions() as s:
        from app.models import Member
        m = s.get(Member, member_id)
        assert m.points_available == 100
        assert_cache_matches_ledger(s, m, T0)
