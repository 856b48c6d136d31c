"""`nextedit serve` as a process: starts from a config file, says where it listens, serves, reloads on
SIGHUP, stops; and ``GET /``, the index a browser or a curious user sees first."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.server.test_endpoints import v3_body


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not start")


def test_serve_command_with_config_and_sighup(tmp_path) -> None:  # noqa: ANN001
    cfg = tmp_path / "serve.toml"
    db = tmp_path / "t.db"
    cfg.write_text(
        f'[server]\nstore = "sqlite:///{db}"\n\n[models.a]\nprovider = "heuristic"\nversion = "first"\n'
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nextedit",
            "serve",
            "--config",
            str(cfg),
            "--port",
            str(port),
            "--watch-config",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
    )
    try:
        _wait(url, proc)
        assert httpx.post(url + "/predict_edits/v3", json=v3_body()).json()["model_version"] == "first"
        cfg.write_text(
            f'[server]\nstore = "sqlite:///{db}"\n\n[models.b]\nprovider = "none"\nversion = "second"\n'
        )
        proc.send_signal(signal.SIGHUP)
        end = time.monotonic() + 20
        while httpx.get(url + "/healthz").json()["models"].get("b") is None:
            assert time.monotonic() < end, "SIGHUP did not reload"
            time.sleep(0.1)
        assert httpx.post(url + "/predict_edits/v3", json=v3_body()).json()["model_version"] == "second"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    banner = err.decode()
    assert f"nextedit serve: listening on {url}" in banner
    assert f"{url}/metrics" in banner and f"{url}/v1/completions" in banner and "docs/zed.md" in banner
    lines = [ln for ln in out.decode().splitlines() if ln.startswith("{")]
    assert len(lines) == 2  # one JSON line per request, without code
    assert all('"model_version"' in ln and "TODO" not in ln for ln in lines)
    assert db.exists()


def test_index_names_the_server_models_endpoints_and_zed_settings(tmp_path) -> None:  # noqa: ANN001
    from nextedit import __version__
    from nextedit.server.app import create_app
    from nextedit.server.config import parse_config
    from nextedit.server.launch import ServerThread

    cfg = parse_config(
        {
            "models": {"h": {"provider": "heuristic", "version": "v-h"}},
            "server": {"store": "none", "auth_tokens": ["secret"]},
        }
    )
    with ServerThread(create_app(cfg)) as srv:
        r = httpx.get(srv.url + "/")  # open like /healthz: no token needed to find out what this is
        assert httpx.get(srv.url + "/edit_prediction_experiments").status_code == 401
    assert r.status_code == 200
    index = r.json()
    assert index["name"] == "nextedit" and index["version"] == __version__
    assert index["models"] == {"h": {"provider": "heuristic", "model_version": "v-h"}}
    paths = {(e["method"], e["path"]) for e in index["endpoints"]}
    for route in [("POST", "/v1/completions"), ("POST", "/api/generate"), ("POST", "/predict_edits/v3"),
                  ("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/")]:  # fmt: skip
        assert route in paths
    assert all(e["what"] for e in index["endpoints"])  # each one says what it is for
    assert index["metrics"] == srv.url + "/metrics"
    zed = index["zed_settings"]["edit_predictions"]
    assert zed["open_ai_compatible_api"]["api_url"] == srv.url + "/v1/completions"
    assert index["docs"].endswith("docs/zed.md")
