"""Staff members read as "Staff 1", "Staff 2"… in the order they first changed the program."""

from __future__ import annotations

from app.loyalty.staff import shown_actor, staff_names


def test_staff_are_numbered_by_first_appearance_and_keep_their_number() -> None:
    names = staff_names(["staff:908", None, "staff:17", "staff:908", "staff:3"])
    assert names == {"staff:908": "Staff 1", "staff:17": "Staff 2", "staff:3": "Staff 3"}


def test_a_change_without_a_staff_member_is_loyalty_loops_own() -> None:
    assert shown_actor(None, {}) == "Loyalty Loop"
    assert shown_actor("staff:17", {"staff:17": "Staff 2"}) == "Staff 2"
