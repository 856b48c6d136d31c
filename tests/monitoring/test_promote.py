"""``nextedit promote``: the config edit (atomic, comments kept) and a live server reloading it
under load, with no request failing; the server stores each request's file extension."""

from __future__ import annotations

import json
import threading
import tomllib
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.monitoring.promote import PromoteError, promote_config
from nextedit.server.app import create_app
from nextedit.server.config import load_config
from nextedit.server.launch import ServerThread
from nextedit.server.telemetry.schema import requests
from tests.server.test_endpoints import v3_body

runner = CliRunner()
CONFIG = """# the A/B test of the bigger model
[server]
store = "sqlite:///{store}"

[models.a]
provider = "heuristic"
version = "small@v1"
[models.b]
provider = "heuristic"
version = "big@v1"

[[experiments]]
name = "control"
model = "a"
weight = 0.5  # half the users
[[experiments]]
name = "bigger"
model = "b"
"""


def _weights(path: Path) -> dict[str, float]:
    return {e["name"]: e.get("weight", 1.0) for e in tomllib.loads(path.read_text())["experiments"]}


def test_promote_edits_the_weights_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "serve.toml"
    path.write_text(CONFIG.format(store=tmp_path / "t.db"))
    done = promote_config(path, "bigger")
    assert done.before == {"control": 0.5, "bigger": 1.0} and done.after == {"control": 0.0, "bigger": 1.0}
    text = path.read_text()
    assert _weights(path) == {"control": 0.0, "bigger": 1.0}
    assert "# the A/B test of the bigger model" in text and "weight = 0.0  # half the users" in text
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left
    assert not promote_config(path, "bigger").changed
    with pytest.raises(PromoteError, match="no \\[\\[experiments\\]\\] entry named 'nope'"):
        promote_config(path, "nope")


def test_promote_from_report(tmp_path: Path) -> None:
    path = tmp_path / "serve.toml"
    path.write_text(CONFIG.format(store=tmp_path / "t.db"))
    report = tmp_path / "ab.json"
    report.write_text(
        json.dumps({"decision": {"action": "keep running", "arm": None, "line": "keep running: x"}})
    )
    res = runner.invoke(app, ["promote", "--config", str(path), "--from-report", str(report)])
    assert res.exit_code == 0 and "nothing to promote" in res.output
    assert _weights(path) == {"control": 0.5, "bigger": 1.0}
    report.write_text(json.dumps({"decision": {"action": "ship", "arm": "bigger", "line": "ship bigger: y"}}))
    res = runner.invoke(app, ["promote", "--config", str(path), "--from-report", str(report)])
    assert res.exit_code == 0, res.output
    assert _weights(path) == {"control": 0.0, "bigger": 1.0}
    res = runner.invoke(app, ["promote", "--config", str(path)])
    assert res.exit_code == 2 and "exactly one of --arm and --from-report" in res.output


def test_promote_reloads_a_server_under_load_without_failures(tmp_path: Path) -> None:
    path = tmp_path / "serve.toml"
    db = tmp_path / "telemetry.db"
    path.write_text(CONFIG.format(store=db))
    srv = ServerThread(create_app(load_config(path))).start()
    answers: list[tuple[int, str | None, bool]] = []  # (status, model version, sent after the reload)
    stop, reloaded = threading.Event(), threading.Event()
    seen_after = threading.Semaphore(0)

    def load() -> None:
        with httpx.Client(timeout=30) as c:
            i = 0
            while not stop.is_set():
                after = reloaded.is_set()
                try:
                    r = c.post(
                        srv.url + "/predict_edits/v3", json=v3_body(), headers={"x-client-id": f"u{i % 40}"}
                    )
                    answers.append((r.status_code, r.headers.get("x-nextedit-model-version"), after))
                except httpx.HTTPError as e:
                    answers.append((0, repr(e), after))
                if after:
                    seen_after.release()
                i += 1

    thread = threading.Thread(target=load)
    try:
        thread.start()
        while len(answers) < 40:  # both arms serve before the promotion
            stop.wait(0.01)
        res = runner.invoke(app, ["promote", "--config", str(path), "--arm", "bigger", "--url", srv.url])
        assert res.exit_code == 0, res.output
        reloaded.set()
        for _ in range(40):  # 40 requests sent after the reload answered
            assert seen_after.acquire(timeout=30)
    finally:
        stop.set()
        thread.join(30)
        srv.stop()
    assert _weights(path) == {"control": 0.0, "bigger": 1.0}
    failed = [a for a in answers if a[0] != 200]
    assert not failed, failed[:5]
    assert {v for _, v, after in answers if not after} == {"small@v1", "big@v1"}
    assert {v for _, v, after in answers if after} == {"big@v1"}
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        exts = {e for (e,) in conn.execute(select(requests.c.file_ext).distinct())}
    engine.dispose()
    assert exts == {"py"}  # cursor_path "proj/a.py": the extension, never the path
