"""Outcomes inferred for stock Zed (raw-prompt APIs), which sends no accept/reject/settled reports.

A client's successive raw prompts for the same file tell what happened to each prediction, with
Zed's own rules (§3.13). The client key is the request's (a keyed hash of the bearer token or the
remote address, never the raw value) plus the cursor path; what is tracked lives in memory only.

* **accepted** — a later prompt's edit history holds an event rendered after ``// User accepted
  prediction:`` whose added lines contain every line the prediction added. One event accepts one
  prediction: the newest pending one it matches (the one Zed was showing; older predictions of the
  same edit had been replaced); an event is credited once while it stays in the history.
* **settled** — the region (found in later prompts between the context lines that surrounded it)
  did not change for :data:`QUIESCENCE_S` seconds: an event with kept rate / recall
  (:func:`nextedit.metrics.kept_rate.compute_kept_rate`, base = region before, candidate =
  prediction, reference = the settled region). Dropped after :data:`TTL_S` or when the region
  grows past :data:`MAX_REGION_BYTES`.
* **not accepted** — a prediction settled or expired without an accept: a ``reject`` event with
  reason ``NotAccepted``.

Quiescence is judged when the client's next prompt arrives (there is no timer): the rules are
evaluated at the arrival times of prompts. Events carry ``source = "inferred"``; the settled
region is kept only where the privacy policy lets the server store code.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nextedit.metrics.kept_rate import compute_kept_rate

log = logging.getLogger("nextedit.server.inferred")

QUIESCENCE_S = 10.0  # EDIT_PREDICTION_SETTLED_QUIESCENCE
TTL_S = 300.0  # EDIT_PREDICTION_SETTLED_TTL
MAX_REGION_BYTES = 4096  # EDIT_PREDICTION_SETTLED_MAX_EDITABLE_REGION_BYTES
ANCHOR_LINES = 2  # context lines on each side used to find the region again
MAX_PENDING_PER_KEY = 8
MAX_KEYS = 10000  # (client, path) pairs tracked at once; the oldest is forgotten beyond it


@dataclass
class Pending:
    request_id: str
    model_version: str | None
    before: str  # the region when predicted
    predicted: str  # the region with the prediction applied
    prefix: str  # the context lines just before the region
    suffix: str  # ... and just after it
    enqueued_at: float
    last_edit_at: float
    region: str  # the region as last seen
    accepted: bool = False


def _anchors(context: str, start: int, end: int) -> tuple[str, str]:
    """The :data:`ANCHOR_LINES` whole lines before byte ``start`` and after byte ``end``."""
    data = context.encode("utf-8")
    before = data[:start].decode("utf-8", "replace").split("\n")
    after = data[end:].decode("utf-8", "replace").split("\n")
    return "\n".join(before[-(ANCHOR_LINES + 1) :]), "\n".join(after[: ANCHOR_LINES + 1])


def locate(context: str, prefix: str, suffix: str) -> str | None:
    """The text between ``prefix`` and the next ``suffix`` in ``context`` (prefix found once). An
    empty ``prefix`` / ``suffix`` (the region began / ended the visible context, as in a file small
    enough to be editable whole) anchors at the context's start / end."""
    if prefix and context.count(prefix) != 1:
        return None
    start = context.index(prefix) + len(prefix) if prefix else 0
    end = context.find(suffix, start) if suffix else len(context)
    return None if end < 0 else context[start:end]


def _added_lines(old: str, new: str) -> set[str]:
    from nextedit.text.diff import unified_diff

    diff = unified_diff(old, new, "x", headers=False)
    return {ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and ln[1:].strip()}


