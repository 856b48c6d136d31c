"""Outcomes inferred from stock Zed's successive raw prompts (zeta2 format, Zed's layout), on a
scripted clock: accept, ignore, partial keep, edit elsewhere; and through a real server."""

from __future__ import annotations

import httpx
import pytest

from nextedit.metrics.kept_rate import compute_kept_rate
from nextedit.prompts import get_format
from nextedit.server.inferred import OutcomeInference
from tests.server.test_zed_clients import AFTER, BEFORE, CURSOR, DIFF, EDITABLE, PATH, insert

RENAMED = EDITABLE.replace("qty", "quantity")
ACCEPTED = (
    f"// User accepted prediction:\n--- a/{PATH}\n+++ b/{PATH}\n@@ -4,3 +4,3 @@\n-    if qty <= 0:\n"
    "+    if quantity <= 0:\n         raise ValueError('bad')\n-    item.count += qty\n+    item.count += quantity\n"
)


def prompt(editable: str = EDITABLE, history: str = "", path: str = PATH) -> str:
    """A zeta2 prompt as Zed writes it (see tests/server/test_zed_clients.py)."""
    body = insert(editable, CURSOR, "<|user_cursor|>")
    hist = f"<filename>edit_history\n--- a/{path}\n+++ b/{path}\n{DIFF}{history}"
    return (
        f"<[fim-suffix]>{AFTER}\n<[fim-prefix]>{hist}\n"
        f"<filename>{path}\n{BEFORE}<<<<<<< CURRENT\n{body}=======\n<[fim-middle]>"
    )


def completion(new_region: str) -> str:
    return get_format("zeta2").encode_output(EDITABLE, new_region, None)


class Clock:
    t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def tracker():  # noqa: ANN201
    events: list[tuple[dict, str | None]] = []
    clock = Clock()
    inf = OutcomeInference(lambda row, o: events.append((row, o)), clock=clock)

    def at(dt: float, p: str, rid: str, out: str | None = None) -> None:
        clock.t = 1000.0 + dt
        inf.observe("client-1", p, request_id=rid, model_version="v1", completion=out)

    return inf, at, events


def kinds(events: list) -> list[tuple[str, str, str | None]]:
    return [(r["request_id"], r["kind"], r.get("reason")) for r, _ in events]


def test_accept_then_settled(tracker) -> None:  # noqa: ANN001
    inf, at, events = tracker
    at(0, prompt(), "r1", completion(RENAMED))
    at(2, prompt(RENAMED, ACCEPTED), "r2")
    assert kinds(events) == [("r1", "accept", None)] and events[0][1] == "accepted"
    assert events[0][0]["source"] == "inferred"
    at(15, prompt(RENAMED, ACCEPTED), "r3")  # 13 s without a change to the region
    (settled,) = [r for r, _ in events if r["kind"] == "settled"]
    assert settled["edit_bytes_kept_rate"] == 1.0 and settled["edit_bytes_recall_rate"] == 1.0
    assert settled["settled_region"] is None  # no code kept: the policy did not allow it
    assert inf.pending() == 0


def test_ignored_prediction_is_not_accepted(tracker) -> None:  # noqa: ANN001
    _, at, events = tracker
    at(0, prompt(), "r1", completion(RENAMED))
    at(12, prompt(), "r2")
    assert kinds(events) == [("r1", "reject", "NotAccepted"), ("r1", "settled", None)]
    assert events[1][0]["edit_bytes_kept_rate"] == 0.0


def test_partial_keep(tracker) -> None:  # noqa: ANN001
    _, at, events = tracker
    at(0, prompt(), "r1", completion(RENAMED))
    partial = EDITABLE.replace("if qty", "if quantity")  # the user typed one of the two renames
    at(3, prompt(partial), "r2")
    at(5, prompt(partial), "r3")
    assert kinds(events) == []  # not settled yet: the region changed 2 s ago
    at(14, prompt(partial), "r4")
    (settled,) = [r for r, _ in events if r["kind"] == "settled"]
    want = compute_kept_rate(EDITABLE, RENAMED, partial)
    assert 0 < want.kept_rate < 1 and settled["edit_bytes_kept_rate"] == pytest.approx(want.kept_rate)
    assert ("r1", "reject", "NotAccepted") in kinds(events)


def test_edit_elsewhere(tracker) -> None:  # noqa: ANN001
    inf, at, events = tracker
    at(0, prompt(), "r1", completion(RENAMED))
    at(30, prompt(path="inventory/other.py"), "r2")  # the user went to another file
    assert kinds(events) == [("r1", "reject", "NotAccepted"), ("r1", "settled", None)]
    assert inf.pending() == 0


def test_ttl(tracker) -> None:  # noqa: ANN001
    _, at, events = tracker
    at(0, prompt(), "r1", completion(RENAMED))
    for i in range(1, 40):
        at(i * 8, prompt(EDITABLE + f"# {i}\n"), f"r{i + 1}")  # the region keeps changing
    assert kinds(events) == [("r1", "reject", "NotAccepted")]


def test_through_a_real_server(start_server) -> None:  # noqa: ANN001
    srv = start_server({"models": {"heuristic": {"provider": "heuristic", "workers": 1}}})
    clock = Clock()
    srv.app.state.service.inference.clock = clock
    ask = lambda p: httpx.post(srv.url + "/v1/completions", json={"prompt": p, "max_tokens": 256}).json()  # noqa: E731
    first = ask(prompt())
    rid = first["id"].removeprefix("cmpl-")
    clock.t += 2
    ask(prompt(RENAMED, ACCEPTED))
    clock.t += 20
    ask(prompt(RENAMED, ACCEPTED))
    store = srv.app.state.service.store
    assert store.flush()
    rows = store.fetch("outcome_events", request_id=rid)
    assert sorted(r["kind"] for r in rows) == ["accept", "settled"]
    assert all(r["source"] == "inferred" for r in rows)
    assert [r["outcome"] for r in store.fetch(id=rid)] == ["accepted"]
