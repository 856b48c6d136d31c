"""``nextedit bench serve``: simulated typists replaying editing sessions against a server.

Each typist is one client (``x-client-id``) that replays sessions built from examples: starting
from the example's request, it types the first line its expected patch adds, one character per
keystroke at a jittered 80–200 ms cadence. Requests follow Zed's client rules (§1.8): at most one
request per 300 ms per buffer (throttle), at most 2 in flight (the newest pending one is
replaced); the server supersedes older requests of the same client (reported as ``Canceled``).
Outcomes are reported like Zed: accept (30 % of shown edits), batched rejects (Canceled, Empty,
Replaced/Discarded) and settled reports.

With ``--api openai`` (stock Zed's raw prompts, which carry no reports) a typist behaves as a user
the server can only observe through later prompts: it accepts 30 % of the predictions shown for
its current buffer (the prediction replaces the region and the next prompt's edit history holds it
under ``// User accepted prediction:``, as Zed sends it), then leaves the file. It keeps the ground
truth of every prediction it received (:class:`Truth`: accepted or not, the region when it left the
file, its kept rate by :func:`nextedit.metrics.kept_rate.compute_kept_rate`), and
:func:`inferred_vs_truth` scores the server's inferred outcomes (``outcome_events.source =
"inferred"``, server/inferred.py) against it: precision / recall of inferred accepts, mean absolute
error of the inferred kept rate.

Figures (:meth:`BenchResult.summary`): request count, p50/p95/p99 latency of successful requests (client-side round trip, ms),
throughput, errors by status, cancellations, share of requests with an edit, and load shed by
the server (429 with ``Retry-After``: counted apart from errors, with how fast it came back and
the ``Retry-After`` seconds it asked for).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

from nextedit.errors import NexteditError
from nextedit.metrics.report import percentile
from nextedit.paths import examples_dir

_ZSTD = zstandard.ZstdCompressor(level=3)
THROTTLE_S = 0.3
MAX_IN_FLIGHT = 2
ACCEPT_SHARE = 0.3  # of the predictions shown for the current buffer
REVISIT_AFTER_S = 12.0  # openai typists leave a file alone this long (> the server's 10 s quiescence)
SETTLE_WAIT_S = 11.0  # after the load: past the quiescence, then one prompt lets the server settle


class BenchServeError(NexteditError):
    """The benchmark cannot run: no usable sessions, or a spawned server that did not come up."""


# ---------------------------------------------------------------------- sessions
@dataclass
class Session:
    """A starting request (``to_zed_json`` dict) and the text the typist will type at the cursor."""

    name: str
    request: dict[str, Any]
    typing: str


def _typing_text(patch: str) -> str:
    for line in patch.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            text = line[1:].replace("<|user_cursor|>", "").strip()
            if text:
                return text[:48]
    return "value = compute(x)"


def load_sessions(paths: list[str] | None) -> list[Session]:
    """Sessions from examples (.md/.jsonl/dirs); default: ``./examples`` (:func:`nextedit.paths.examples_dir`)."""
    from nextedit.context.example_request import example_request
    from nextedit.io.inputs import read_examples

    paths = paths or [str(examples_dir())]
    sessions = []
    for ex in read_examples(paths):
        try:
            req = example_request(ex)
        except Exception:  # noqa: BLE001 - skip examples that cannot become requests
            continue
        patch = ex.expected_patches[0] if ex.expected_patches else ""
        sessions.append(Session(ex.name or ex.cursor_path, req.to_zed_json(), _typing_text(patch)))
    if not sessions:
        raise BenchServeError(f"no usable sessions in {', '.join(paths)}")
    return sessions


def _keystroke_request(base: dict[str, Any], typed: str) -> dict[str, Any]:
    """``base`` with ``typed`` inserted at the cursor, the cursor after it, ranges recomputed and an
    edit event for the current line."""
    from nextedit.context.excerpt_ranges import compute_legacy_excerpt_ranges

    excerpt = base["cursor_excerpt"].encode()
    cursor = base["cursor_offset_in_excerpt"]
    t = typed.encode()
    new_excerpt = excerpt[:cursor] + t + excerpt[cursor:]
    new_cursor = cursor + len(t)
    line_start = excerpt.rfind(b"\n", 0, cursor) + 1
    line_end = excerpt.find(b"\n", cursor)
    line_end = len(excerpt) if line_end < 0 else line_end
    old_line = excerpt[line_start:line_end].decode()
    new_line = (excerpt[line_start:cursor] + t + excerpt[cursor:line_end]).decode()
    row = (base.get("excerpt_start_row") or 0) + excerpt[:line_start].count(b"\n") + 1
    event = {
        "event": "BufferChange",
        "path": base["cursor_path"],
        "old_path": base["cursor_path"],
        "diff": f"@@ -{row},1 +{row},1 @@\n-{old_line}\n+{new_line}\n",
        "old_range": {"start": cursor, "end": cursor},
        "new_range": {"start": cursor, "end": new_cursor},
        "predicted": False,
        "in_open_source_repo": True,
    }
    req = dict(base)
    req["cursor_excerpt"] = new_excerpt.decode()
    req["cursor_offset_in_excerpt"] = new_cursor
    req["events"] = [*base.get("events", [])[-9:], event]
    req["excerpt_ranges"] = compute_legacy_excerpt_ranges(new_excerpt, new_cursor, None).to_zed_json()
    req["can_collect_data"] = False
    return req


# ---------------------------------------------------------------------- ground truth (openai api)
@dataclass
class Visit:
    """One pass of a typist over a session's file: the excerpt as it is now (bytes) and the edits
    made to it so far, as ``(start, end, new_length)`` byte replacements in order."""

    session: Session
    excerpt: bytes
    edits: list[tuple[int, int, int]] = field(default_factory=list)
    accepted: bool = False

    def replace(self, start: int, end: int, new: bytes) -> None:
        self.excerpt = self.excerpt[:start] + new + self.excerpt[end:]
        self.edits.append((start, end, len(new)))


def _map_range(start: int, end: int, edits: list[tuple[int, int, int]]) -> tuple[int, int]:
    """A byte range carried through ``edits`` like an editor's anchors: text inserted at either
    boundary joins the range; a replacement overlapping a boundary moves it to the new text's edge."""
    for a, b, n in edits:
        delta = n - (b - a)
        start = start + delta if start >= b and start > a else (a if a < start < b else start)
        end = end + delta if end >= b else (a + n if a < end < b else end)
    return start, end


