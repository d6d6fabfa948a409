"""axe-core, Deque's accessibility engine (npm devDependency `axe-core`), run inside a page.

Every browser test that shows a surface to a person calls `serious_violations(page)` and
asserts the list is empty: WCAG 2.x A and AA rules plus axe's best practices, counting the
violations axe rates serious or critical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_results(page: Any, context: str | None = None) -> dict[str, Any]:
    """axe's full results for the page (or one CSS selector within it)."""
    if context:
        # axe refuses a context that matches nothing: wait for it as a person would.
        page.wait_for_selector(context, state="attached")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text())
    return page.evaluate(
        "([context, tags]) => axe.run(context || document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})", [context, TAGS])


def serious_violations(page: Any, context: str | None = None) -> list[str]:
    """One line per serious or critical violation: rule, impact, and the offending nodes."""
    results = axe_results(page, context)
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(" ".join(node["target"]) if isinstance(node["target"], list)
                        else str(node["target"]) for node in v["nodes"][:5])
            for v in results["violations"] if v["impact"] in SERIOUS]
