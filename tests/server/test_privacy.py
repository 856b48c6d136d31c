"""Privacy on the server ([privacy]): disabled paths on every API, collection modes, no code stored
without consent (every table scanned), retention purge. Real server on loopback, real SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from nextedit.server.config import ConfigError, parse_config
from nextedit.server.privacy import PrivacyPolicy
from tests.server.test_zed_clients import (
    AFTER,
    BEFORE,
    CURSOR,
    DIFF,
    EDITABLE,
    FORMATS,
    PATH,
    pad,
    zed_new_region,
)

SECRET_PATH = "inventory/.env.local"
EXCERPT = BEFORE + EDITABLE + AFTER
MODELS = {"heuristic": {"provider": "heuristic", "workers": 1}}


@pytest.fixture
def serve(start_server, tmp_path: Path):  # noqa: ANN001, ANN201
    """serve(privacy_table) → (server, sqlite path)."""

    def _serve(privacy: dict | None = None):  # noqa: ANN202
        db = tmp_path / "telemetry.db"
        data = {"models": MODELS, "server": {"store": f"sqlite:///{db}"}}
        if privacy is not None:
            data["privacy"] = privacy
        return start_server(data), db

    return _serve


def v3(path: str = PATH, collect: bool = False) -> dict:
    return {
        "cursor_path": path, "cursor_excerpt": EXCERPT,
        "cursor_offset_in_excerpt": len(BEFORE.encode()) + CURSOR, "excerpt_start_row": 0,
        "events": [{"event": "BufferChange", "path": path, "old_path": path, "diff": DIFF, "predicted": False,
                    "in_open_source_repo": True}],
        "related_files": [], "excerpt_ranges": {}, "in_open_source_repo": True, "can_collect_data": collect,
    }  # fmt: skip


def raw(fmt: str, path: str = PATH) -> tuple[str, list[str]]:
    build, stop = FORMATS[fmt]
    return build().replace(PATH, path), stop


def ask_openai(url: str, fmt: str, path: str = PATH) -> str:
    prompt, stop = raw(fmt, path)
    r = httpx.post(
        url + "/v1/completions", json={"model": "m", "prompt": prompt, "max_tokens": 256, "stop": stop}
    )
    assert r.status_code == 200, r.text
    return r.json()["choices"][0]["text"]


def ask_ollama(url: str, fmt: str, path: str = PATH) -> str:
    prompt, stop = raw(fmt, path)
    body = {"model": "m", "prompt": prompt, "raw": True, "stream": False, "options": {"stop": stop}}
    r = httpx.post(url + "/api/generate", json=body)
    assert r.status_code == 200, r.text
    return r.json()["response"]


def teacher(path: str) -> str:
    from nextedit.prompts.teacher import TeacherFormat
    from nextedit.schema.request import Zeta2PromptInput

    return TeacherFormat().format_prompt(Zeta2PromptInput.from_json(v3(path))).text


def scan(db: Path, needle: str) -> list[str]:
    """Every text cell of every table that contains ``needle``, as ``table.column``."""
    conn = sqlite3.connect(db)
    try:
        hits = []
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            cur = conn.execute(f'SELECT * FROM "{t}"')  # noqa: S608 - table names from sqlite_master
            cols = [d[0] for d in cur.description]
            for row in cur:
                hits += [f"{t}.{c}" for c, v in zip(cols, row, strict=True) if isinstance(v, str | bytes)
                         and needle in (v if isinstance(v, str) else v.decode("utf-8", "replace"))]  # fmt: skip
        return hits
    finally:
        conn.close()


def flushed(srv):  # noqa: ANN001, ANN201
    assert srv.app.state.service.store.flush()
    return srv


def test_globs() -> None:
    p = PrivacyPolicy()
    for path in (".env", "proj/.env", "proj/.env.local", "/home/u/p/Secrets.toml", "a/b/server.PEM", "x.key",
                 "C:\\work\\.env", "./.env"):  # fmt: skip
        assert p.is_disabled(path), path
    for path in ("proj/a.py", "envs/a.py", "keys/a.py", "a.keys", "", None):
        assert not p.is_disabled(path), path
    assert PrivacyPolicy(disabled_globs=("vendor/**",)).is_disabled("vendor/a/b.py")
    assert not PrivacyPolicy(disabled_globs=()).is_disabled(".env")


def test_config_table() -> None:
    cfg = parse_config({"models": MODELS, "privacy": {"collect": "all", "retention_days": 30}})
    assert cfg.privacy.collect == "all" and cfg.privacy.retention_days == 30.0
    assert "**/.env*" in cfg.privacy.disabled_globs
    for bad, field in (({"collect": "some"}, "privacy.collect"), ({"retention_days": 0}, "retention_days"),
                       ({"disabled_globs": "*.env"}, "disabled_globs"), ({"keep": 1}, "unknown keys")):  # fmt: skip
        with pytest.raises(ConfigError, match=field):
            parse_config({"models": MODELS, "privacy": bad})


def test_disabled_paths_get_no_edit_and_leave_counters_only(serve) -> None:  # noqa: ANN001
    srv, db = serve()
    url = srv.url
    d = httpx.post(url + "/predict_edits/v3", json=v3(SECRET_PATH, collect=True)).json()
    assert d["output"] == "" and d["editable_range"] == {"start": 0, "end": 0}
    for fmt in FORMATS:
        for ask in (ask_openai, ask_ollama):
            assert pad(zed_new_region(fmt, ask(url, fmt, SECRET_PATH))) == pad(EDITABLE), (fmt, ask.__name__)
            # the same prompt for an ordinary path gets the edit (the gate, not the model, said no)
            assert pad(zed_new_region(fmt, ask(url, fmt))) == pad(EDITABLE.replace("qty", "quantity"))
    assert httpx.post(url + "/predict_edits/v3", json=v3(collect=True)).json()["output"]  # the model edits
    for path in (SECRET_PATH, PATH):
        r = httpx.post(
            url + "/v1/chat/completions", json={"messages": [{"role": "user", "content": teacher(path)}]}
        )
        assert r.status_code == 200, r.text
        assert ("NO_EDITS" in r.json()["choices"][0]["message"]["content"]) == (path == SECRET_PATH)
    rows = flushed(srv).app.state.service.store.fetch()
    private = [r for r in rows if r["prompt"] is None and r["input_json"] is None and r["output"] is None]
    assert len(private) == 2 + 4 * len(FORMATS) + 1  # raw and chat prompts for ordinary paths: not collected
    assert scan(db, ".env.local") == []
    assert sorted(scan(db, "restock")) == ["requests.input_json", "requests.output"]  # the consenting v3 one


def test_no_code_stored_without_consent(serve) -> None:  # noqa: ANN001
    srv, db = serve()
    url = srv.url
    d = httpx.post(url + "/predict_edits/v3", json=v3()).json()
    for fmt in FORMATS:
        ask_openai(url, fmt)
        ask_ollama(url, fmt)
    flushed(srv)
    settled = {"request_id": d["request_id"], "settled_editable_region": "def restock(item, quantity): SETTLED",
               "sample_data": {"uncommitted_diff": "restock diff"}, "unknown_field": "restock"}  # fmt: skip
    assert httpx.post(url + "/predict_edits/settled", json={"predictions": [settled]}).status_code == 200
    assert httpx.post(url + "/predict_edits/accept", json={"request_id": d["request_id"]}).status_code == 200
    flushed(srv)
    for needle in ("restock", "qty", "quantity", "SETTLED", "stock.py"):
        assert scan(db, needle) == [], needle
    assert len(srv.app.state.service.store.fetch()) == 1 + 2 * len(FORMATS)  # the counters are there


def test_collect_none_and_all(serve, start_server, tmp_path: Path) -> None:  # noqa: ANN001
    srv, db = serve({"collect": "none"})
    httpx.post(srv.url + "/predict_edits/v3", json=v3(collect=True))
    flushed(srv)
    assert scan(db, "restock") == []
    db2 = tmp_path / "all.db"
    srv2 = start_server(
        {"models": MODELS, "server": {"store": f"sqlite:///{db2}"}, "privacy": {"collect": "all"}}
    )
    ask_openai(srv2.url, "zeta2")
    flushed(srv2)
    assert "requests.prompt" in scan(db2, "restock")  # an operator collecting from its own team
    rep = {"request_id": "r", "settled_editable_region": "restock SETTLED", "note": "kept"}
    assert httpx.post(srv2.url + "/predict_edits/settled", json={"predictions": [rep]}).status_code == 200
    flushed(srv2)
    assert scan(db2, "SETTLED") == ["outcome_events.settled_region"]  # without can_collect_data
    assert scan(db2, "kept") == ["outcome_events.extra"]


def test_purge(serve) -> None:  # noqa: ANN001
    from nextedit.cli import app

    srv, db = serve()
    a = httpx.post(srv.url + "/predict_edits/v3", json=v3()).json()
    httpx.post(srv.url + "/predict_edits/v3", json=v3())
    httpx.post(srv.url + "/predict_edits/accept", json={"request_id": a["request_id"]})
    flushed(srv)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "UPDATE requests SET created_at = created_at - 40 * 86400 WHERE id = ?", (a["request_id"],)
        )
        conn.execute("UPDATE outcome_events SET created_at = created_at - 40 * 86400")
    conn.close()
    r = CliRunner().invoke(app, ["telemetry", "purge", "--store", f"sqlite:///{db}", "--older-than", "30"])
    assert r.exit_code == 0, r.output
    assert "deleted 1 requests and 1 outcome events" in r.output
    assert len(srv.app.state.service.store.fetch()) == 1
    r = CliRunner().invoke(app, ["telemetry", "purge", "--store", f"sqlite:///{db}", "--older-than", "0"])
    assert r.exit_code == 2 and "--older-than" in r.output
    r = CliRunner().invoke(
        app, ["telemetry", "purge", "--store", f"sqlite:///{db}.missing", "--older-than", "1"]
    )
    assert r.exit_code == 2 and "no such file" in r.output
