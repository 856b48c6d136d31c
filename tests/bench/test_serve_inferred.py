"""`nextedit bench serve --api openai`: the typists' ground truth and the server's inferred outcomes
scored against it (a spawned server with its SQLite store, a few seconds of load)."""

from __future__ import annotations

from pathlib import Path

from nextedit.bench.serve import (
    INFERRED_FIELDS,
    Session,
    Truth,
    Visit,
    _accepted_request,
    _keystroke_request,
    _map_range,
    bench_serve,
    inferred_vs_truth,
    load_sessions,
)
from nextedit.prompts import get_format
from nextedit.prompts.history import ACCEPTED_PREDICTION_HEADER, diff_path
from nextedit.prompts.registry import DEFAULT_FORMAT
from nextedit.schema.request import Zeta2PromptInput

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_ranges_follow_edits_like_anchors() -> None:
    assert _map_range(4, 10, [(6, 6, 3)]) == (4, 13)  # typed inside
    assert _map_range(4, 10, [(4, 4, 1), (10, 10, 2)]) == (4, 13)  # at both boundaries: joins the range
    assert _map_range(4, 10, [(0, 2, 5)]) == (7, 13)  # before: shifted
    assert _map_range(4, 10, [(12, 14, 0)]) == (4, 10)  # after: untouched
    assert _map_range(4, 10, [(2, 6, 1)]) == (2, 7)  # a replacement over the start


def test_accepted_prediction_is_in_the_next_prompt_as_zed_sends_it() -> None:
    session = load_sessions([str(EXAMPLES)])[0]
    req = _keystroke_request(session.request, session.typing[:2])
    fmt = get_format(DEFAULT_FORMAT)
    request = Zeta2PromptInput.from_json(req)
    region = fmt.region(request).editable
    before = request.excerpt_bytes()[region.start : region.end].decode()
    visit = Visit(session, req["cursor_excerpt"].encode())
    predicted = before + ("" if before.endswith("\n") else "\n") + "accepted_line = 1\n"
    t = Truth("r1", before, predicted, region.start, region.end, visit, 0, accepted=True)
    after = _accepted_request(req, t)
    visit.replace(t.start, t.end, t.predicted.encode())
    assert t.final_region() == t.predicted and t.kept_rate() == 1.0
    prompt = fmt.format_prompt(Zeta2PromptInput.from_json(after)).prompt
    assert ACCEPTED_PREDICTION_HEADER + f"--- a/{diff_path(session.request['cursor_path'])}" in prompt
    parts = fmt.parse_prompt(prompt)
    assert parts.events[-1].predicted and "+accepted_line = 1" in parts.events[-1].diff


def test_scoring() -> None:
    visit = Visit(Session("s", {}, "x"), b"abc\n")
    truths = [Truth(f"r{i}", "abc\n", "abX\n", 0, 4, visit, 0, accepted=i < 2) for i in range(4)]
    events = [
        {"request_id": "r0", "kind": "accept", "edit_bytes_kept_rate": None},
        {"request_id": "r2", "kind": "accept", "edit_bytes_kept_rate": None},
        {"request_id": "r3", "kind": "settled", "edit_bytes_kept_rate": 0.25},
        {"request_id": "other", "kind": "accept", "edit_bytes_kept_rate": None},
    ]
    s = inferred_vs_truth(truths, events)
    assert s["inferred_accepts"] == 2 and s["inferred_true_accepts"] == 2
    assert s["inferred_accept_precision"] == 0.5 and s["inferred_accept_recall"] == 0.5
    assert s["inferred_settled"] == 1 and s["inferred_kept_rate_mae"] == 0.25  # the region stayed "abc\n"
    assert inferred_vs_truth([], [])["inferred_accept_precision"] is None


def test_short_openai_run_scores_inferred_outcomes() -> None:
    s = bench_serve(url=None, provider="heuristic", typists=4, duration=4.0, api="openai", settle=False)
    assert s["errors"] == 0 and s["ok"] > 5
    assert all(k in s for k in INFERRED_FIELDS)
    assert s["inferred_predictions"] >= s["inferred_true_accepts"] >= 1
    assert s["inferred_accepts"] >= 1  # the server saw at least one accept in a later prompt
    assert 0.0 <= s["inferred_accept_precision"] <= 1.0 and 0.0 <= s["inferred_accept_recall"] <= 1.0


def test_inference_follows_a_whole_file_region_to_its_settled_state() -> None:
    """The example files are small: the editable region is the whole visible context (no anchor
    lines around it); an accepted prediction still settles with the prediction kept. The accepted
    event credits the newest matching prediction only, once."""
    from nextedit.server.inferred import OutcomeInference

    session = load_sessions([str(EXAMPLES)])[1]
    fmt = get_format(DEFAULT_FORMAT)
    req = _keystroke_request(session.request, session.typing[:2])
    request = Zeta2PromptInput.from_json(req)
    region = fmt.region(request).editable
    assert (region.start, region.end) == (0, len(request.excerpt_bytes()))  # the whole excerpt
    before = request.excerpt_bytes()[region.start : region.end].decode()
    predicted = before.replace(session.typing[:2], session.typing, 1)
    t = Truth("r1", before, predicted, region.start, region.end, Visit(session, b""), 0, accepted=True)
    clock, events = [1000.0], []
    inf = OutcomeInference(lambda row, _o: events.append(row), clock=lambda: clock[0])

    def send(r: dict, rid: str, completion: str | None = None) -> None:
        prompt = fmt.format_prompt(Zeta2PromptInput.from_json(r)).prompt
        inf.observe("typist", prompt, request_id=rid, model_version=None, completion=completion)

    send(req, "r0", fmt.encode_output(before, predicted, None))  # the same edit predicted twice
    send(req, "r1", fmt.encode_output(before, predicted, None))
    clock[0] += 1
    send(_accepted_request(req, t), "r2")
    send(_accepted_request(req, t), "r2b")  # the accepted event is still in the history
    clock[0] += 12
    send(session.request, "r3")  # another prompt (here: the file reopened) after the quiescence
    got = {(e["request_id"], e["kind"]): e for e in events}
    assert [e["request_id"] for e in events if e["kind"] == "accept"] == ["r1"]  # one event, one accept
    assert got[("r1", "settled")]["edit_bytes_kept_rate"] == 1.0
