"""``nextedit bench dashboard``: the dashboard's panel queries on a store of real volume.

:func:`fill_store` writes a synthetic SQLite telemetry store (the server's schema) with bulk
``executemany`` inserts, not through the HTTP API: ``requests`` rows from a realistic mix (two
model versions × two experiments, three APIs, five file extensions, ~3 % errors, 1 % cancels, 0.5 % 429s, log-normal
stage latencies) and outcome events (a shown prediction is accepted ~30 % of the time, an
accepted one settles later with a kept rate; a third of the settles are marked inferred). :func:`bench_dashboard` then times the one-time
rollup build, an incremental refresh and every panel's query, each the median of ``repeat``
runs, in milliseconds; ``first_render_ms`` is what the page's first load asks for (options,
timeseries, latency and recent requests, one after the other).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

MODEL_VERSIONS = ("nextedit-tiny@v1", "nextedit-tiny@v2")
EXPERIMENTS = ("control", "treatment")
APIS = ("v3", "openai", "ollama")
FILE_EXTS = ("rs", "py", "ts", "go", "md", None)  # None: a raw prompt that names no path
REJECT_REASONS = ("Rejected", "Discarded", "Canceled", "Empty", "InterpolatedEdit")


def fill_store(
    path: str | Path, n_requests: int, n_events: int, *, days: float = 14.0, end: float | None = None,
    seed: int = 0, users: int = 2000,
) -> dict[str, Any]:  # fmt: skip
    """Create the store at ``path`` (it must not exist) with ``n_requests`` request rows over the
    ``days`` before ``end`` and ``n_events`` outcome events; returns what was written (counts per
    kind, for tests that check the numbers shown)."""
    from sqlalchemy import insert

    from nextedit.server.telemetry.schema import metadata, outcome_events, requests
    from nextedit.server.telemetry.store import make_engine

    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path}: already exists; the bench fills a new store")
    end = time.time() if end is None else end
    rng = np.random.default_rng(seed)
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    t = np.sort(rng.uniform(end - days * 86400, end, n_requests))
    user = rng.integers(0, users, n_requests)
    arm = user % 2  # a user stays in one experiment, one model version per experiment
    api = rng.choice(len(APIS), n_requests, p=[0.6, 0.3, 0.1])
    ext = rng.choice(len(FILE_EXTS), n_requests, p=[0.35, 0.3, 0.2, 0.08, 0.05, 0.02])
    u = rng.random(n_requests)
    status = np.where(u < 0.02, "deadline_exceeded", np.where(u < 0.025, "overloaded",
             np.where(u < 0.035, "canceled", np.where(u < 0.04, "internal_error", "ok"))))  # fmt: skip
    http = np.select([status == "deadline_exceeded", status == "overloaded", status == "canceled",
                      status == "internal_error"], [504, 429, 499, 500], 200)  # fmt: skip
    stage = {s: rng.lognormal(mu, 0.5, n_requests) for s, mu in
             (("queue", 0.0), ("context", 1.0), ("prompt", 0.3), ("model", 3.6), ("parse", -0.7))}  # fmt: skip
    total = sum(stage.values())
    ptok = rng.integers(200, 2000, n_requests)
    ctok = rng.integers(5, 120, n_requests)
    drafted = ctok + rng.integers(0, 40, n_requests)
    collect = rng.random(n_requests) < 0.1
    ids = [f"r{i:08d}" for i in range(n_requests)]

    def request_row(i: int) -> dict[str, Any]:
        ok = status[i] == "ok"
        return {
            "id": ids[i], "created_at": float(t[i]), "client_id": f"c{user[i]:05d}",
            "model_version": MODEL_VERSIONS[arm[i]], "experiment": EXPERIMENTS[arm[i]], "api": APIS[api[i]],
            "file_ext": FILE_EXTS[ext[i]], "prompt_format": "zeta2", "status": str(status[i]), "http_status": int(http[i]),
            **{f"{s}_ms": float(v[i]) if ok else None for s, v in stage.items()},
            "total_ms": float(total[i]), "prompt_tokens": int(ptok[i]) if ok else None,
            "completion_tokens": int(ctok[i]) if ok else None,
            "spec_drafted": int(drafted[i]) if ok else None, "spec_accepted": int(ctok[i]) if ok else None,
            "no_edit": False, "can_collect_data": bool(collect[i]), "error": None if ok else str(status[i]),
            "outcome": None, "prompt": None, "input_json": None,
            "output": "fn main() {}" if collect[i] and ok else None,
        }  # fmt: skip

    # outcome events: one accept/reject for ~n_events/1.3 requests, then settles of accepted ones
    target = rng.choice(n_requests, size=min(int(n_events / 1.3), n_requests), replace=False)
    target.sort()
    kind = np.where(rng.random(len(target)) < np.where(arm[target] == 1, 0.33, 0.30), "accept", "reject")
    shown = (kind == "accept") | (rng.random(len(target)) < 0.7)
    kept = rng.beta(6, 2, len(target))
    settle_budget = max(n_events - len(target), 0)
    counts = {"accept": 0, "reject": 0, "settled": 0, "shown": int(shown.sum())}
    chunk = 50_000
    with engine.begin() as conn:  # in chunks: a million dicts at once would take gigabytes
        for lo in range(0, n_requests, chunk):
            conn.execute(insert(requests), [request_row(i) for i in range(lo, min(lo + chunk, n_requests))])
        for lo in range(0, len(target), chunk):
            events = []
            for j in range(lo, min(lo + chunk, len(target))):
                i, k = int(target[j]), str(kind[j])
                counts[k] += 1
                reason = REJECT_REASONS[j % 5] if k == "reject" else None
                events.append(
                    _event(ids[i], float(t[i]) + 2.0, k, reason, bool(shown[j]), MODEL_VERSIONS[arm[i]])
                )
                if k == "accept" and counts["settled"] < settle_budget:
                    counts["settled"] += 1
                    src = "inferred" if j % 3 == 0 else None  # a third inferred by the server
                    events.append(_event(ids[i], float(t[i]) + 60.0, "settled", None, True, MODEL_VERSIONS[arm[i]],
                                         kept=float(kept[j]), recall=float(kept[j]) * 0.9, source=src))  # fmt: skip
            conn.execute(insert(outcome_events), events)
    engine.dispose()
    return {"requests": n_requests, "events": counts["accept"] + counts["reject"] + counts["settled"], **counts,
            "errors": int(np.isin(status, ("deadline_exceeded", "overloaded", "internal_error")).sum())}  # fmt: skip


def _event(rid: str, t: float, kind: str, reason: str | None, shown: bool, mv: str,
           kept: float | None = None, recall: float | None = None, source: str | None = None) -> dict[str, Any]:  # fmt: skip
    from nextedit.server.telemetry.schema import outcome_events

    row = dict.fromkeys(c.name for c in outcome_events.columns if c.name != "id")
    row.update(request_id=rid, created_at=t, kind=kind, reason=reason, was_shown=shown, model_version=mv,
               can_collect_data=False, edit_bytes_kept_rate=kept, edit_bytes_recall_rate=recall, source=source)  # fmt: skip
    return row


def _median_ms(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench_dashboard(
    path: str | Path, *, n_requests: int = 1_000_000, n_events: int = 1_000_000, repeat: int = 3,
    with_ab: bool = True,
) -> list[dict[str, Any]]:  # fmt: skip
    """Fill ``path`` and time each panel (rows: ``{"panel", "ms", "target_ms"}``)."""
    from nextedit.monitoring import ab_rollup
    from nextedit.monitoring import dashboard as D
    from nextedit.monitoring import dashboard_rollup as R
    from nextedit.monitoring.dashboard_app import ab_panel
    from nextedit.monitoring.store_reader import open_store_readonly

    end = time.time()
    t0 = time.perf_counter()
    written = fill_store(path, n_requests, n_events, end=end)
    rows = [{"panel": f"fill ({n_requests:,} requests, {written['events']:,} events)",
             "ms": (time.perf_counter() - t0) * 1000, "target_ms": None}]  # fmt: skip
    url = f"sqlite:///{path}"
    engine = open_store_readonly(url)
    t0 = time.perf_counter()
    R.refresh(engine, now=end)
    rows.append({"panel": "rollup build (once per store)", "ms": (time.perf_counter() - t0) * 1000,
                 "target_ms": None})  # fmt: skip
    t0 = time.perf_counter()
    ab_rollup.refresh(engine, now=end)
    rows.append({"panel": "A/B rollup build (once per store)", "ms": (time.perf_counter() - t0) * 1000,
                 "target_ms": None})  # fmt: skip
    rows.append({"panel": "rollup refresh (per request)", "ms": _median_ms(lambda: R.refresh(engine), repeat),
                 "target_ms": 500})  # fmt: skip
    week = D.Filters(since=end - 7 * 86400, until=end + 1)
    span = D.Filters(since=end - 15 * 86400, until=end + 1, bucket="day", group="experiment")
    one = D.Filters(since=end - 7 * 86400, until=end + 1, model_version=MODEL_VERSIONS[1], api="v3",
                    file_ext="rs")  # fmt: skip
    panels = {
        "options": lambda: D.options(engine),
        "timeseries (7 d, hourly, by model)": lambda: D.timeseries(engine, week),
        "timeseries (15 d, daily, by experiment)": lambda: D.timeseries(engine, span),
        "timeseries (filtered)": lambda: D.timeseries(engine, one),
        "latency (7 d)": lambda: D.latency(engine, week),
        "latency (filtered)": lambda: D.latency(engine, one),
        "recent requests": lambda: D.recent(engine, week),
        "recent requests (filtered)": lambda: D.recent(engine, one),
    }
    if with_ab:
        panels["A/B report (7 d, computed)"] = lambda: ab_panel(url, engine, week, None, cache=False)
        panels["A/B report (7 d, cached)"] = lambda: ab_panel(url, engine, week, None)
    for name, fn in panels.items():
        rows.append({"panel": name, "ms": _median_ms(fn, repeat), "target_ms": 500})
    first = ("options", "timeseries (7 d, hourly, by model)", "latency (7 d)", "recent requests")
    rows.append({"panel": "first render (" + " + ".join(first[1:]) + ")",
                 "ms": sum(r["ms"] for r in rows if r["panel"] in first), "target_ms": 1000})  # fmt: skip
    engine.dispose()
    return rows
