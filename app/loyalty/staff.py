"""How the admin names the staff member behind a change.

A change records `staff:<id>`, the `sub` of the admin session token (Shopify's staff user id).
Shopify names staff members only through Admin GraphQL's `StaffMember`, which needs the
`read_users` access scope, and Shopify grants that scope only to finance embedded apps or on
Shopify Plus and Advanced stores (`requiredAccess` of StaffMember in the Admin API 2026-07
schema). Loyalty Loop does not ask for it (shopify.app.toml), so staff members read as
"Staff 1", "Staff 2"… numbered per shop in the order they first changed the program: the same
person keeps the same number, and a merchant can tell two people apart without their names.
"""

from __future__ import annotations

from collections.abc import Iterable

STAFF_PREFIX = "staff:"


def staff_names(actors_in_order: Iterable[str | None]) -> dict[str, str]:
    """Each staff actor (`staff:<id>`) → "Staff n", numbered by first appearance."""
    names: dict[str, str] = {}
    for actor in actors_in_order:
        if actor and actor.startswith(STAFF_PREFIX) and actor not in names:
            names[actor] = f"Staff {len(names) + 1}"
    return names


def shown_actor(actor: str | None, names: dict[str, str]) -> str:
    """Who made a change, as the admin shows it: a staff number, or Loyalty Loop itself."""
    if actor is None:
        return "Loyalty Loop"
    return names.get(actor, actor)
