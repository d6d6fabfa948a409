"""The daily round's upkeep of the insight roll-ups (app/models/rollup.py): the holdout
comparison's days and the cohort cells, and how far each reaches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.insights.cohorts import refresh_cohort_cells
from app.insights.holdout_days import refresh_holdout_days
from app.models import InsightRollup, Shop


@dataclass(frozen=True)
class RollupRefresh:
    """Rows a refresh wrote."""

    holdout_rows: int
    cohort_cells: int


def refresh_rollups(session: Session, shop: Shop, now: datetime, *,
                    rebuild: bool = False) -> RollupRefresh:
    """Bring the shop's roll-ups up to `now`: the holdout days a round can have changed (all
    of them when `rebuild`, or the first time), and the cohort cells."""
    state = session.get(InsightRollup, shop.id)
    if state is None:
        state = InsightRollup(shop_id=shop.id)
        session.add(state)
        session.flush()
    holdout_rows = refresh_holdout_days(session, shop.id, now,
                                        None if rebuild else state.holdout_through)
    state.holdout_through = now
    cells = refresh_cohort_cells(session, shop, state, now)
    session.flush()
    return RollupRefresh(holdout_rows, cells)
