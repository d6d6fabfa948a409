"""The package map of README.md's "Architecture" section, held by the imports themselves.

Every `import` and `from … import` in app/ is read with `ast` (inside functions and
`if TYPE_CHECKING:` blocks too) and checked against the layering rules below.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Everything app.models may not import: the layers above it.
_ABOVE_MODELS = ("app.loyalty", "app.engagement", "app.pipeline", "app.shopify", "app.web",
                 "app.messaging")
# The Shopify emulator, under its package name in app/ or at the top level.
_EMULATOR = ("app.devstore", "devstore")


@dataclass(frozen=True)
class Rule:
    """Modules under `package` may not import anything under `forbidden`."""

    package: str
    forbidden: tuple[str, ...]
    # Modules of `package` the rule leaves alone (development routes, the demo).
    exempt: tuple[str, ...] = ()

    def applies_to(self, module: str) -> bool:
        """Whether the rule covers this module."""
        return _within(module, (self.package,)) and not _within(module, self.exempt)


RULES = (
    # The loyalty rules are the bottom layer: plain Python over the models.
    Rule("app.loyalty", ("app.engagement", "app.pipeline", "app.web", "app.messaging",
                         "flask")),
    # What the program is worth is plain Python over the rules and the models: the pages
    # render it, the daily round keeps its roll-ups.
    Rule("app.insights", ("app.engagement", "app.pipeline", "app.web", "app.messaging",
                          "app.shopify", "flask")),
    Rule("app.models", _ABOVE_MODELS),
    # Shopify protocol code takes plain values (domain, token, ids, dicts) and speaks Shopify:
    # what combines the program's state with a Shopify call lives in app.pipeline.
    Rule("app.shopify", ("app.web", "app.loyalty", "app.engagement", "app.messaging",
                         "app.pipeline")),
    # Production code never needs the emulator; development routes and the demo drive it.
    Rule("app", _EMULATOR, exempt=("app.devstore", "app.demo", "app.web.dev_admin")),
)

# Imports that break a rule today and are known: each must still be there (the list only
# shrinks), and no other may appear. None is known now; an entry needs the reason no move fixes.
KNOWN_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset()


def _within(module: str, packages: tuple[str, ...]) -> bool:
    """Whether `module` is one of `packages` or inside one."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def module_name(path: Path, root: Path) -> str:
    """app/loyalty/events.py -> app.loyalty.events; a package's __init__ is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str) -> Iterator[str]:
    """Every module a source file imports (relative imports resolved against `module`)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[:-node.level]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target
            # `from app import devstore` imports a module too.
            yield from (f"{target}.{alias.name}" for alias in node.names)


def violations(root: Path, package: str = "app") -> set[tuple[str, str]]:
    """(module, imported module) pairs under `root`/`package` that break a rule."""
    found: set[tuple[str, str]] = set()
    for path in sorted((root / package).rglob("*.py")):
        module = module_name(path, root)
        rules = [rule for rule in RULES if rule.applies_to(module)]
        if not rules:
            continue
        for imported in imported_modules(path.read_text(encoding="utf-8"), module):
            if any(_within(imported, rule.forbidden) for rule in rules):
                found.add((module, imported))
    return found


def _unknown(found: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Violations not on the known list (`from x import y` is known when x is)."""
    return sorted((module, imported) for module, imported in found
                  if not any(module == known_module and _within(imported, (known,))
                             for known_module, known in KNOWN_EXCEPTIONS))


def test_no_module_of_the_app_breaks_the_layering():
    assert _unknown(violations(REPO)) == []


def test_every_known_exception_is_still_there():
    # Once one is fixed, it leaves the list, so it cannot come back unnoticed.
    assert sorted(KNOWN_EXCEPTIONS - violations(REPO)) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("app/loyalty/events.py", "from app.engagement import schedule\n",
     ("app.loyalty.events", "app.engagement")),
    ("app/loyalty/daily.py", "def later():\n    import app.pipeline.jobs\n",
     ("app.loyalty.daily", "app.pipeline.jobs")),
    ("app/loyalty/view.py", "from flask import request\n", ("app.loyalty.view", "flask")),
    ("app/insights/effect.py", "from flask import g\n", ("app.insights.effect", "flask")),
    ("app/loyalty/deep/rules.py", "from ...web import context\n",
     ("app.loyalty.deep.rules", "app.web")),
    ("app/models/shop.py", "from app.shopify.graphql import gid\n",
     ("app.models.shop", "app.shopify.graphql")),
    ("app/shopify/tokens.py", "from app.web.context import runtime\n",
     ("app.shopify.tokens", "app.web.context")),
    ("app/shopify/x.py", "from app import loyalty\n", ("app.shopify.x", "app.loyalty")),
    ("app/shopify/app_data.py", "from app.pipeline.runtime import Runtime\n",
     ("app.shopify.app_data", "app.pipeline.runtime")),
    ("app/web/admin/pages.py", "from app.devstore import ShopifyEmulator\n",
     ("app.web.admin.pages", "app.devstore")),
    ("app/pipeline/jobs.py", "import devstore.state\n", ("app.pipeline.jobs", "devstore.state")),
])
def test_a_forbidden_import_is_found(tmp_path, name, text, expected):
    root = _tree(tmp_path, {name: text})
    assert expected in violations(root)
    assert expected in _unknown(violations(root))


def test_allowed_imports_and_the_development_routes_pass(tmp_path):
    root = _tree(tmp_path, {
        "app/engagement/schedule.py": "from app.loyalty.orders import OrderFacts\n",
        "app/pipeline/topics.py": "from app.engagement import schedule\nfrom app import shopify\n",
        "app/web/dev_admin.py": "from app.devstore import ShopifyEmulator\n",
        "app/demo.py": "from devstore import ShopifyEmulator\n",
        "app/devstore/server.py": "from app.devstore.state import State\n",
        "app/loyalty/rules.py": "from app.models import Shop\nfrom app.loyalty import ledger\n",
    })
    assert violations(root) == set()
