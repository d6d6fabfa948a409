"""Cohorts: each month's new customers and how many ordered again, per segment, as heat maps
and as CSV."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from app.insights.cohorts import COHORT_MONTHS, SEGMENTS, cohort_tables, cohorts_csv
from app.models import Shop
from app.web.admin import charts
from app.web.admin.embedded import database, now, render_page
from app.web.auth import require_admin_session
from app.web.responses import error

bp = Blueprint("admin_cohorts", __name__)


@bp.get("/admin/cohorts")
@require_admin_session
def cohorts_page():  # noqa: ANN201 - Flask view
    """Members, guests and the held-out customers, one heat map each; `?format=csv&segment=`
    downloads one segment's table."""
    moment = now()
    wanted = request.args.get("format")
    if wanted not in (None, "", "csv"):
        return error("invalid_format", "format is csv or nothing", 400)
    with database().sessions() as session:
        shop = session.get(Shop, g.shop.id)
        if wanted == "csv":
            segment = request.args.get("segment", "members")
            if segment not in SEGMENTS:
                return error("invalid_segment", f"segment is one of {', '.join(SEGMENTS)}", 400)
            body = cohorts_csv(segment, cohort_tables(session, shop, moment)[segment])
            return Response(body, mimetype="text/csv", headers={
                "Content-Disposition": f'attachment; filename="cohorts-{segment}.csv"'})
        tables = cohort_tables(session, shop, moment)
    columns = [str(k) for k in range(COHORT_MONTHS)]
    maps = {key: charts.heat_map(
        [(c.month.strftime("%b %Y"), c.rates if c.customers else [None] * COHORT_MONTHS)
         for c in table], columns,
        f"{SEGMENTS[key]}: share of each month's new customers who ordered again, by months "
        "since their first order") for key, table in tables.items()}
    return render_page("admin/cohorts.html", title="Cohorts", nav="cohorts", segments=SEGMENTS,
                       tables=tables, maps=maps)