@dataclass
class Truth:
    """What a typist knows of one prediction it received with an edit: the server's request id, the
    region before and as predicted, where the region was (bytes of the excerpt after ``version``
    edits of ``visit``) and whether the typist accepted it."""

    request_id: str
    before: str
    predicted: str
    start: int
    end: int
    visit: Visit
    version: int
    accepted: bool = False

    def final_region(self) -> str:
        """The region as the typist left it (the visit's current excerpt)."""
        s, e = _map_range(self.start, self.end, self.visit.edits[self.version :])
        return self.visit.excerpt[s:e].decode("utf-8", "replace")

    def kept_rate(self) -> float:
        from nextedit.metrics.kept_rate import compute_kept_rate

        return compute_kept_rate(self.before, self.predicted, self.final_region()).kept_rate


def _accepted_request(req: dict[str, Any], t: Truth) -> dict[str, Any]:
    """``req`` (the buffer the prediction was made for) with the prediction applied, the cursor at
    the end of what it changed and the edit recorded as Zed records an accepted prediction."""
    from nextedit.context.excerpt_ranges import compute_legacy_excerpt_ranges
    from nextedit.text.diff import unified_diff

    excerpt = req["cursor_excerpt"].encode()
    new = t.predicted.encode()
    old = excerpt[t.start : t.end]
    common = 0
    while common < min(len(old), len(new)) and old[-1 - common] == new[-1 - common]:
        common += 1
    new_excerpt = excerpt[: t.start] + new + excerpt[t.end :]
    cursor = t.start + len(new) - common
    while 0 < cursor < len(new_excerpt) and (new_excerpt[cursor] & 0xC0) == 0x80:
        cursor -= 1  # never inside a UTF-8 sequence
    row = (req.get("excerpt_start_row") or 0) + excerpt[: t.start].count(b"\n")
    path = req["cursor_path"]
    event = {
        "event": "BufferChange",
        "path": path,
        "old_path": path,
        "diff": unified_diff(
            t.before, t.predicted, path, headers=False, old_start_row=row, new_start_row=row
        ),
        "old_range": {"start": t.start, "end": t.end},
        "new_range": {"start": t.start, "end": t.start + len(new)},
        "predicted": True,
        "in_open_source_repo": True,
    }
    out = dict(req)
    out["cursor_excerpt"] = new_excerpt.decode()
    out["cursor_offset_in_excerpt"] = cursor
    out["events"] = [*req.get("events", [])[-9:], event]
    out["excerpt_ranges"] = compute_legacy_excerpt_ranges(new_excerpt, cursor, None).to_zed_json()
    return out


