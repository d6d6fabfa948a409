"""Figures, tables and the JSON each benchmark leaves in bench/results/."""

from __future__ import annotations

import json
import math
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of the values; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(latencies_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds."""
    return {f"p{p}_ms": round(percentile(latencies_s, p) * 1000, 2) for p in (50, 95, 99)} | {
        "max_ms": round(max(latencies_s) * 1000, 2) if latencies_s else math.nan}


def run_loadgen(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load generator in its own process with this spec; returns its result."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
        path = fh.name
    try:
        done = subprocess.run([sys.executable, "-m", "bench.loadgen", path],
                              cwd=Path(__file__).resolve().parent.parent,
                              capture_output=True, text=True, check=True,
                              timeout=spec["max_seconds"] + 120)
    finally:
        os.unlink(path)
    return json.loads(done.stdout)


def machine() -> dict[str, Any]:
    """What the figures were measured on, and how busy it was."""
    try:
        uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        uptime = ""
    return {"cores": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
            "uptime": uptime, "python": platform.python_version(),
            "platform": platform.platform()}


def command_line() -> str:
    """The exact command that produced the figures."""
    return shlex.join([Path(sys.executable).name, "-m", "bench", *sys.argv[1:]]) if (
        sys.argv and sys.argv[0].endswith("__main__.py")) else shlex.join(sys.argv)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table, right-aligned numbers."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    """A table cell: floats rounded for reading."""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_result(name: str, result: dict[str, Any], *, started: datetime,
                 machine_before: dict[str, Any]) -> Path:
    """Write bench/results/<name>.json with the command and the machine; returns its path."""
    RESULTS.mkdir(exist_ok=True)
    document = {"benchmark": name, "command": command_line(),
                "started_at": started.isoformat(timespec="seconds"),
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine_before, "machine_after": machine(), **result}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path
