"""Every settings field has a label a merchant can read, defined once."""

from __future__ import annotations

from app.loyalty.program import DEFAULT_SETTINGS, _flatten, describe_changes
from app.loyalty.settings_labels import known_label, readable_change
from app.web.admin.forms import SECTIONS, ListField


def test_every_settings_field_and_every_form_field_has_a_label() -> None:
    paths = set(_flatten(DEFAULT_SETTINGS))
    for section in SECTIONS.values():
        for path, kind in section.fields.items():
            if isinstance(kind, ListField):
                paths.update(f"{path}.0.{part}" for part in kind.item)
            paths.add(path)
    unlabelled = sorted(p for p in paths if known_label(p) is None)
    assert unlabelled == []


def test_labels_are_words_not_field_paths() -> None:
    labels = {known_label(p) for p in _flatten(DEFAULT_SETTINGS)}
    assert not [label for label in labels if label and ("." in label or "_" in label)]
    assert known_label("earning.points_per_unit") == "Points per unit spent"
    assert known_label("tiers.levels.1.threshold") == "Tier 2 threshold"
    assert known_label("engagement.flows.win_back.bonus_points") == "Win-back flow: bonus points"


def test_a_change_is_described_with_the_fields_label() -> None:
    after = {**DEFAULT_SETTINGS, "earning": {**DEFAULT_SETTINGS["earning"],
                                             "points_per_unit": "10"}}
    assert describe_changes(DEFAULT_SETTINGS, after) == ["Points per unit spent: 5 → 10"]


def test_a_version_saved_with_field_paths_reads_in_words_and_other_lines_stay() -> None:
    assert readable_change("pending_days: 30 → 14") == "Pending period (days): 30 → 14"
    assert readable_change("rewards: “$5 off” 500 points") == "rewards: “$5 off” 500 points"
    assert readable_change("no changes") == "no changes"
