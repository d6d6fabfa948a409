"""GET /healthz reports what the app depends on."""

from app import create_app
from tests.conftest import app_config


def test_healthz_is_ok_when_the_database_answers_and_jobs_run_inline(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"database": "ok",
                                   "redis": "not configured (jobs run inline)"}


def test_healthz_is_ok_with_a_reachable_redis(db, redis_url):
    client = create_app(app_config(db, redis_url=redis_url)).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["redis"] == "ok"


def test_healthz_is_503_when_redis_is_unreachable(db):
    client = create_app(app_config(db, redis_url="redis://127.0.0.1:1/0")).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["redis"] == "unreachable"


def test_healthz_is_503_when_the_database_is_unreachable(db):
    from app.db import Database

    dead = Database("postgresql://postgres@127.0.0.1:1/none")
    client = create_app(app_config(dead)).test_client()
    response = client.get("/healthz")
    dead.dispose()
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
