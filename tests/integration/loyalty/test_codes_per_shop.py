"""A reward code is unique within its shop: a drawn code that is taken is drawn again."""

import pytest

from app.loyalty.codes import CodeSpaceExhausted, code_is_taken, unused_discount_code
from app.models import Redemption
from tests.support.factories import T0, make_member, make_shop


def _redemption(s, member, code):
    s.add(Redemption(shop_id=member.shop_id, member_id=member.id, points=500, code=code,
                     status="issued", created_at=T0, updated_at=T0))
    s.flush()


def test_a_taken_code_is_drawn_again(db):
    with db.transaction() as s:
        shop = make_shop(s)
        _redemption(s, make_member(s, shop), "LOYAL-AAAAA-AAAAA")
        draws = iter(["LOYAL-AAAAA-AAAAA", "LOYAL-BBBBB-BBBBB"])
        code = unused_discount_code(s, shop.id, generate=lambda prefix: next(draws))
        assert code == "LOYAL-BBBBB-BBBBB"


def test_the_same_code_in_another_shop_is_free(db):
    with db.transaction() as s:
        one, two = make_shop(s), make_shop(s)
        _redemption(s, make_member(s, one), "LOYAL-AAAAA-AAAAA")
        assert code_is_taken(s, one.id, "LOYAL-AAAAA-AAAAA") is True
        assert code_is_taken(s, two.id, "LOYAL-AAAAA-AAAAA") is False
        assert unused_discount_code(
            s, two.id, generate=lambda prefix: "LOYAL-AAAAA-AAAAA") == "LOYAL-AAAAA-AAAAA"


def test_a_generator_that_only_repeats_itself_gives_up(db):
    with db.transaction() as s:
        shop = make_shop(s)
        _redemption(s, make_member(s, shop), "LOYAL-AAAAA-AAAAA")
        with pytest.raises(CodeSpaceExhausted):
            unused_discount_code(s, shop.id, generate=lambda prefix: "LOYAL-AAAAA-AAAAA",
                                 attempts=3)


def test_the_database_refuses_a_second_row_with_the_same_code(db):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.transaction() as s:
        shop = make_shop(s)
        member = make_member(s, shop)
        _redemption(s, member, "LOYAL-AAAAA-AAAAA")
        _redemption(s, member, "LOYAL-AAAAA-AAAAA")
