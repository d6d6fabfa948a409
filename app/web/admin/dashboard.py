"""The dashboard: the program's figures for a chosen period, with charts drawn on the server."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, g, request

from app.loyalty.analytics import Period, period_between, period_ending, shop_dashboard
from app.loyalty.labels import money_label
from app.loyalty.program import current_settings
from app.web.admin import charts, onboarding
from app.web.admin.embedded import database, now, render_page
from app.web.auth import require_admin_session

bp = Blueprint("admin_dashboard", __name__)

PRESETS = (("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "12 months"))
DEFAULT_PRESET = "30"
LONGEST_PERIOD_DAYS = 3 * 366


# Dates a period may use: far beyond any shop's history, far from date.min and date.max,
# where a period's bounds and its comparison period would overflow.
EARLIEST_DAY, LATEST_DAY = date(1970, 1, 1), date(2999, 12, 31)


def _day(raw: str | None) -> date | None:
    """A YYYY-MM-DD query value within EARLIEST_DAY..LATEST_DAY, or None."""
    try:
        day = date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    return day if day is not None and EARLIEST_DAY <= day <= LATEST_DAY else None


def chosen_period(timezone: str | None) -> tuple[Period, str]:
    """The period from the query (`days=30`, or `from` and `to` dates) and its preset key."""
    first, last = _day(request.args.get("from")), _day(request.args.get("to"))
    if first and last and abs((last - first).days) < LONGEST_PERIOD_DAYS:
        return period_between(first, last, timezone), "custom"
    preset = request.args.get("days", DEFAULT_PRESET)
    if preset not in dict(PRESETS):
        preset = DEFAULT_PRESET
    return period_ending(now(), int(preset), timezone), preset


def _money(value: Decimal, currency: str) -> str:
    """12345.5 → '$12,345.50' (or '12,345.50 CHF'): the catalog's currency style, with cents."""
    return money_label(Decimal(0), currency).replace("0", f"{value:,.2f}", 1)


def _percent(value: object) -> str:
    """0.4213 → '42.1%', None → '—'."""
    return "—" if value is None else f"{float(value) * 100:.1f}%"


@bp.get("/admin/dashboard")
@require_admin_session
def dashboard_page():  # noqa: ANN201 - Flask view
    """Members, points, liability, repeat purchases, referrals, reward revenue and NPS."""
    period, preset = chosen_period(g.shop.timezone)
    with database().sessions() as session:
        program = current_settings(session, g.shop.id)
        figures = shop_dashboard(session, g.shop, program, period)
        steps = onboarding.checklist(g.shop.onboarding,
                                     onboarding.program_facts(session, g.shop))
    currency = figures.currency
    comparison = [
        charts.Bar("Members", float(figures.members.repeat_rate or 0),
                   _percent(figures.members.repeat_rate), charts.GREEN),
        charts.Bar("Guests", float(figures.guests.repeat_rate or 0),
                   _percent(figures.guests.repeat_rate), charts.GREY)]
    funnel = figures.referrals
    funnel_bars = [charts.Bar("Shares", funnel.shares, f"{funnel.shares:,}", charts.BLUE),
                   charts.Bar("Referred orders", funnel.referred_orders,
                              f"{funnel.referred_orders:,}", charts.BLUE),
                   charts.Bar("Rewarded", funnel.rewarded, f"{funnel.rewarded:,}",
                              charts.GREEN)]
    return render_page(
        "admin/dashboard.html", title="Dashboard", nav="dashboard", d=figures,
        presets=PRESETS, preset=preset, percent=_percent,
        money=lambda value: _money(value, currency),
        points_chart=charts.points_chart(figures.chart),
        repeat_chart=charts.horizontal_bars(comparison, "Repeat purchase rate", maximum=1.0),
        funnel_chart=charts.horizontal_bars(funnel_bars, "Referral funnel"),
        nps_chart=charts.nps_bar(figures.nps.promoters, figures.nps.passives,
                                 figures.nps.detractors),
        checklist=None if all(s.done for s in steps) else steps)