#: the summary fields :func:`inferred_vs_truth` adds, in display order
INFERRED_FIELDS = ("inferred_predictions", "inferred_true_accepts", "inferred_accepts", "inferred_accept_precision",
                   "inferred_accept_recall", "inferred_settled", "inferred_kept_rate_mae", "inferred_kept_rate_mean",
                   "truth_kept_rate_mean")  # fmt: skip


def inferred_vs_truth(truths: list[Truth], events: list[dict[str, Any]]) -> dict[str, Any]:
    """Score inferred outcome events (``request_id``, ``kind``, ``edit_bytes_kept_rate``) against
    the typists' truths: ``inferred_accept_precision`` = inferred accepts truly accepted / inferred
    accepts, ``inferred_accept_recall`` = true accepts inferred / true accepts (None when the
    denominator is 0), ``inferred_kept_rate_mae`` = mean |inferred − true kept rate| over the
    predictions the server settled (kept rates in [0, 1]). Events of other requests are ignored."""
    by_id = {t.request_id: t for t in truths}
    inferred_accepts = {e["request_id"] for e in events if e["kind"] == "accept" and e["request_id"] in by_id}
    settled = {e["request_id"]: e["edit_bytes_kept_rate"] for e in events
               if e["kind"] == "settled" and e["request_id"] in by_id and e["edit_bytes_kept_rate"] is not None}  # fmt: skip
    true_accepts = {t.request_id for t in truths if t.accepted}
    hits = len(inferred_accepts & true_accepts)
    errors = [abs(k - by_id[rid].kept_rate()) for rid, k in settled.items()]

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    return {
        "inferred_predictions": len(truths),
        "inferred_true_accepts": len(true_accepts),
        "inferred_accepts": len(inferred_accepts),
        "inferred_accept_precision": ratio(hits, len(inferred_accepts)),
        "inferred_accept_recall": ratio(hits, len(true_accepts)),
        "inferred_settled": len(settled),
        "inferred_kept_rate_mae": round(statistics.fmean(errors), 3) if errors else None,
        "inferred_kept_rate_mean": round(statistics.fmean(settled.values()), 3) if settled else None,
        "truth_kept_rate_mean": round(statistics.fmean(by_id[r].kept_rate() for r in settled), 3)
        if settled
        else None,
    }


def read_inferred_events(db: Path) -> list[dict[str, Any]]:
    """The ``source = "inferred"`` rows of a SQLite telemetry store (read-only)."""
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT request_id, kind, edit_bytes_kept_rate FROM outcome_events WHERE source = 'inferred'"
        ).fetchall()
    finally:
        con.close()
    return [{"request_id": r, "kind": k, "edit_bytes_kept_rate": kr} for r, k, kr in rows]


#: what an openai-api prompt was built from: the request, its visit and the visit's edit count then
Origin = tuple[dict[str, Any], Visit, int]


