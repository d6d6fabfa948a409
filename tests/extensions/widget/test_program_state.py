"""The blocks follow the program's state from the app-data metafield the app writes: nothing
on the storefront while it is a draft, everything once live (app/shopify/program_state.py)."""

from __future__ import annotations

import pytest

from devstore.storefront import render_block

BLOCKS = ("launcher", "loyalty-page")


def _app(state: str | None) -> dict:
    """`app` as Liquid sees it, with the program_state metafield when one was written."""
    own = {} if state is None else {
        "program_state": {"value": state, "type": "single_line_text_field"}}
    return {"metafields": {"$app": own}}


@pytest.mark.parametrize("block", BLOCKS)
def test_a_draft_program_renders_nothing_on_the_storefront(block):
    assert "data-ll-root" not in render_block(block, app=_app("draft"))


@pytest.mark.parametrize("block", BLOCKS)
def test_the_theme_editor_shows_a_draft_programs_block_so_the_merchant_can_place_it(block):
    assert "data-ll-root" in render_block(block, app=_app("draft"), design_mode=True)


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("state", ["live", None], ids=["live", "installed_before_states"])
def test_a_live_program_and_a_shop_installed_before_states_render_the_block(block, state):
    assert "data-ll-root" in render_block(block, app=_app(state))
