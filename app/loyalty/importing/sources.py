"""The formats we import, by the name the CLI and the admin use (`--source smile`)."""

from __future__ import annotations

from types import ModuleType

from app.loyalty.importing import loyaltylion, loyaltyloop, smile, yotpo

SOURCES: dict[str, ModuleType] = {
    module.SOURCE: module for module in (smile, loyaltylion, yotpo, loyaltyloop)}


def source_named(name: str) -> ModuleType | None:
    """The parser module for a source name, or None."""
    return SOURCES.get((name or "").strip().lower())