def _event_accepts(ev: Any, p: Pending) -> bool:
    """True when the accepted-prediction event ``ev`` adds every line ``p`` added."""
    want = _added_lines(p.before, p.predicted)
    added = {ln[1:].strip() for ln in ev.diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")}
    return bool(want) and want <= added


class OutcomeInference:
    """The tracker (module doc). ``emit(row, outcome)`` receives each ``outcome_events`` row
    (``source = "inferred"``); ``may_store_code`` says whether the settled region may be kept;
    ``clock`` is seconds (tests pass their own)."""

    def __init__(
        self,
        emit: Callable[[dict[str, Any], str | None], None],
        *,
        may_store_code: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._emit, self._may_store, self.clock = emit, may_store_code, clock
        self._pending: dict[tuple[str, str], list[Pending]] = {}
        self._credited: dict[tuple[str, str], set[str]] = {}  # accepted-event diffs already counted
        self._lock = threading.Lock()

    def observe(
        self,
        client_id: str,
        prompt: str,
        *,
        request_id: str,
        model_version: str | None,
        completion: str | None,
    ) -> None:
        """One raw prompt and the completion answered for it (None: no answer). Never raises."""
        try:
            self._observe(client_id, prompt, request_id, model_version, completion)
        except Exception:  # noqa: BLE001 - inference must never fail a request
            log.exception("outcome inference failed for request %s", request_id)

    def pending(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._pending.values())

    def _observe(self, client_id: str, prompt: str, request_id: str, model_version: str | None,
                 completion: str | None) -> None:  # fmt: skip
        from nextedit.prompts import get_format
        from nextedit.server.predictor import detect_format

        name = detect_format(prompt)
        if name is None:
            return
        fmt = get_format(name)
        try:
            parts = fmt.parse_prompt(prompt)
        except ValueError:
            return
        now = self.clock()
        key = (client_id, parts.cursor_path)
        with self._lock:
            self._advance(now)
            pend = self._pending.get(key, [])
            accepted_events = [ev for ev in parts.events if getattr(ev, "predicted", False)]
            # an event is credited once while it stays in the history
            credited = self._credited.pop(key, set()) & {ev.diff for ev in accepted_events}
            for ev in accepted_events:
                if ev.diff in credited:
                    continue
                for p in reversed(pend):  # the newest match is the prediction that was shown
                    if not p.accepted and _event_accepts(ev, p):
                        p.accepted = True
                        credited.add(ev.diff)
                        self._event("accept", p, now)
                        break
            if credited:
                if len(self._credited) >= MAX_KEYS:
                    del self._credited[next(iter(self._credited))]  # the oldest
                self._credited[key] = credited
            for p in pend:
                region = locate(parts.context, p.prefix, p.suffix)
                if region is not None and region != p.region:
                    p.region, p.last_edit_at = region, now
            if completion is None:
                return
            request = parts.to_request()
            parsed = fmt.parse_output(request, completion)
            if not parsed.ok or parsed.is_no_edit(request):
                return
            r = parsed.range_in_excerpt
            before = request.excerpt_bytes()[r.start : r.end].decode("utf-8", "replace")
            prefix, suffix = _anchors(request.cursor_excerpt, r.start, r.end)
            if key not in self._pending and len(self._pending) >= MAX_KEYS:
                del self._pending[next(iter(self._pending))]  # dicts keep insertion order: the oldest
            pend = self._pending.setdefault(key, [])
            pend.append(Pending(request_id, model_version, before, parsed.new_editable_region, prefix, suffix,
                                now, now, before))  # fmt: skip
            del pend[:-MAX_PENDING_PER_KEY]

    def _advance(self, now: float) -> None:
        """Settle or expire what the rules say has settled or expired by ``now``."""
        for key in list(self._pending):
            keep = []
            for p in self._pending[key]:
                if now - p.enqueued_at >= TTL_S or len(p.region.encode()) > MAX_REGION_BYTES:
                    if not p.accepted:
                        self._event("reject", p, now, reason="NotAccepted")
                elif now - p.last_edit_at >= QUIESCENCE_S:
                    kr = compute_kept_rate(p.before, p.predicted, p.region)
                    if not p.accepted:
                        self._event("reject", p, now, reason="NotAccepted")
                    self._event("settled", p, now, settled_region=p.region if self._may_store() else None,
                                **kr.to_edit_bytes())  # fmt: skip
                else:
                    keep.append(p)
            if keep:
                self._pending[key] = keep
            else:
                del self._pending[key]

    def _event(self, kind: str, p: Pending, now: float, **fields: Any) -> None:
        row = {"request_id": p.request_id, "created_at": now, "kind": kind, "model_version": p.model_version,
               "source": "inferred", "was_shown": True if kind == "accept" else None, **fields}  # fmt: skip
        outcome = {"accept": "accepted", "reject": "rejected:NotAccepted"}.get(kind)
        self._emit(row, outcome)
