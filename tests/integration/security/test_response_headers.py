"""Headers on every answer, read over HTTP from a running app (issue 13, item 6)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import httpx
import pytest

from app import create_app
from app.db import utcnow
from app.engagement.links import UNSUBSCRIBE, LinkSigner
from app.loyalty.members import enrol
from app.loyalty.rewards import seed_default_rewards
from tests.conftest import TEST_API_SECRET, app_config
from tests.support.factories import make_shop
from tests.support.shopify_fakes import admin_token, signed_proxy_query

SHOP = "headers-shop.myshopify.com"
HOST = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvaGVhZGVycy1zaG9w"


@pytest.fixture
def served(db, live_server):
    """The app over HTTP with one installed shop and its member Ada (customer 11)."""
    now = utcnow()
    with db.transaction() as s:
        shop = make_shop(s, domain=SHOP, name="Headers Shop", timezone="UTC")
        seed_default_rewards(s, shop, now)
        ada = enrol(s, shop, now=now, customer_id=11, email="ada@example.com", first_name="Ada")
        ids = {"shop": shop.id, "member": ada.id}
    url = live_server(create_app(app_config(db)))
    with httpx.Client(base_url=url, timeout=10) as http:
        yield http, ids


def _proxy(customer_id: str) -> str:
    return signed_proxy_query({"shop": SHOP, "logged_in_customer_id": customer_id,
                               "path_prefix": "/apps/loyalty", "timestamp": str(int(time.time()))})


def _admin_page(path: str) -> str:
    return f"{path}?" + urlencode({"embedded": "1", "host": HOST, "shop": SHOP,
                                   "id_token": admin_token(SHOP)})


def _unsubscribe_link(ids) -> str:
    token = LinkSigner([TEST_API_SECRET], "https://loyalty.test").token(
        UNSUBSCRIBE, utcnow(), s=ids["shop"], m=ids["member"], x=0)
    return f"/e/unsubscribe/{token}"


def test_every_answer_says_nosniff_errors_and_redirects_included(served):
    http, ids = served
    answers = [
        http.get("/healthz"), http.get("/no-such-page"), http.post("/webhooks", content=b"{}"),
        http.get("/proxy/member?shop=x"), http.get(f"/proxy/member?{_proxy('11')}"),
        http.get(f"/proxy/program?{_proxy('')}"), http.options("/api/checkout/nps", headers={
            "Origin": "https://extensions.shopifycdn.com",
            "Access-Control-Request-Method": "POST"}),
        http.get("/api/checkout/order/1"), http.get("/auth/install?shop=evil.com"),
        http.get(f"/?shop={SHOP}&embedded=1"), http.get(_admin_page("/admin/dashboard")),
        http.get("/e/unsubscribe/not-a-token"), http.get(_unsubscribe_link(ids)),
    ]
    statuses = {answer.status_code for answer in answers}
    assert {200, 204, 302, 400, 401, 404} <= statuses
    assert [(a.request.url.path, a.headers.get("X-Content-Type-Options")) for a in answers] == [
        (a.request.url.path, "nosniff") for a in answers]


def test_the_embedded_admin_is_never_stored_and_only_its_shops_admin_may_frame_it(served):
    http, _ = served
    page = http.get(_admin_page("/admin/dashboard"))
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Content-Security-Policy"] == (
        f"frame-ancestors https://{SHOP} https://admin.shopify.com;")
    bounce = http.get(f"/auth/session-token?shop={SHOP}&shopify-reload=%2Fadmin")
    assert bounce.status_code == 200 and bounce.headers["Cache-Control"] == "no-store"


def test_a_shoppers_answers_are_never_stored(served):
    http, _ = served
    member = http.get(f"/proxy/member?{_proxy('11')}")
    assert member.status_code == 200 and member.json()["member"]["first_name"] == "Ada"
    assert member.headers["Cache-Control"] == "no-store"
    order = http.get("/api/checkout/order/1", headers={"Authorization": "Bearer x"})
    assert order.headers["Cache-Control"] == "no-store"


def test_email_link_pages_cannot_be_framed_by_anyone(served):
    http, ids = served
    for answer in (http.get(_unsubscribe_link(ids)), http.get("/e/unsubscribe/not-a-token"),
                   http.get("/e/nps/not-a-token")):
        assert answer.headers["Content-Type"].startswith("text/html")
        assert answer.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        assert answer.headers["Cache-Control"] == "no-store"
