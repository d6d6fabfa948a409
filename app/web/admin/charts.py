"""Charts drawn on the server as inline SVG: no script, no request, no layout shift.

Each chart has a fixed viewBox (so its height is known before it paints), a <title> and an
aria-label for screen readers, and text in the page's font. Colors follow Polaris' palette.

The SVG scales with its card, and its text with it: a label renders at font-size x (rendered
width / viewBox width). The viewBoxes are about as wide as the narrowest card (a phone, about
350 px), so LABEL_SIZE never renders below 11 px; the stylesheet caps how wide a chart grows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from app.loyalty.analytics import PointsBucket

GREEN, BLUE, GREY, RED, LIGHT = "#29845a", "#2c6ecb", "#8a8a8a", "#d72c0d", "#c9c9c9"
TEXT, GRID = "#616161", "#ebebeb"
LABEL_SIZE = 12


@dataclass(frozen=True)
class Bar:
    """One labelled horizontal bar."""

    label: str
    value: float
    shown: str
    color: str = BLUE


def nice_ticks(peak: float, most: int = 4) -> list[int]:
    """Round axis values from 0 to at least `peak`, at most `most` steps of 1, 2 or 5 times a
    power of ten (0, 50, 100, 150); whole numbers, as points are."""
    if peak <= 0:
        return [0, 1]
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if step * most >= peak:
                return [step * i for i in range(math.ceil(peak / step) + 1)]
        magnitude *= 10


def _compact(value: float) -> str:
    """1234 → 1.2k, 2500000 → 2.5M: axis labels that fit."""
    for limit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{value:g}"


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    """The <svg> element around a chart's shapes."""
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>")


def _day_label(first: date, last: date) -> str:
    """A bar's label: 'Mar 4', or 'Mar 2026' for a month."""
    if first.day == 1 and (last - first).days >= 27:
        return first.strftime("%b %Y")
    return f"{first:%b} {first.day}"


def points_chart(buckets: Sequence[PointsBucket], *, width: int = 360,
                 height: int = 180) -> Markup:
    """Grouped bars: points issued, redeemed and expired per day (or week, or month)."""
    left, right, top, bottom = 40, 4, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([max(b.issued, b.redeemed, b.expired) for b in buckets] or [0])
    ticks = nice_ticks(peak)
    ceiling = ticks[-1]
    body: list[str] = []
    for tick in ticks:
        y = top + plot_h - plot_h * tick / ceiling
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="{GRID}"/>')
        body.append(f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end" '
                    f'font-size="{LABEL_SIZE}" fill="{TEXT}">{_compact(tick)}</text>')
    count = max(len(buckets), 1)
    slot = plot_w / count
    bar_w = max(min(slot / 4, 12), 0.5)
    # About five dates across: each label is some 40 units wide at LABEL_SIZE.
    label_every = max(1, -(-count // 5))
    for i, bucket in enumerate(buckets):
        x0 = left + slot * i + (slot - bar_w * 3) / 2
        for j, (value, color, name) in enumerate(((bucket.issued, GREEN, "issued"),
                                                  (bucket.redeemed, BLUE, "redeemed"),
                                                  (bucket.expired, GREY, "expired"))):
            h = plot_h * value / ceiling
            body.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{color}">'
                f"<title>{escape(_day_label(bucket.first_day, bucket.last_day))}: "
                f"{value:,} {name}</title></rect>")
        if i % label_every == 0:
            body.append(
                f'<text x="{left + slot * i + slot / 2:.1f}" y="{height - 6}" '
                f'text-anchor="middle" font-size="{LABEL_SIZE}" fill="{TEXT}">'
                f"{escape(_day_label(bucket.first_day, bucket.last_day))}</text>")
    return _svg(width, height, "Points issued, redeemed and expired over the period", body)


def horizontal_bars(bars: Sequence[Bar], label: str, *, maximum: float | None = None,
                    width: int = 360, row: int = 34) -> Markup:
    """Labelled horizontal bars (a comparison, or a funnel when the values shrink)."""
    label_w, value_w = 112, 64
    plot_w = width - label_w - value_w
    top = max([b.value for b in bars] or [0]) if maximum is None else maximum
    top = top or 1.0
    height = row * len(bars) + 4
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = 2 + i * row
        w = max(plot_w * bar.value / top, 0)
        body.append(f'<text x="0" y="{y + row / 2 + 4:.1f}" font-size="13" fill="{TEXT}">'
                    f"{escape(bar.label)}</text>")
        body.append(f'<rect x="{label_w}" y="{y + 6}" width="{plot_w}" height="{row - 12}" '
                    f'rx="4" fill="{GRID}"/>')
        body.append(f'<rect x="{label_w}" y="{y + 6}" width="{w:.1f}" height="{row - 12}" '
                    f'rx="4" fill="{bar.color}"/>')
        body.append(f'<text x="{width}" y="{y + row / 2 + 4:.1f}" font-size="13" '
                    f'font-weight="600" text-anchor="end" fill="#303030">'
                    f"{escape(bar.shown)}</text>")
    return _svg(width, height, label, body)


def nps_bar(promoters: int, passives: int, detractors: int, *, width: int = 360,
            height: int = 28) -> Markup:
    """One 100 % bar split into detractors, passives and promoters."""
    total = promoters + passives + detractors
    body: list[str] = []
    if total == 0:
        body.append(f'<rect x="0" y="0" width="{width}" height="{height}" rx="6" '
                    f'fill="{GRID}"/>')
        return _svg(width, height, "No answers yet", body)
    x = 0.0
    for count, color, name in ((detractors, RED, "detractors"), (passives, LIGHT, "passives"),
                               (promoters, GREEN, "promoters")):
        w = width * count / total
        if w > 0:
            body.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" '
                        f'fill="{color}"><title>{count} {name}</title></rect>')
        x += w
    label = f"{detractors} detractors, {passives} passives, {promoters} promoters"
    return _svg(width, height, label, body)


