"""What the app's servers log and where they agree to listen, from their own processes
(issue 13, item 8): gunicorn as the README runs it, and `python wsgi.py` as the Shopify CLI
runs it."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.processes import (
    BIN,
    ROOT,
    Gunicorn,
    app_environment,
    free_port,
    stop_process,
    wait_until,
)

SECRETS = {"id_token": "eyJSESSIONTOKENSECRET", "code": "CODESECRET0123",
           "hmac": "HMACSECRET0123abcdef", "signature": "SIGNATURESECRET0123"}
SHOP = "demo-shop.myshopify.com"
# A wide format: every atom a log line could carry a credential in.
WIDE_FORMAT = ('%(h)s "%(r)s" %(s)s q=%(q)s ref="%(f)s" loc=%({location}o)s '
               'raw=%({raw_uri}e)s')


def _requests_carrying_credentials(url: str) -> None:
    """An admin load, an OAuth callback and an app-proxy call, each with its credentials."""
    referer = f"https://admin.shopify.com/store/demo?id_token={SECRETS['id_token']}R"
    with httpx.Client(base_url=url, timeout=10, headers={"Referer": referer}) as http:
        assert http.get("/", params={"embedded": "1", "hmac": SECRETS["hmac"], "shop": SHOP,
                                     "id_token": SECRETS["id_token"], "timestamp": "1"}
                        ).status_code in (302, 401)
        http.get("/auth/callback", params={"code": SECRETS["code"], "hmac": SECRETS["hmac"],
                                           "shop": SHOP, "state": "x", "timestamp": "1"})
        http.get("/proxy/member", params={"shop": SHOP, "logged_in_customer_id": "1",
                                          "signature": SECRETS["signature"], "timestamp": "1"})


def _assert_redacted(log: str) -> None:
    assert "/proxy/member" in log and "/auth/callback" in log
    assert [name for name, value in SECRETS.items() if value in log] == []
    assert "signature=[redacted]" in log and "code=[redacted]" in log
    assert f"shop={SHOP}" in log  # what is not a credential stays useful


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return app_environment(f"sqlite:///{tmp_path / 'app.db'}", None, **extra)


def test_gunicorns_access_log_never_records_a_session_token_code_hmac_or_signature(tmp_path):
    log = tmp_path / "access.log"
    server = Gunicorn(_environment(tmp_path), workers=1)
    server.args[-1:-1] = ["--access-logfile", str(log), "--access-logformat", WIDE_FORMAT]
    try:
        _requests_carrying_credentials(server.start())
        wait_until(lambda: "/proxy/member" in log.read_text(), 10, "the access log")
    finally:
        server.stop()
    _assert_redacted(log.read_text())


def test_the_development_servers_request_log_never_records_a_credential(tmp_path):
    port, output = free_port(), tmp_path / "server.log"
    env = _environment(tmp_path, PORT=str(port), HOST_BIND="127.0.0.1")
    with output.open("wb") as out:
        process = subprocess.Popen([str(BIN / "python"), "wsgi.py"], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}"), 30, "python wsgi.py")
        _requests_carrying_credentials(f"http://127.0.0.1:{port}")
        wait_until(lambda: "/proxy/member" in output.read_text(), 10, "the request log")
    finally:
        stop_process(process)
    _assert_redacted(output.read_text())


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code in (200, 503)
    except httpx.HTTPError:
        return False


def _without_secrets(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No APP_ENV and no secrets: the built-in development ones would be used."""
    env = _environment(tmp_path, **extra)
    for name in ("APP_ENV", "SHOPIFY_API_SECRET", "TOKEN_ENCRYPTION_KEY", "SHOPIFY_API_KEY"):
        env.pop(name, None)
    return env


@pytest.mark.parametrize("server", ["python wsgi.py", "gunicorn"])
def test_a_server_with_the_development_secrets_refuses_a_public_address(tmp_path, server):
    port = free_port()
    if server == "gunicorn":
        command = [str(BIN / "gunicorn"), "-w", "1", "-b", f"0.0.0.0:{port}", "wsgi:app"]
        env = _without_secrets(tmp_path)
    else:
        command = [str(BIN / "python"), "wsgi.py"]
        env = _without_secrets(tmp_path, HOST_BIND="0.0.0.0", PORT=str(port))
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            assert not _answers(f"http://127.0.0.1:{port}"), f"{server} served on 0.0.0.0"
            time.sleep(0.2)
        assert process.poll() not in (None, 0)
        output = process.stdout.read().decode(errors="replace")
    finally:
        stop_process(process)
        process.stdout.close()
    assert "refusing to serve on 0.0.0.0 with the built-in development" in output
    assert "SHOPIFY_API_SECRET and TOKEN_ENCRYPTION_KEY" in output


@pytest.mark.parametrize("bind", ["127.0.0.1", "[::1]"])
def test_the_development_secrets_still_serve_on_loopback(tmp_path, bind):
    port = free_port()
    command = [str(BIN / "gunicorn"), "-w", "1", "-b", f"{bind}:{port}", "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=_without_secrets(tmp_path),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        wait_until(lambda: _answers(f"http://{bind}:{port}"), 30, "gunicorn on loopback")
    finally:
        stop_process(process)
