"""`nextedit pull`: examples from a real server's telemetry store (real HTTP, real SQLite)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.schema.example import Example
from nextedit.text.patch import apply_patch
from tests.server.fakes import todo_backend

os.environ.setdefault("NEXTEDIT_CONFIG_DIR", tempfile.mkdtemp(prefix="nextedit-test-config-"))

EXCERPT = "def f(x):\n    # TODO: handle None\n    return x\n"


def _body(collect: bool, path: str = "proj/a.py") -> dict:
    return {
        "cursor_path": path, "cursor_excerpt": EXCERPT, "cursor_offset_in_excerpt": 10,
        "excerpt_start_row": 4, "events": [], "related_files": [], "excerpt_ranges": {},
        "in_open_source_repo": True, "can_collect_data": collect,
    }  # fmt: skip


@pytest.fixture
def store(tmp_path: Path):  # noqa: ANN201
    """A store filled by a real server: settled, accepted and rejected predictions, with and
    without the client's consent."""
    from nextedit.server.app import create_app
    from nextedit.server.config import parse_config
    from nextedit.server.launch import ServerThread

    url = f"sqlite:///{tmp_path / 'telemetry.db'}"
    cfg = parse_config(
        {"server": {"store": url}, "models": {"todo": {"provider": "test", "version": "todo-v1"}}}
    )
    srv = ServerThread(create_app(cfg, providers={"todo": todo_backend()})).start()
    try:
        post = lambda path, body: httpx.post(srv.url + path, json=body)  # noqa: E731
        ids = {k: post("/predict_edits/v3", _body(collect=k != "private")).json() for k in
               ("settled", "accepted", "rejected", "private")}  # fmt: skip
        assert srv.app.state.service.store.flush()
        out = ids["settled"]["output"]
        kept = out.replace("DONE", "DONE: None is fine")
        reports = [
            {"request_id": ids["settled"]["request_id"], "settled_editable_region": kept, "can_collect_data": True},
            {"request_id": ids["rejected"]["request_id"], "settled_editable_region": out.replace("DONE", "FIXED"),
             "can_collect_data": True},
            {"request_id": ids["private"]["request_id"], "settled_editable_region": kept, "can_collect_data": True},
        ]  # fmt: skip
        assert post("/predict_edits/settled", {"predictions": reports}).status_code == 200
        assert post("/predict_edits/accept", {"request_id": ids["accepted"]["request_id"]}).status_code == 200
        rej = [{"request_id": ids[k]["request_id"], "reason": "Rejected", "was_shown": True}
               for k in ("rejected", "private")]  # fmt: skip
        assert post("/predict_edits/reject", {"rejections": rej}).status_code == 200
        assert srv.app.state.service.store.flush()
    finally:
        srv.stop()
    return url, {k: v["request_id"] for k, v in ids.items()}


def _pull(url: str, kind: str, out: Path, *extra: str) -> list[Example]:
    r = CliRunner().invoke(app, ["pull", url, "--kind", kind, "-o", str(out), *extra])
    assert r.exit_code == 0, r.output
    return [Example.from_json(line) for line in out.read_text().splitlines()]


def _after(ex: Example, patch: str) -> str:
    return apply_patch(EXCERPT, patch, start_row=4)


def test_pull_settled_accepted_rejected(store, tmp_path: Path) -> None:  # noqa: ANN001
    url, ids = store
    pulled = {ex.telemetry["request_id"]: ex for ex in _pull(url, "settled", tmp_path / "settled.jsonl")}
    assert set(pulled) == {ids["settled"], ids["rejected"]}  # the private request is not exported
    settled = pulled[ids["settled"]]
    assert settled.telemetry["request_id"] == ids["settled"] and "settled" in settled.tags
    assert settled.telemetry["server_kept_rate"] is not None
    assert _after(settled, settled.expected_patches[0]) == EXCERPT.replace("TODO", "DONE: None is fine")
    assert _after(settled, settled.rejected_patch) == EXCERPT.replace("TODO", "DONE")
    assert settled.expected_patches[0].startswith("--- a/proj/a.py\n+++ b/proj/a.py\n@@ -5,")
    assert settled.cursor_path == "proj/a.py" and "<|user_cursor|>" in settled.cursor_position

    (accepted,) = _pull(url, "accepted", tmp_path / "accepted.jsonl")
    assert _after(accepted, accepted.expected_patches[0]) == EXCERPT.replace("TODO", "DONE")

    (rejected,) = _pull(url, "rejected", tmp_path / "rejected.jsonl")
    assert rejected.telemetry["request_id"] == ids["rejected"]
    assert "rejection:Rejected" in rejected.tags and rejected.prompt.rejected_output
    assert _after(rejected, rejected.rejected_patch) == EXCERPT.replace("TODO", "DONE")
    assert _after(rejected, rejected.expected_patches[0]) == EXCERPT.replace("TODO", "FIXED")

    assert _pull(url, "settled", tmp_path / "late.jsonl", "--since", "2999-01-01T00:00:00") == []
    assert _pull(url, "captured", tmp_path / "captured.jsonl") == []


def test_pull_output_round_trips_through_format_prompt(store, tmp_path: Path) -> None:  # noqa: ANN001
    url, _ = store
    pulled = tmp_path / "settled.jsonl"
    _pull(url, "settled", pulled)
    loaded, prompts = tmp_path / "loaded.jsonl", tmp_path / "prompts.jsonl"
    r = CliRunner().invoke(
        app, ["load-project", str(pulled), "-o", str(loaded), "--repos-dir", str(tmp_path)]
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["format-prompt", str(loaded), "-o", str(prompts)])
    assert r.exit_code == 0, r.output
    ex = [json.loads(line) for line in prompts.read_text().splitlines()][0]
    assert "handle None" in ex["prompt"]["input"] and "None is fine" in ex["prompt"]["expected_output"]
    assert ex["prompt"]["rejected_output"]
    Example.model_validate(ex)


def test_pull_refuses_bad_kind_and_since(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["pull", "sqlite:///x.db", "--kind", "nope", "-o", str(tmp_path / "o.jsonl")])
    assert r.exit_code == 2 and "--kind" in r.output
    r = CliRunner().invoke(app, ["pull", "sqlite:///x.db", "--kind", "settled", "--since", "soon",
                                 "-o", str(tmp_path / "o.jsonl")])  # fmt: skip
    assert r.exit_code == 2 and "--since" in r.output
    missing = tmp_path / "missing.db"
    r = CliRunner().invoke(
        app, ["pull", f"sqlite:///{missing}", "--kind", "settled", "-o", str(tmp_path / "o.jsonl")]
    )
    assert r.exit_code == 2 and "no such file" in r.output and not missing.exists()
    (tmp_path / "other.db").write_bytes(b"")
    r = CliRunner().invoke(
        app,
        ["pull", f"sqlite:///{tmp_path / 'other.db'}", "--kind", "settled", "-o", str(tmp_path / "o.jsonl")],
    )
    assert r.exit_code == 2 and "not a telemetry store" in r.output
