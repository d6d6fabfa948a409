"""The program's two states, shop-wide: a draft until the merchant launches it, then live.

Draft: shoppers see nothing (the storefront proxy, the thank-you and order-status API answer
`program_not_live`, the launcher is not rendered) and nothing is sent; orders are recorded
but earn no points, sign-ups get no bonus, referrals are not attributed and the daily round
does nothing. Live: from the launch on, everything works. An order whose payment the program
learnt in draft never earns later (its Order row is paid already), so the ledger only holds
points shoppers could see being earned.

The state is a fact about the shop (`Shop.launched_at`), not a settings version: settings are
versioned and applied forward, while a launch happens once and is never undone by a save.

A program launches with a holdout (app/loyalty/holdout.py) unless the merchant says 0: the
launch form offers holdout.DEFAULT_SHARE, so the program's effect can be measured from its
first customer. Every caller states the share; none gets a holdout by accident.
"""

from __future__ import annotations

from datetime import datetime

from app.loyalty import holdout
from app.models import Shop

DRAFT, LIVE = "draft", "live"
# The answer of every shopper-facing endpoint while the program is a draft.
NOT_LIVE_CODE = "program_not_live"
NOT_LIVE_MESSAGE = "the loyalty program has not been launched yet"


def program_state(shop: Shop) -> str:
    """`draft` or `live`."""
    return LIVE if shop.is_live else DRAFT


def launch(shop: Shop, now: datetime, *, holdout_share: int) -> bool:
    """Make the shop's program live from `now`, holding out `holdout_share` percent of the
    customers first seen from then on (0: none; a holdout started before keeps its own share);
    False when it already was live (the first launch is the one that counts, and a second
    one starts nothing). HoldoutError for a share that is no whole number up to MAX_SHARE."""
    if shop.launched_at is not None:
        return False
    moment = now.replace(tzinfo=None, microsecond=0)
    if holdout_share != 0 or isinstance(holdout_share, bool):
        if not holdout.is_running(shop):
            holdout.start(shop, holdout_share, moment)
    shop.launched_at = moment
    return True