# ---------------------------------------------------------------------- results
@dataclass
class BenchResult:
    latencies_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)  # Server-Timing total (server-side)
    sent: int = 0
    ok: int = 0
    with_edit: int = 0
    canceled_server: int = 0  # 409 superseded by the server
    canceled_client: int = 0  # replaced while pending (client side)
    errors: Counter = field(default_factory=Counter)
    shed_ms: list[float] = field(default_factory=list)  # 429 answers: client-side round trip
    retry_after_s: Counter = field(default_factory=Counter)  # Retry-After of the 429s ("none": absent)
    outcome_posts: Counter = field(default_factory=Counter)
    outcome_errors: int = 0
    keystrokes: int = 0
    duration_s: float = 0.0
    truths: list[Truth] = field(default_factory=list)  # openai api: every prediction received with an edit

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        srv = sorted(self.server_ms)

        def pct(p: float, xs: list[float] = lat) -> float | None:
            v = percentile(xs, p)
            return None if v is None else round(v, 1)

        return {
            "requests": self.sent,
            "ok": self.ok,
            "keystrokes": self.keystrokes,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "p99_ms": pct(99),
            "mean_ms": round(statistics.fmean(lat), 1) if lat else None,
            "server_p50_ms": pct(50, srv),
            "server_p95_ms": pct(95, srv),
            "server_p99_ms": pct(99, srv),
            "throughput_rps": round(self.ok / self.duration_s, 1) if self.duration_s else 0.0,
            "errors": sum(self.errors.values()),
            "errors_by_status": dict(self.errors),
            "shed_429": len(self.shed_ms),
            "shed_p50_ms": pct(50, sorted(self.shed_ms)),
            "shed_p99_ms": pct(99, sorted(self.shed_ms)),
            "shed_retry_after_s": dict(self.retry_after_s),
            "cancellations": self.canceled_server + self.canceled_client,
            "canceled_by_server": self.canceled_server,
            "canceled_by_client": self.canceled_client,
            "edit_share": round(self.with_edit / self.ok, 3) if self.ok else 0.0,
            "outcome_posts": dict(self.outcome_posts),
            "outcome_errors": self.outcome_errors,
            "duration_s": round(self.duration_s, 1),
        }


