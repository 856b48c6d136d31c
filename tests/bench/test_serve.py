"""`nextedit bench serve` machinery against an in-process server (short run, few typists)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from nextedit.bench.serve import _keystroke_request, load_sessions, run_bench
from nextedit.server.app import create_app
from nextedit.server.config import parse_config
from nextedit.server.launch import ServerThread

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_sessions_and_keystrokes() -> None:
    sessions = load_sessions([str(EXAMPLES)])
    assert len(sessions) >= 3 and all(s.typing for s in sessions)
    s = sessions[0]
    req = _keystroke_request(s.request, s.typing[:3])
    cursor = req["cursor_offset_in_excerpt"]
    assert (
        req["cursor_excerpt"].encode()[cursor - len(s.typing[:3].encode()) : cursor].decode() == s.typing[:3]
    )
    assert req["events"][-1]["diff"].startswith("@@ ") and req["excerpt_ranges"]["editable_350"]


def test_short_bench_run(tmp_path) -> None:  # noqa: ANN001
    cfg = parse_config(
        {"models": {"h": {"provider": "heuristic"}}, "server": {"store": f"sqlite:///{tmp_path / 't.db'}"}}
    )
    with ServerThread(create_app(cfg)) as srv:
        res = asyncio.run(
            run_bench(srv.url, typists=3, duration=2.0, sessions=load_sessions([str(EXAMPLES)]))
        )
        store = srv.app.state.service.store
        store.flush()
        rows = store.fetch()
        events = store.fetch("outcome_events")
    s = res.summary()
    assert s["errors"] == 0 and s["ok"] > 5 and s["p95_ms"] is not None and s["server_p95_ms"] is not None
    assert s["requests"] == s["ok"] + s["cancellations"]
    assert len(rows) >= s["ok"]  # every answered request left a row (client-dropped ones may too)
    assert sum(s["outcome_posts"].values()) >= 1 and events
