"""A running A/B test costs the paid orders of members outside it no statement: their row
says they are in no arm (members.experiment_arm)."""

from app import create_app
from app.db import utcnow
from app.insights.experiments import start_experiment
from app.loyalty.program import current_settings
from tests.conftest import app_config
from tests.integration.test_statement_budget import (
    NEW_CUSTOMER_BUDGET,
    RETURNING_CUSTOMER_BUDGET,
    SHOP,
    _beyond_outbox,
    _paid,
)
from tests.support.factories import make_shop


def test_a_running_ab_test_adds_no_statement_to_a_paid_order_outside_it(pg, redis_url):
    with pg.transaction() as s:
        shop = make_shop(s, domain=SHOP)
        start_experiment(s, shop, current_settings(s, shop.id),
                         variable="earning.points_per_unit", value_b="10",
                         metric="next_order_30d", smallest_effect_points="10",
                         guardrail_cost="5", now=utcnow(), started_by="test")
    rt = create_app(app_config(pg, redis_url=redis_url)).extensions["runtime"]
    outcome, first = _paid(rt, pg, 1)
    assert outcome == "processed"
    assert len(_beyond_outbox(first, 0)) <= NEW_CUSTOMER_BUDGET, "\n".join(first)
    outcome, second = _paid(rt, pg, 2)
    assert outcome == "processed"
    # The second order moves the customer up a tier: one Flow trigger's outbox row.
    assert len(_beyond_outbox(second, 1)) <= RETURNING_CUSTOMER_BUDGET, "\n".join(second)
    assert not any("experiment" in statement for statement in first + second)