# ---------------------------------------------------------------------- typist
class Typist:
    def __init__(self, idx: int, client: Any, base_url: str, sessions: list[Session], res: BenchResult,
                 api: str, headers: dict[str, str], rng: random.Random) -> None:  # fmt: skip
        self.idx = idx
        self.client = client
        self.url = base_url
        self.sessions = sessions
        self.res = res
        self.api = api
        self.headers = {**headers, "x-client-id": f"typist-{idx}"}
        self.rng = rng
        self.in_flight: list[asyncio.Task] = []
        self.rejections: list[dict[str, Any]] = []
        self.settled: list[dict[str, Any]] = []
        self.last_sent = 0.0
        # openai api: the ground truth of each prediction received, the file being edited and the
        # prediction shown for its current buffer (not yet accepted or typed past)
        self.truths: list[Truth] = []
        self.visit: Visit | None = None
        self.shown: Truth | None = None
        self.left_at: dict[str, float] = {}  # cursor path -> when the typist last left it (monotonic s)

    async def _request(self, body: dict[str, Any], origin: Origin | None = None) -> None:
        """Send one prediction request; ``origin`` (openai api): the buffer the prompt was built
        from, so that an answer with an edit becomes a :class:`Truth`."""
        self.res.sent += 1
        t0 = time.perf_counter()
        try:
            if self.api == "openai":
                r = await self.client.post(self.url + "/v1/completions", json=body, headers=self.headers)
            else:  # like Zed: JSON compressed with zstd level 3
                data = _ZSTD.compress(json.dumps(body).encode())
                headers = {**self.headers, "Content-Type": "application/json", "Content-Encoding": "zstd"}
                r = await self.client.post(self.url + "/predict_edits/v3", content=data, headers=headers)
        except asyncio.CancelledError:
            self.res.canceled_client += 1
            raise
        except Exception as e:  # noqa: BLE001
            self.res.errors[type(e).__name__] += 1
            return
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code == 409:
            self.res.canceled_server += 1
            return
        if r.status_code == 429:  # shed by admission control or a full queue: not an error
            self.res.shed_ms.append(ms)
            self.res.retry_after_s[r.headers.get("retry-after", "none")] += 1
            return
        if r.status_code != 200:
            self.res.errors[str(r.status_code)] += 1
            return
        self.res.ok += 1
        self.res.latencies_ms.append(ms)
        for part in r.headers.get("server-timing", "").split(","):
            name, _, dur = part.strip().partition(";dur=")
            if name == "total" and dur:
                self.res.server_ms.append(float(dur))
        d = r.json()
        if self.api == "openai":
            if origin is not None:
                self._observe_completion(d, *origin)
            return
        rid, mv = d["request_id"], d.get("model_version")
        if d["output"] == "" and d["editable_range"] == {"start": 0, "end": 0}:
            self.rejections.append(
                {"request_id": rid, "reason": "Empty", "was_shown": False, "model_version": mv}
            )
            return
        self.res.with_edit += 1
        if self.rng.random() < 0.3:
            await self._post("accept", {"request_id": rid, "model_version": mv, "e2e_latency_ms": round(ms)})
            kept = round(self.rng.random(), 3)
            self.settled.append({"request_id": rid, "can_collect_data": False, "is_in_open_source_repo": True,
                                 "edit_bytes_kept_rate": kept, "edit_bytes_recall_rate": 1.0,
                                 "model_version": mv, "e2e_latency": round(ms)})  # fmt: skip
        else:
            reason = self.rng.choice(["Replaced", "Discarded", "Rejected"])
            self.rejections.append(
                {"request_id": rid, "reason": reason, "was_shown": True, "model_version": mv}
            )

    def _observe_completion(self, d: dict[str, Any], req: dict[str, Any], visit: Visit, version: int) -> None:
        """Parse a raw completion as Zed would; an edit becomes a :class:`Truth`, shown when the
        buffer has not changed since the prompt was built."""
        from nextedit.prompts import get_format
        from nextedit.prompts.registry import DEFAULT_FORMAT
        from nextedit.schema.request import Zeta2PromptInput

        fmt = get_format(DEFAULT_FORMAT)
        request = Zeta2PromptInput.from_json(req)
        choices = d.get("choices") or [{}]
        parsed = fmt.parse_output(request, choices[0].get("text") or "")
        if not getattr(parsed, "ok", False) or parsed.is_no_edit(request):
            return
        self.res.with_edit += 1
        r = parsed.range_in_excerpt
        before = request.excerpt_bytes()[r.start : r.end].decode("utf-8", "replace")
        t = Truth(d["id"].removeprefix("cmpl-"), before, parsed.new_editable_region, r.start, r.end, visit,
                  version)  # fmt: skip
        self.truths.append(t)
        if visit is self.visit and not visit.accepted and version == len(visit.edits):
            self.shown = t

    def _accept_shown(self) -> bool:
        """Maybe accept the prediction shown for the current buffer (each is decided once); an
        accepted one is applied and sent in the next prompt's edit history."""
        t, self.shown = self.shown, None
        visit = self.visit
        if t is None or visit is None or t.visit is not visit or t.version != len(visit.edits):
            return False
        if self.rng.random() >= ACCEPT_SHARE:
            return False
        t.accepted = visit.accepted = True
        req = _accepted_request(_keystroke_request(visit.session.request, visit.session.typing[: len(visit.edits)]),
                                t)  # fmt: skip
        visit.replace(t.start, t.end, t.predicted.encode())
        self._send(self._body(req), (req, visit, len(visit.edits)))
        return True

    async def _post(self, kind: str, body: dict[str, Any]) -> None:
        try:
            r = await self.client.post(f"{self.url}/predict_edits/{kind}", json=body, headers=self.headers)
            self.res.outcome_posts[kind] += 1
            if r.status_code != 200:
                self.res.outcome_errors += 1
        except Exception:  # noqa: BLE001
            self.res.outcome_errors += 1

    async def flush_outcomes(self, force: bool = False) -> None:
        if self.rejections and (force or len(self.rejections) >= 50):
            batch, self.rejections = self.rejections[:100], self.rejections[100:]
            await self._post("reject", {"rejections": batch})
        if self.settled and (force or len(self.settled) >= 8):
            batch, self.settled = self.settled[:32], self.settled[32:]
            await self._post("settled", {"predictions": batch})

    def _send(self, body: dict[str, Any], origin: Origin | None = None) -> None:
        self.in_flight = [t for t in self.in_flight if not t.done()]
        if len(self.in_flight) >= MAX_IN_FLIGHT:  # replace the newest pending one
            newest = self.in_flight.pop()
            newest.cancel()
        self.in_flight.append(asyncio.create_task(self._request(body, origin)))
        self.last_sent = time.monotonic()

    def _body(self, req: dict[str, Any]) -> dict[str, Any]:
        if self.api != "openai":
            return req
        from nextedit.prompts import get_format
        from nextedit.prompts.registry import DEFAULT_FORMAT
        from nextedit.schema.request import Zeta2PromptInput

        fmt = get_format(DEFAULT_FORMAT)
        fp = fmt.format_prompt(Zeta2PromptInput.from_json(req))
        return {
            "model": "nextedit",
            "prompt": fp.text if fp else "",
            "max_tokens": 256,
            "stop": list(fmt.stop_tokens),
        }

    async def run(self, until: float) -> None:
        s_idx = self.idx
        pending: asyncio.Task | None = None
        last_flush = time.monotonic()
        while time.monotonic() < until:
            session = self.sessions[s_idx % len(self.sessions)]
            s_idx += 1
            if self.api == "openai" and not await self._may_visit(session, until):
                continue
            visit = self.visit = Visit(session, session.request["cursor_excerpt"].encode())
            self.shown = None
            cursor = session.request["cursor_offset_in_excerpt"]
            for n in range(1, len(session.typing) + 1):
                if time.monotonic() >= until:
                    break
                await asyncio.sleep(self.rng.uniform(0.08, 0.2))
                if self.api == "openai" and self._accept_shown():
                    break  # accepted: the typist leaves the file as the prediction made it
                self.res.keystrokes += 1
                char = session.typing[n - 1].encode()
                visit.replace(cursor, cursor, char)
                cursor += len(char)
                wait = self.last_sent + THROTTLE_S - time.monotonic()
                if pending is not None and not pending.done():
                    pending.cancel()  # a newer keystroke replaces the throttled refresh
                pending = asyncio.create_task(
                    self._throttled(session.request, session.typing[:n], max(0.0, wait), visit)
                )
                if time.monotonic() - last_flush > 5:
                    await self.flush_outcomes(force=True)
                    last_flush = time.monotonic()
            self.left_at[session.request["cursor_path"]] = time.monotonic()
            await asyncio.sleep(self.rng.uniform(0.5, 1.5))  # between sessions
        if pending is not None and not pending.done():
            pending.cancel()
        if self.in_flight:
            await asyncio.gather(*self.in_flight, return_exceptions=True)
        await self.flush_outcomes(force=True)

    async def _may_visit(self, session: Session, until: float) -> bool:
        """openai api: a file left less than :data:`REVISIT_AFTER_S` ago is skipped (the server
        must see its region settle before the replay starts it over); waits when all are recent."""
        left = self.left_at.get(session.request["cursor_path"])
        if left is None or time.monotonic() - left >= REVISIT_AFTER_S:
            return True
        paths = {s.request["cursor_path"] for s in self.sessions}
        if all(time.monotonic() - self.left_at.get(p, -1e9) < REVISIT_AFTER_S for p in paths):
            await asyncio.sleep(max(0.05, min(1.0, until - time.monotonic())))
        return False

    async def _throttled(self, base: dict[str, Any], typed: str, wait: float, visit: Visit) -> None:
        if wait > 0:
            await asyncio.sleep(wait)
        req = _keystroke_request(base, typed)  # built only when sent, like Zed
        self._send(self._body(req), (req, visit, len(visit.edits)) if self.api == "openai" else None)


