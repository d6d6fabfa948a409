"""Import and export in the admin: upload → preview → confirm → progress, bad files answered
with 4xx, another shop's runs unreachable; and the same from the CLI."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from app.models import ImportRun, LedgerEntry, Member
from tests.integration.admin.conftest import OTHER_SHOP, AdminSession

SAMPLES = Path(__file__).parents[2] / "unit" / "importing" / "samples"


def _upload(admin: AdminSession, source: str, body: bytes, **query: str):  # noqa: ANN202
    from tests.support.shopify_fakes import admin_token

    shop = query.pop("shop", None)
    token = admin_token(shop) if shop else admin_token("loop-admin.myshopify.com", user_id="42")
    params = "&".join(f"{k}={v}" for k, v in {"source": source, **query}.items())
    return admin.client.post(f"/admin/imports?{params}", data=body,
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": "text/csv"})


def _members(admin: AdminSession) -> int:
    with admin.db.sessions() as session:
        return session.execute(select(func.count()).select_from(Member).where(
            Member.shop_id == admin.shop_id)).scalar_one()


def test_upload_previews_then_confirm_imports(admin: AdminSession) -> None:
    answer = _upload(admin, "smile", (SAMPLES / "smile.csv").read_bytes(), filename="smile.csv")
    assert answer.status_code == 201, answer.get_json()
    run = answer.get_json()
    assert run["state"] == "staged"
    assert (run["preview"]["create"], run["preview"]["refused"]) == (2, 4)
    assert _members(admin) == 0  # the preview imports nothing

    page = admin.page(f"/admin/imports/{run['id']}").get_data(as_text=True)
    assert "Members to create" in page and "the customer is disabled in Smile" in page
    assert "Confirm import" in page

    started = admin.fetch(f"/admin/imports/{run['id']}/confirm", {})
    assert started.status_code == 200, started.get_json()
    started.close()  # the inline queue runs the request's jobs once its answer is closed
    status = admin.fetch(f"/admin/imports/{run['id']}/status", {}).get_json()
    # Jobs run inline after the response in tests: the import is done.
    assert (status["state"], status["rows_done"], status["total_rows"]) == ("done", 6, 6)
    assert _members(admin) == 2
    again = admin.fetch(f"/admin/imports/{run['id']}/confirm", {})
    assert again.status_code == 409
    listing = admin.page("/admin/imports").get_data(as_text=True)
    assert f"Import {run['id']} (Smile.io)" in listing and "smile.csv" in listing


def test_a_file_that_cannot_be_imported_gets_a_clear_4xx_and_stores_nothing(
        admin: AdminSession) -> None:
    cases = [
        (_upload(admin, "shopify", b"email\n"), 400, "unknown_source"),
        (_upload(admin, "smile", b"name,points\nAda,1\n"), 400, "invalid_file"),
        (_upload(admin, "smile", "email,points\nad\xe9@x.example,1\n".encode("latin-1")), 400,
         "not_utf8"),
        (_upload(admin, "smile", b""), 400, "empty_file"),
    ]
    for answer, status, code in cases:
        assert (answer.status_code, answer.get_json()["error"]) == (status, code)
    with admin.db.sessions() as session:
        assert session.execute(select(func.count()).select_from(ImportRun)).scalar_one() == 0


def test_another_shop_s_run_is_not_found(admin: AdminSession) -> None:
    run = _upload(admin, "yotpo", (SAMPLES / "yotpo.csv").read_bytes(),
                  shop=OTHER_SHOP).get_json()
    assert admin.page(f"/admin/imports/{run['id']}").status_code == 404
    assert admin.fetch(f"/admin/imports/{run['id']}/confirm", {}).status_code == 404
    assert admin.fetch(f"/admin/imports/{run['id']}/status", {}).status_code == 404
    assert admin.page("/admin/imports/not-a-number").status_code == 404


def test_exports_stream_the_shop_s_members_and_ledger(admin: AdminSession) -> None:
    run = _upload(admin, "loyaltylion", (SAMPLES / "loyaltylion.csv").read_bytes()).get_json()
    admin.fetch(f"/admin/imports/{run['id']}/confirm", {}).close()
    members = admin.fetch("/admin/exports/members")
    assert members.status_code == 200 and members.mimetype == "text/csv"
    assert members.headers["Content-Disposition"].startswith('attachment; filename="loop-admin-')
    lines = members.get_data(as_text=True).splitlines()
    assert lines[0].startswith("customer_id,email,first_name") and len(lines) == 4
    ledger = admin.fetch("/admin/exports/ledger").get_data(as_text=True).splitlines()
    with admin.db.sessions() as session:
        entries = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    assert len(ledger) == entries + 1
    assert admin.fetch("/admin/exports/everything").status_code == 404


def test_the_cli_previews_with_dry_run_then_imports_with_progress(admin: AdminSession) -> None:
    runner = admin.app.test_cli_runner()
    sample = str(SAMPLES / "smile.csv")
    dry = runner.invoke(args=["import-members", "--source", "smile", sample, "--shop",
                              "loop-admin.myshopify.com", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "6 row(s): 2 member(s) to create, 0 to match, 0 already imported, 4 refused" \
        in dry.output
    assert "line 5: refused, email 'not-an-email' is not an email address" in dry.output
    assert "dry run: nothing imported" in dry.output
    assert _members(admin) == 0
    done = runner.invoke(args=["import-members", "--source", "smile", sample, "--shop",
                               "loop-admin.myshopify.com"])
    assert done.exit_code == 0, done.output
    assert "imported 6/6 rows (100%)" in done.output and ": done" in done.output
    assert _members(admin) == 2
    again = runner.invoke(args=["import-members", "--source", "smile", sample, "--shop",
                                "loop-admin.myshopify.com"])
    assert "0 member(s) to create, 0 to match, 2 already imported" in again.output
    exported = runner.invoke(args=["export-members", "--shop", "loop-admin.myshopify.com"])
    assert exported.exit_code == 0 and exported.output.count("\n") == 3
    unknown = runner.invoke(args=["import-members", "--source", "smile", sample, "--shop",
                                  "nope.myshopify.com"])
    assert unknown.exit_code == 1 and "no shop nope.myshopify.com" in unknown.output


def test_an_export_larger_than_a_webhook_body_uploads(admin: AdminSession) -> None:
    name = "Maximiliana-Wilhelmina " * 3
    rows = "".join(f"shopper{i}@example.com,{i},Gold,{name},{name}\n" for i in range(12_000))
    body = f"email,points_balance,vip_tier,first_name,last_name\n{rows}".encode()
    assert len(body) > admin.app.config["MAX_CONTENT_LENGTH"]
    answer = _upload(admin, "smile", body)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["preview"]["create"] == 12_000


def test_a_look_at_a_run_whose_worker_died_resumes_it_once(admin: AdminSession) -> None:
    from datetime import timedelta

    from app.loyalty.importing.runs import confirm
    from tests.integration.admin.conftest import NOW

    run = _upload(admin, "smile", (SAMPLES / "smile.csv").read_bytes()).get_json()
    # Confirmed and claimed by a job whose worker then died: nothing was queued after it.
    with admin.db.transaction() as session:
        row = session.get(ImportRun, run["id"])
        assert confirm(session, row, NOW)
        row.claimed_by = "dead-job"
    status = admin.fetch(f"/admin/imports/{run['id']}/status", {})
    status.close()
    assert status.get_json()["state"] == "importing"  # still beating: left to its job
    assert _members(admin) == 0

    with admin.db.transaction() as session:
        session.get(ImportRun, run["id"]).heartbeat_at = NOW - timedelta(minutes=6)
    status = admin.fetch(f"/admin/imports/{run['id']}/status", {})
    assert status.get_json()["state"] == "importing"
    status.close()  # the inline queue runs the take-over job once the answer is closed
    again = admin.fetch(f"/admin/imports/{run['id']}/status", {}).get_json()
    assert (again["state"], again["rows_done"], again["total_rows"]) == ("done", 6, 6)
    assert _members(admin) == 2
    with admin.db.sessions() as session:
        assert session.get(ImportRun, run["id"]).claimed_by is None
