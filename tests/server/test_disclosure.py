"""What the server gives away (issue 17, defect 11): the open endpoints name providers without
their paths unless the client is authenticated, and telemetry's ``client_id`` is keyed with a
per-install secret (stable across restarts, not the bare hash of a token or an IP)."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from dataclasses import replace

import httpx

from nextedit.server.client_ids import SECRET_FILE, client_id, install_secret
from tests.server.fakes import todo_backend
from tests.server.test_endpoints import v3_body


def test_open_endpoints_name_providers_without_paths(start_server, tmp_path) -> None:  # noqa: ANN001
    spec = f"hybrid:{tmp_path}/private/models/x"
    cfg = {"models": {"h": {"provider": "heuristic", "fallback": "heuristic"}}}
    for tokens in ([], ["s3cret"]):
        srv = start_server({**cfg, "server": {"auth_tokens": tokens}})
        predictor = srv.app.state.service.models["h"].predictor
        predictor.spec = replace(predictor.spec, provider=spec)  # a local model's spec, without loading one
        for path in ("/healthz", "/"):
            body = httpx.get(srv.url + path).json()
            assert body["models"]["h"]["provider"] == "hybrid" and str(tmp_path) not in str(body), path
        if tokens:
            auth = {"Authorization": "Bearer s3cret"}
            assert httpx.get(srv.url + "/healthz", headers=auth).json()["models"]["h"]["provider"] == spec
            wrong = {"Authorization": "Bearer nope"}
            assert httpx.get(srv.url + "/healthz", headers=wrong).json()["models"]["h"]["provider"] == "hybrid"


def test_install_secret_is_made_once_private_and_kept(tmp_path) -> None:  # noqa: ANN001
    secret = install_secret(tmp_path / "cfg")
    path = tmp_path / "cfg" / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(secret) == 64
    assert install_secret(tmp_path / "cfg") == secret  # read back, not remade
    assert install_secret(tmp_path / "other") != secret
    assert client_id("token:Bearer abc", secret) == client_id("token:Bearer abc", secret)
    assert client_id("token:Bearer abc", secret) != client_id("token:Bearer abc", install_secret(tmp_path / "other"))
    assert client_id("token:Bearer abc", secret) != hashlib.sha256(b"token:Bearer abc").hexdigest()[:16]


def test_rows_carry_the_keyed_id_across_restarts(start_server, tmp_path) -> None:  # noqa: ANN001
    """Two processes with the same config dir give a client the same id; the id is the HMAC."""
    env = {**os.environ, "NEXTEDIT_CONFIG_DIR": str(tmp_path / "cfg")}
    code = "from nextedit.server.client_ids import client_id; print(client_id('id:dev-1'))"
    ids = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
           for _ in range(2)]  # fmt: skip
    assert ids[0] == ids[1] and len(ids[0].strip()) == 16
    assert ids[0].strip() == client_id("id:dev-1", install_secret(tmp_path / "cfg"))
    srv = start_server({"models": {"todo": {"provider": "test"}}}, providers={"todo": todo_backend()})
    r = httpx.post(srv.url + "/predict_edits/v3", json=v3_body(), headers={"x-zed-device-id": "dev-1"})
    assert r.status_code == 200
    store = srv.app.state.service.store
    store.flush()
    (row,) = store.fetch()
    assert row["client_id"] == client_id("id:dev-1")  # this process's install secret
    assert row["client_id"] != hashlib.sha256(b"id:dev-1").hexdigest()[:16]
