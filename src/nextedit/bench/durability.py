"""``nextedit bench durability``: is what the server acknowledged still in the store after a crash?

One round: a ``nextedit serve --provider heuristic`` child process with a fresh telemetry store,
``threads`` client threads that each loop *predict → one outcome report* (accept, reject or settled,
in turn) plus a reject batch of ``reject_batch`` rows for other ids, for ``load_s`` seconds; then the
server is killed (``kill -9``, or SIGTERM for a graceful round) while the load still runs, and the
store is read back. Figures per round:

* ``events_acked`` / ``events_lost``: outcome rows whose report was answered 2xx, and those of them
  missing from ``outcome_events`` (the contract: 0).
* ``predictions_acked`` / ``predictions_lost``: answered predictions and their missing ``requests``
  rows (written after the answer, so a kill may lose the last few); ``loss_window_ms``: how long
  before the kill the oldest lost prediction was answered (the contract: ≤ ~100 ms).
* ``report_p50_ms`` / ``report_p95_ms`` (the reporting endpoints, seen by the client) and
  ``predict_p50_ms``.

``pythonpath`` runs the server from another source tree (e.g. an older checkout) to compare.
Not a test: it takes seconds per round and its figures depend on the machine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

READY_S = 60.0

PREDICT_BODY = {
    "cursor_path": "proj/a.py",
    "cursor_excerpt": "def f(x):\n    # TODO: handle None\n    return x\n",
    "cursor_offset_in_excerpt": 10,
    "excerpt_start_row": 0,
    "events": [],
    "related_files": [],
    "excerpt_ranges": {},
    "in_open_source_repo": False,
    "can_collect_data": False,
}


class DurabilityBenchError(RuntimeError):
    """The benchmark cannot run (the server did not come up, the store cannot be created)."""


@dataclass
class _Tally:
    """What the clients saw acknowledged; appended to by all threads (list.append is atomic)."""

    events: list[tuple[str, str]] = field(default_factory=list)  # (request_id, kind)
    predictions: list[tuple[str, float]] = field(default_factory=list)  # (request_id, monotonic ack time)
    report_ms: list[float] = field(default_factory=list)
    predict_ms: list[float] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_postgres_db(base_url: str) -> str:
    """A new, empty database next to ``base_url``'s (one per round); returns its URL."""
    import sqlalchemy as sa

    base = base_url.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"nextedit_durability_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{base.rpartition('/')[0]}/{name}"


