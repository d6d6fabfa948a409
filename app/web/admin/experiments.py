"""A/B tests of the program: start one, follow it to its horizon, adopt an arm."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify
from sqlalchemy import select

from app.errors import DomainError
from app.insights.experiments import (
    METRICS,
    ExperimentError,
    adopt_arm,
    baselines,
    current_value,
    read_experiment,
    running_experiment,
    start_experiment,
    testable_variables,
    variable_label,
)
from app.loyalty.program import current_settings
from app.models import Experiment, Shop
from app.web.admin.dashboard import _money
from app.web.admin.embedded import (
    actor,
    database,
    json_action,
    now,
    render_page,
)
from app.web.auth import require_admin_session
from app.web.responses import error

bp = Blueprint("admin_experiments", __name__)


def shown(value: Any) -> str:
    """An arm's value as the merchant reads it: a flow without a subject of the merchant's
    sends its own."""
    return "its own subject" if value == "" else str(value)


class ExperimentRefused(DomainError):
    """A test the merchant asked for that cannot start: the form shows why."""

    code, status = "invalid_experiment", 422


@bp.get("/admin/experiments")
@require_admin_session
def experiments_page():  # noqa: ANN201 - Flask view
    """The running test and its progress (a verdict only at the horizon), and past tests."""
    moment = now()
    with database().sessions() as session:
        settings = current_settings(session, g.shop.id)
        running = running_experiment(session, g.shop.id)
        reading = read_experiment(session, running, settings, moment) if running else None
        past = list(session.execute(select(Experiment).where(
            Experiment.shop_id == g.shop.id, Experiment.ended_at.is_not(None))
            .order_by(Experiment.ended_at.desc()).limit(20)).scalars())
        rates = baselines(session, g.shop.id, moment)
        variable_options = []
        for v in testable_variables(session, g.shop.id):
            today = shown(current_value(session, g.shop.id, settings, v.key))
            variable_options.append((v.key, f"{v.label} (today {today})"))
    currency = g.shop.currency
    return render_page("admin/experiments.html", title="A/B tests", nav="experiments",
                       reading=reading, past=past, metrics=METRICS,
                       variable_label=variable_label, variable_options=variable_options,
                       shown=shown,
                       metric_options=[(m.key, f"{m.label} (today {rates[m.key]:.0%})")
                                       for m in METRICS.values()],
                       money=lambda value: _money(value, currency))


@bp.post("/admin/experiments")
@json_action
def start(body: dict[str, Any]):  # noqa: ANN201 - Flask view
    """Start a test: what varies, arm B's value, the metric, the smallest effect and the
    guardrail."""
    moment = now()
    try:
        with database().transaction() as session:
            shop = session.get(Shop, g.shop.id, with_for_update=True)
            experiment = start_experiment(
                session, shop, current_settings(session, shop.id),
                variable=str(body.get("variable", "")), value_b=body.get("value_b", ""),
                metric=str(body.get("metric", "next_order_30d")),
                smallest_effect_points=body.get("smallest_effect_points", ""),
                guardrail_cost=body.get("guardrail_cost", ""), now=moment,
                started_by=actor())
            size = experiment.sample_per_arm
    except ExperimentError as exc:
        raise ExperimentRefused(str(exc)) from None
    return jsonify({"message": f"Test started: {size:,} members per arm are needed before it "
                               "says anything.", "sample_per_arm": size})


@bp.post("/admin/experiments/adopt")
@json_action
def adopt(body: dict[str, Any]):  # noqa: ANN201 - Flask view
    """End the running test by making one arm's value the setting for everyone."""
    try:
        with database().transaction() as session:
            shop = session.get(Shop, g.shop.id, with_for_update=True)
            experiment = running_experiment(session, shop.id)
            if experiment is None:
                return error("no_experiment", "no test is running", 409)
            saved = adopt_arm(session, shop, experiment, str(body.get("arm", "")), now=now(),
                              changed_by=actor())
    except ExperimentError as exc:
        return error("invalid_arm", str(exc), 422)
    return jsonify({"message": f"Arm adopted: {saved}."})
