"""Cross-site forgery and DNS rebinding (issue 17, defect 10), against a real server on loopback
with no token (the default): a page of another origin can neither POST (text/plain, form or
untyped bodies, any Origin) nor read answers under its own domain name (Host)."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
import zstandard

from nextedit.server.config import ConfigError, parse_config
from tests.server.fakes import todo_backend
from tests.server.test_endpoints import v3_body

CFG = {"models": {"todo": {"provider": "test"}}}
ACCEPT = json.dumps({"request_id": "r-csrf", "e2e_latency_ms": 5}).encode()


def events(srv) -> list:  # noqa: ANN001
    store = srv.app.state.service.store
    store.flush()
    return store.fetch("outcome_events")


def test_simple_cross_site_posts_are_refused_before_the_handler(start_server) -> None:  # noqa: ANN001
    srv = start_server(CFG, providers={"todo": todo_backend()})
    for ctype in ("text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x", None):  # fmt: skip
        headers = {"Content-Type": ctype} if ctype else {}
        r = httpx.post(srv.url + "/predict_edits/accept", content=ACCEPT, headers=headers)
        assert r.status_code == 415, (ctype, r.text)
        assert "must be JSON" in r.json()["error"]["message"]
    assert events(srv) == []  # nothing was recorded
    # what editors and SDKs send
    ok = [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json; charset=utf-8"},
        {"Content-Type": "application/vnd.api+json"},
    ]
    for headers in ok:
        assert httpx.post(srv.url + "/predict_edits/accept", content=ACCEPT, headers=headers).status_code == 200
    z = zstandard.ZstdCompressor().compress(json.dumps(v3_body()).encode())
    for headers in ({"Content-Encoding": "zstd", "Content-Type": "application/json"}, {"Content-Encoding": "zstd"}):
        assert httpx.post(srv.url + "/predict_edits/v3", content=z, headers=headers).status_code == 200
    r = httpx.post(srv.url + "/predict_edits/v3", content=z, headers={"Content-Encoding": "zstd", "Content-Type": "text/plain"})
    assert r.status_code == 415
    assert httpx.post(srv.url + "/admin/reload").status_code == 400  # no body: no type needed (no config file)


def test_browser_origins_are_refused_unless_allowed(start_server) -> None:  # noqa: ANN001
    srv = start_server(CFG, providers={"todo": todo_backend()})
    for origin in ("https://evil.example", "null", "http://127.0.0.1:3000", srv.url):
        r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body(), headers={"Origin": origin})
        assert r.status_code == 403 and "allowed_origins" in r.json()["error"]["message"], (origin, r.text)
        assert httpx.get(srv.url + "/healthz", headers={"Origin": origin}).status_code == 403
    allowing = start_server(
        {**CFG, "server": {"allowed_origins": ["http://localhost:3000/"]}}, providers={"todo": todo_backend()}
    )
    page = {"Origin": "http://LOCALHOST:3000"}
    r = httpx.post(allowing.url + "/predict_edits/v3", json=v3_body(), headers=page)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://LOCALHOST:3000"
    preflight = {**page, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    r = httpx.options(allowing.url + "/predict_edits/v3", headers=preflight)
    assert r.status_code == 204 and "content-type" in r.headers["access-control-allow-headers"]
    assert r.headers["access-control-allow-origin"] == "http://LOCALHOST:3000"
    assert "access-control-allow-origin" not in httpx.post(allowing.url + "/predict_edits/v3", json=v3_body()).headers
    r = httpx.post(allowing.url + "/predict_edits/v3", json=v3_body(), headers={"Origin": "https://evil.example"})
    assert r.status_code == 403


def test_host_must_name_the_server_by_address(start_server) -> None:  # noqa: ANN001
    srv = start_server(CFG, providers={"todo": todo_backend()})
    port = srv.port
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", f"localhost.evil:{port}"):
        r = httpx.get(srv.url + "/healthz", headers={"Host": host})
        assert r.status_code == 403 and "allowed_hosts" in r.json()["error"]["message"], host
        assert httpx.post(srv.url + "/predict_edits/v3", json=v3_body(), headers={"Host": host}).status_code == 403
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "LOCALHOST", f"[::1]:{port}", f"app.localhost:{port}",
                 f"10.1.2.3:{port}", f"{socket.gethostname()}:{port}", f"{socket.gethostname()}.local"):  # fmt: skip
        assert httpx.get(srv.url + "/healthz", headers={"Host": host}).status_code == 200, host
    named = start_server({**CFG, "server": {"allowed_hosts": ["nextedit.internal"]}}, providers={"todo": todo_backend()})
    assert httpx.get(named.url + "/healthz", headers={"Host": "nextedit.internal:443"}).status_code == 200
    assert httpx.get(named.url + "/healthz", headers={"Host": "evil.example"}).status_code == 403
    anyhost = start_server({**CFG, "server": {"allowed_hosts": ["*"]}}, providers={"todo": todo_backend()})
    assert httpx.get(anyhost.url + "/healthz", headers={"Host": "evil.example"}).status_code == 200
    # with a token a rebinding page cannot get past auth: any Host, but the token is required
    tokened = start_server({**CFG, "server": {"auth_tokens": ["s3cret"]}}, providers={"todo": todo_backend()})
    assert httpx.get(tokened.url + "/healthz", headers={"Host": "box.example"}).status_code == 200
    r = httpx.post(tokened.url + "/predict_edits/v3", json=v3_body(), headers={"Host": "box.example"})
    assert r.status_code == 401


def test_allowed_lists_are_checked_in_the_config() -> None:
    for value in ("example.com", [1], [""]):
        with pytest.raises(ConfigError, match="server.allowed_hosts"):
            parse_config({**CFG, "server": {"allowed_hosts": value}})
    cfg = parse_config({**CFG, "server": {"allowed_origins": ["http://localhost:3000"]}})
    assert cfg.allowed_origins == ("http://localhost:3000",) and cfg.allowed_hosts == ()
