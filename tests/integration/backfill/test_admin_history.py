"""The merchant's order history page over the app's HTTP: the choice posted as the page posts
it, the run carried out by the job (inline, against the emulator), the progress read back,
bad choices refused with the field to fix, another shop's runs never seen."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import select

from app.models import Backfill
from tests.integration.backfill.conftest import SHOP
from tests.support.shopify_fakes import admin_token

OTHER = "someone-else.myshopify.com"


def fetch(history, path: str, body: dict | None = None, shop: str = SHOP):
    with history.app.test_client() as client:
        response = client.post(path, json=body,
                               headers={"Authorization": f"Bearer {admin_token(shop)}"})
        response.close()  # the inline queue runs the request's jobs once it is closed
        return response


def page(history, shop: str = SHOP):
    query = urlencode({"embedded": "1", "shop": shop, "host": "aGlzdG9yeQ",
                       "id_token": admin_token(shop)})
    with history.app.test_client() as client:
        return client.get(f"/admin/history?{query}")


def test_the_merchant_starts_a_backfill_and_sees_it_complete(history):
    assert "Read order history" in page(history).get_data(as_text=True)

    answer = fetch(history, "/admin/history",
                   {"window_days": "365", "mode": "points", "points_days": "60"})

    assert answer.status_code == 202
    assert answer.get_json()["backfill"]["status"] == "requested"
    # The inline queue ran the job once the answer was sent.
    done = fetch(history, "/admin/history/progress").get_json()["backfill"]
    assert (done["status"], done["finished"]) == ("completed", True)
    assert done["orders_recorded"] == len(history.recorded())
    assert done["points_awarded"] == sum(history.expected_points(60).values())
    text = page(history).get_data(as_text=True)
    assert f"{done['orders_recorded']:,}" in text and "completed" in text
    assert fetch(history, "/admin/history/resume").status_code == 409


def test_a_choice_that_cannot_run_is_a_422_naming_the_field_and_starts_nothing(history):
    for body, field in [({"window_days": "0", "mode": "tiers"}, "window_days"),
                        ({"window_days": "365", "mode": "everything"}, "mode"),
                        ({"window_days": "365", "mode": "points", "points_days": "0"},
                         "points_days")]:
        answer = fetch(history, "/admin/history", body)
        assert answer.status_code == 422
        assert list(answer.get_json()["fields"]) == [field]
    assert fetch(history, "/admin/history", None).status_code == 400
    with history.db.sessions() as session:
        assert session.execute(select(Backfill)).first() is None


def test_another_shop_sees_none_of_this_shops_runs(history):
    from tests.integration.admin.conftest import install_shop

    install_shop(history.db, OTHER)
    fetch(history, "/admin/history", {"window_days": "30", "mode": "tiers"})
    assert fetch(history, "/admin/history/progress", shop=OTHER).get_json() == {"backfill": None}
    assert "Latest run" not in page(history, shop=OTHER).get_data(as_text=True)