async def run_bench(url: str, *, typists: int, duration: float, sessions: list[Session], api: str = "v3",
                    api_key: str | None = None, seed: int = 0, settle: bool = False) -> BenchResult:  # fmt: skip
    """``typists`` typists for ``duration`` seconds against ``url``. ``settle`` (openai api): then
    wait :data:`SETTLE_WAIT_S` and send one more prompt (client ``bench-settle``), so that the
    server's inference settles what the typists left (it judges quiescence when a prompt arrives)."""
    import httpx

    res = BenchResult()
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    # one small connection pool per typist (like one editor each): httpx pools scale badly when shared
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT + 2, max_keepalive_connections=MAX_IN_FLIGHT + 2)
    clients = [httpx.AsyncClient(timeout=30, limits=limits) for _ in range(typists)]
    try:
        try:
            r = await clients[0].get(url + "/healthz", headers=headers)
            r.raise_for_status()
        except httpx.HTTPError as e:
            raise BenchServeError(f"{url}/healthz: {e or type(e).__name__}") from None
        t0 = time.monotonic()
        until = t0 + duration
        rng = random.Random(seed)
        ts = [
            Typist(i, clients[i], url, sessions, res, api, headers, random.Random(rng.random()))
            for i in range(typists)
        ]
        await asyncio.gather(*(t.run(until) for t in ts))
        res.duration_s = time.monotonic() - t0
        res.truths = [truth for t in ts for truth in t.truths]
        if settle and api == "openai":
            await asyncio.sleep(SETTLE_WAIT_S)
            body = Typist(typists, clients[0], url, sessions, res, api, headers, rng)._body(
                sessions[0].request
            )
            with contextlib.suppress(httpx.HTTPError):  # not counted in the figures
                await clients[0].post(url + "/v1/completions", json=body,
                                      headers={**headers, "x-client-id": "bench-settle"})  # fmt: skip
    finally:
        for c in clients:
            await c.aclose()
    return res