def _mix(low: str, high: str, share: float) -> str:
    """The colour `share` of the way from `low` to `high` (#rrggbb)."""
    a = [int(low[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(high[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(a, b, strict=True))


def heat_map(rows: Sequence[tuple[str, Sequence[float | None]]], columns: Sequence[str],
             label: str, *, width: int = 480) -> Markup:
    """A grid of shares (0-1): one row per label, darker where the share is higher, each cell
    with its percentage; a None cell (not begun yet) is left blank."""
    label_w, head_h = 64, 20
    cell_w = (width - label_w) / max(len(columns), 1)
    cell_h = 22
    height = head_h + cell_h * len(rows) + 2
    peak = max([v for _, values in rows for v in values if v is not None] or [0]) or 1.0
    body: list[str] = []
    for j, column in enumerate(columns):
        body.append(f'<text x="{label_w + cell_w * j + cell_w / 2:.1f}" y="14" '
                    f'text-anchor="middle" font-size="11" fill="{TEXT}">{escape(column)}</text>')
    for i, (name, values) in enumerate(rows):
        y = head_h + i * cell_h
        body.append(f'<text x="0" y="{y + cell_h / 2 + 4:.1f}" font-size="11" fill="{TEXT}">'
                    f"{escape(name)}</text>")
        for j, value in enumerate(values):
            if value is None:
                continue
            x = label_w + cell_w * j
            share = value / peak
            fill = _mix("#f1f8f5", "#0c5132", share)
            ink = "#ffffff" if share > 0.55 else "#303030"
            body.append(f'<rect x="{x + 1:.1f}" y="{y + 1}" width="{cell_w - 2:.1f}" '
                        f'height="{cell_h - 2}" rx="3" fill="{fill}">'
                        f"<title>{escape(name)}, {escape(columns[j])}: {value * 100:.1f}%"
                        f"</title></rect>")
            body.append(f'<text x="{x + cell_w / 2:.1f}" y="{y + cell_h / 2 + 4:.1f}" '
                        f'text-anchor="middle" font-size="11" fill="{ink}">'
                        f"{value * 100:.0f}</text>")
    return _svg(width, height, label, body)
