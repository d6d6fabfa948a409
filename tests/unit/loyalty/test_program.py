"""Program settings: defaults from features.md, validation with field errors, versions."""

from decimal import Decimal

import pytest

from app.loyalty.program import (
    DEFAULT_SETTINGS,
    SettingsError,
    current_settings,
    save_settings,
    validate,
)
from tests.support.factories import T0, make_shop


def test_the_defaults_are_valid_and_match_the_documented_program():
    assert validate(DEFAULT_SETTINGS) == {}


def test_a_negative_earn_rate_and_a_tier_ladder_without_zero_are_field_errors():
    bad = {**DEFAULT_SETTINGS,
           "earning": {**DEFAULT_SETTINGS["earning"], "points_per_unit": "-1"},
           "tiers": {**DEFAULT_SETTINGS["tiers"],
                     "levels": [{"name": "Only", "threshold": "10", "multiplier": "1"}]}}
    errors = validate(bad)
    assert errors["earning.points_per_unit"] == "must be between 0 and 1000"
    assert errors["tiers.levels"] == "the lowest tier must start at 0"


def test_each_save_is_a_new_version_and_the_newest_applies(db):
    with db.transaction() as s:
        shop = make_shop(s)
        assert current_settings(s, shop.id).version == 0
        assert current_settings(s, shop.id).points_per_unit == Decimal(5)
        save_settings(s, shop.id, {"earning": {"points_per_unit": "10"}},
                      changed_by="staff:1", now=T0)
        settings = current_settings(s, shop.id)
        assert settings.version == 1
        assert settings.points_per_unit == Decimal(10)
        assert settings.pending_days == 30
        assert [t.name for t in settings.tiers] == ["Bronze", "Silver", "Gold"]


def test_an_invalid_save_changes_nothing(db):
    with db.transaction() as s:
        shop = make_shop(s)
        with pytest.raises(SettingsError) as excinfo:
            save_settings(s, shop.id, {"pending_days": 900}, changed_by=None, now=T0)
        assert excinfo.value.errors == {"pending_days": "must be between 0 and 365"}
        assert current_settings(s, shop.id).version == 0