# ---------------------------------------------------------------------- spawning a server
SPAWN_READY_S = 120.0  # a spawned server loads its model before /healthz answers


def spawn_server(provider: str, config: str | None) -> tuple[subprocess.Popen, str, Path]:
    """``nextedit serve`` on a free port in a child process; returns (process, url, log directory).
    ``provider`` ``default`` = the embedded default config (:func:`nextedit.server.config.default_config`).
    Raises :class:`BenchServeError` (naming the server log) if it exits or is not healthy in time."""
    import socket
    import tempfile

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = Path(tempfile.mkdtemp(prefix="nextedit-bench-"))
    cmd = [sys.executable, "-m", "nextedit", "serve", "--port", str(port), "--log-level", "warning"]
    if config:
        cmd += ["--config", config]
    else:
        cmd += ([] if provider == "default" else ["--provider", provider]) + [
            "--store",
            f"sqlite:///{tmp / 'telemetry.db'}",
        ]
    log_path = tmp / "server.log"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(log_path, "w"),  # noqa: SIM115
                            env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SPAWN_READY_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            last = (log_path.read_text().strip().splitlines() or ["(no output)"])[-1]
            raise BenchServeError(f"spawned server exited ({proc.returncode}): {last} (log: {log_path})")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url, tmp
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise BenchServeError(f"spawned server did not become healthy in {SPAWN_READY_S:.0f} s (log: {log_path})")


def bench_serve(*, url: str | None, provider: str = "heuristic", config: str | None = None, typists: int = 20,
                duration: float = 30.0, sessions: list[str] | None = None, api: str = "v3",
                api_key: str | None = None, seed: int = 0, settle: bool = True,
                log: Callable[[str], None] = lambda _msg: None) -> dict[str, Any]:  # fmt: skip
    """Run the benchmark against ``url``, or (``url`` None) a server spawned with ``provider`` /
    ``config`` and stopped afterwards; return :meth:`BenchResult.summary` plus the run's settings.
    With ``api`` openai and a spawned server that keeps its own store (no ``config``), the summary
    also scores the server's inferred outcomes against the typists' truth (:func:`inferred_vs_truth`;
    ``settle``: wait for the last regions to settle first). ``log`` receives progress lines (the
    spawned server's address and log directory)."""
    ss = load_sessions(sessions)
    proc = tmp = None
    if url is None:
        proc, url, tmp = spawn_server(provider, config)
        log(f"spawned server at {url} (provider {config or provider}); logs in {tmp}")
    scored = api == "openai" and proc is not None and not config
    try:
        res = asyncio.run(
            run_bench(
                url,
                typists=typists,
                duration=duration,
                sessions=ss,
                api=api,
                api_key=api_key,
                seed=seed,
                settle=settle and scored,
            )  # fmt: skip
        )
    finally:
        if proc is not None:
            proc.terminate()  # a clean stop: the store writes what it queued
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    out = {**res.summary(), "typists": typists, "api": api, "sessions": len(ss), "url": url}
    if scored and tmp is not None:
        db = tmp / "telemetry.db"
        out.update(inferred_vs_truth(res.truths, read_inferred_events(db) if db.exists() else []))
    return out
