"""The program's state where the theme extension can read it: an app-data metafield.

The blocks read `app.metafields['$app'].program_state` and render nothing while it is `draft`
(a launcher that would only answer `program_not_live`). A shop installed before programs had
states has no such metafield and keeps its launcher, as it keeps earning. Values the extension
renders belong in app-owned metafields on the app installation (`metafieldsSet` with `ownerId =
currentAppInstallation.id`; https://shopify.dev/docs/apps/build/custom-data/ownership#app-data-
metafields), as `proxy_path` is written (app/shopify/proxy_path.py).
"""

from __future__ import annotations

from datetime import datetime

from app.loyalty.launch import program_state
from app.pipeline.runtime import Runtime
from app.shopify.app_data import write_app_data
from app.shopify.graphql import MetafieldInput

METAFIELD_NAMESPACE = "$app"
METAFIELD_KEY = "program_state"


def program_state_metafield(installation_id: str, state: str) -> MetafieldInput:
    """The app-data metafield that tells the theme extension whether the program is live."""
    return MetafieldInput(installation_id, METAFIELD_KEY, state, "single_line_text_field",
                          namespace=METAFIELD_NAMESPACE)


def push_program_state(runtime: Runtime, shop_id: int, now: datetime | None = None) -> str:
    """Write the shop's state as it is when the job runs; a job, safe to run twice or late."""
    state = write_app_data(runtime, shop_id, program_state, program_state_metafield, now)
    return "skipped: no such installed shop" if state is None else f"set program_state {state}"