def _spawn(store_url: str, workdir: Path, pythonpath: str | None) -> tuple[subprocess.Popen, str]:
    import httpx

    port = _free_port()
    cmd = [sys.executable, "-m", "nextedit", "serve", "--provider", "heuristic", "--port", str(port),
           "--store", store_url, "--log-level", "warning"]  # fmt: skip
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    log_path = workdir / "server.log"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(log_path, "w"), env=env)  # noqa: SIM115
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DurabilityBenchError(f"server exited ({proc.returncode}); log: {log_path}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise DurabilityBenchError(f"server not healthy after {READY_S:.0f} s; log: {log_path}")


def _client(url: str, tally: _Tally, stop: threading.Event, idx: int, reject_batch: int) -> None:
    import httpx

    kinds = ("accept", "reject", "settled")
    n = idx
    with httpx.Client(base_url=url, timeout=10) as c:
        while not stop.is_set():
            try:
                t0 = time.perf_counter()
                r = c.post("/predict_edits/v3", json=PREDICT_BODY, headers={"x-client-id": f"c{idx}"})
                if r.status_code != 200:
                    continue
                tally.predict_ms.append((time.perf_counter() - t0) * 1000)
                rid = r.json()["request_id"]
                tally.predictions.append((rid, time.monotonic()))
                kind = kinds[n % 3]
                n += 1
                if kind == "accept":
                    path, body, acked = "/predict_edits/accept", {"request_id": rid}, [(rid, "accept")]
                elif kind == "reject":
                    path, body = "/predict_edits/reject", {"rejections": [{"request_id": rid}]}
                    acked = [(rid, "reject")]
                else:
                    body = {
                        "predictions": [
                            {"request_id": rid, "edit_bytes_kept": 3, "edit_bytes_kept_rate": 0.5}
                        ]
                    }
                    path, acked = "/predict_edits/settled", [(rid, "settled")]
                for p, b, a in ((path, body, acked), _reject_batch(reject_batch)):
                    t0 = time.perf_counter()
                    if c.post(p, json=b).status_code == 200:
                        tally.report_ms.append((time.perf_counter() - t0) * 1000)
                        tally.events.extend(a)
            except (httpx.HTTPError, ValueError, KeyError):
                if stop.is_set():
                    return
                time.sleep(0.01)  # the server is gone or restarting: stop hammering


def _reject_batch(n: int) -> tuple[str, dict[str, Any], list[tuple[str, str]]]:
    ids = [uuid.uuid4().hex for _ in range(n)]
    body = {"rejections": [{"request_id": i, "reason": "Discarded"} for i in ids]}
    return "/predict_edits/reject", body, [(i, "reject") for i in ids]


def _stored(store_url: str) -> tuple[set[tuple[str, str]], set[str]]:
    import sqlalchemy as sa

    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            events = {
                (r[0], r[1]) for r in conn.execute(sa.text("SELECT request_id, kind FROM outcome_events"))
            }
            reqs = {r[0] for r in conn.execute(sa.text("SELECT id FROM requests"))}
    finally:
        engine.dispose()
    return events, reqs


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return round(s[min(len(s) - 1, int(q * len(s)))], 2)


def run_round(store_url: str, *, graceful: bool, threads: int, load_s: float, reject_batch: int,
              pythonpath: str | None, workdir: Path) -> dict[str, Any]:  # fmt: skip
    """One server under load, killed (``graceful``: SIGTERM, waited for) during the load; the figures."""
    proc, url = _spawn(store_url, workdir, pythonpath)
    tally, stop = _Tally(), threading.Event()
    clients = [
        threading.Thread(target=_client, args=(url, tally, stop, i, reject_batch), daemon=True)
        for i in range(threads)
    ]
    for t in clients:
        t.start()
    time.sleep(load_s)
    killed_at = time.monotonic()
    proc.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    stop.set()
    for t in clients:
        t.join(15)
    events, reqs = _stored(store_url)
    lost_events = [e for e in tally.events if e not in events]
    lost_preds = [(rid, t) for rid, t in tally.predictions if rid not in reqs]
    window = max(0.0, (killed_at - min(t for _, t in lost_preds)) * 1000) if lost_preds else 0.0
    return {
        "events_acked": len(tally.events),
        "events_lost": len(lost_events),
        "predictions_acked": len(tally.predictions),
        "predictions_lost": len(lost_preds),
        "loss_window_ms": round(window, 1),
        "report_p50_ms": _pct(tally.report_ms, 0.5),
        "report_p95_ms": _pct(tally.report_ms, 0.95),
        "predict_p50_ms": _pct(tally.predict_ms, 0.5),
    }


def bench_durability(*, postgres_url: str | None, kills: int = 3, threads: int = 8, load_s: float = 3.0,
                     reject_batch: int = 10, pythonpath: str | None = None,
                     log: Callable[[str], None] = lambda _m: None) -> list[dict[str, Any]]:  # fmt: skip
    """``kills`` kill -9 rounds and one SIGTERM round on SQLite, and on PostgreSQL when
    ``postgres_url`` is given (a fresh database per round); one figures dict per round."""
    rows: list[dict[str, Any]] = []
    backends = ["sqlite"] + (["postgresql"] if postgres_url else [])
    for backend in backends:
        for i in range(kills + 1):
            graceful = i == kills
            workdir = Path(tempfile.mkdtemp(prefix="nextedit-durability-"))
            url = (
                f"sqlite:///{workdir / 'telemetry.db'}"
                if backend == "sqlite"
                else fresh_postgres_db(postgres_url)
            )
            mode = "sigterm" if graceful else "kill -9"
            log(f"{backend} round {i + 1}/{kills + 1} ({mode}); server log in {workdir}")
            figures = run_round(url, graceful=graceful, threads=threads, load_s=load_s,
                                reject_batch=reject_batch, pythonpath=pythonpath, workdir=workdir)  # fmt: skip
            rows.append({"store": backend, "round": i + 1, "signal": mode, **figures})
    return rows
