"""The Neovim client (editors/nvim) against a real server, driven in headless Neovim."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from nextedit.context.excerpt_ranges import resolve_cursor_region
from nextedit.metrics.kept_rate import compute_kept_rate
from nextedit.schema.request import Zeta2PromptInput
from tests.editors.conftest import Editor, ScriptedServer, wait_for

SOURCE = "def total(qty, price):\n    cost = qty * price\n    return qty + cost\n"
RENAMED = "def total(quantity, price):\n    cost = quantity * price\n    return quantity + cost\n"


def predicted_text(ed: Editor) -> str | None:
    """The buffer with the shown prediction applied (None when nothing is shown)."""
    p = ed.status().get("prediction")
    if not p or not p["shown"]:
        return None
    data = ed.text().encode()
    out, pos = b"", 0
    for e in p["edits"]:
        out += data[pos : e["s"]] + e["text"].encode()
        pos = e["e"]
    return (out + data[pos:]).decode()


def type_rename(ed: Editor) -> None:
    """Rename the first ``qty`` (line 1) to ``quantity`` in insert mode, as typed keys."""
    ed.nvim.current.window.cursor = (1, 10)
    ed.nvim.input("ciwquantity")
    wait_for(lambda: ed.lines()[0] == "def total(quantity, price):", "the typed rename")


def test_rename_is_predicted_shown_accepted_and_settles(editor: Editor, heuristic_server) -> None:  # noqa: ANN001
    url, telemetry = heuristic_server
    opts = {"url": url, "can_collect_data": True, "reject_debounce_ms": 100}
    editor.setup(**opts, settled_quiescence_ms=600_000)  # nothing settles before the accept ...
    editor.open("calc.py", SOURCE)
    type_rename(editor)
    wait_for(lambda: predicted_text(editor) == RENAMED, "the rename prediction to be shown")

    # the edits are extmarks where the other occurrences are: "q|uanti|ty" inline insertions
    inline = sorted(
        (row, col, d["virt_text"][0][0])
        for _, row, col, d in editor.extmarks()
        if d.get("virt_text_pos") == "inline"
    )
    assert inline == [(1, 12, "uanti"), (2, 12, "uanti")]
    shown_id = editor.status()["prediction"]["request_id"]

    editor.nvim.input("<Tab>")
    wait_for(lambda: editor.text() == RENAMED, "Tab to apply the prediction")
    assert editor.mode() == "i"
    assert editor.extmarks() == []
    assert tuple(editor.nvim.current.window.cursor) == (3, 17)  # end of the last predicted edit

    # telemetry: the request, its acceptance, then (after the quiescence) the settled kept rate
    accepted = wait_for(lambda: telemetry.events("accept", shown_id), "the accept report")
    assert accepted[0]["e2e_latency_ms"] > 0
    editor.setup(**opts, settled_quiescence_ms=300)  # ... then the quiescence is shortened by config
    settled = wait_for(lambda: telemetry.events("settled", shown_id), "the settled report")[0]
    row = wait_for(lambda: [r for r in telemetry.requests() if r["id"] == shown_id], "the request row")[0]
    assert row["api"] == "v3" and row["outcome"] == "accepted" and row["can_collect_data"]
    assert settled["settled_region"] is not None and "quantity * price" in settled["settled_region"]

    # the server's own figure: recompute §5.3 from what it stored (request, output, settled region)
    request = Zeta2PromptInput.from_json(row["input_json"])
    editable = resolve_cursor_region(request, "zeta2").editable
    before = request.slice_excerpt(editable.start, editable.end)
    expected = compute_kept_rate(before, row["output"], settled["settled_region"]).to_edit_bytes()
    assert {k: settled[k] for k in expected} == pytest.approx(expected)
    assert settled["edit_bytes_kept_rate"] == pytest.approx(1.0)

    # accepting was one undo step
    editor.nvim.input("<Esc>")
    wait_for(lambda: editor.mode() == "n", "normal mode")
    editor.nvim.command("undo")
    assert editor.text() == SOURCE.replace("qty,", "quantity,", 1)


def test_every_settled_report_matches_the_server_recomputation(editor: Editor, heuristic_server) -> None:  # noqa: ANN001
    """Shown, replaced and canceled predictions all settle; each kept rate equals the recomputation."""
    url, telemetry = heuristic_server
    editor.setup(url=url, can_collect_data=True, settled_quiescence_ms=300, reject_debounce_ms=100)
    editor.open("calc.py", SOURCE)
    type_rename(editor)
    wait_for(lambda: predicted_text(editor) == RENAMED, "the rename prediction")
    wait_for(
        lambda: editor.status()["pending_settled"] == 0 and editor.status()["sent"]["settled"] > 0, "settling"
    )
    rows = {r["id"]: r for r in telemetry.requests()}
    settled = wait_for(lambda: telemetry.events("settled"), "settled rows")
    for s in settled:
        request = Zeta2PromptInput.from_json(rows[s["request_id"]]["input_json"])
        editable = resolve_cursor_region(request, "zeta2").editable
        before = request.slice_excerpt(editable.start, editable.end)
        expected = compute_kept_rate(before, rows[s["request_id"]]["output"], s["settled_region"])
        assert {k: s[k] for k in expected.to_edit_bytes()} == pytest.approx(expected.to_edit_bytes())


def test_dismissed_prediction_is_rejected_as_shown(editor: Editor, heuristic_server) -> None:  # noqa: ANN001
    url, telemetry = heuristic_server
    editor.setup(url=url, reject_debounce_ms=100)
    editor.open("calc.py", SOURCE)
    type_rename(editor)
    wait_for(lambda: predicted_text(editor) == RENAMED, "the rename prediction")
    shown_id = editor.status()["prediction"]["request_id"]
    editor.nvim.input("<C-]>")
    wait_for(lambda: editor.status().get("prediction") is None, "the dismissal")
    assert editor.extmarks() == [] and editor.mode() == "i"
    reject = wait_for(lambda: telemetry.events("reject", shown_id), "the reject report")[0]
    assert reject["reason"] == "Discarded" and reject["was_shown"]
    assert editor.text() == SOURCE.replace("qty,", "quantity,", 1)


def test_edit_history_marks_accepted_edits_as_predicted(editor: Editor, heuristic_server) -> None:  # noqa: ANN001
    url, telemetry = heuristic_server
    editor.setup(url=url, can_collect_data=True)
    editor.open("calc.py", SOURCE)
    type_rename(editor)
    wait_for(lambda: predicted_text(editor) == RENAMED, "the rename prediction")
    first = json.loads([r for r in telemetry.requests() if r["input_json"]][0]["input_json"])
    assert first["cursor_path"] == "calc.py" and first["excerpt_start_row"] == 0
    assert first["events"][-1]["diff"].startswith("@@ -1,3 +1,3 @@\n-def total(qty, price):\n+def total(q")
    editor.nvim.input("<Tab>")
    wait_for(lambda: editor.text() == RENAMED, "the accept")
    editor.nvim.input("<Esc>ggOx = 1<Esc>")  # a new edit after the accepted one: a request follows

    def last_events() -> list[dict[str, Any]]:
        for r in reversed(telemetry.requests()):
            events = json.loads(r["input_json"] or "{}").get("events", [])
            if any(e["predicted"] for e in events):
                return events
        return []

    events = wait_for(last_events, "a request carrying the accepted edit")
    predicted = [e for e in events if e["predicted"]]
    assert "+    cost = quantity * price" in predicted[0]["diff"]
    assert not events[0]["predicted"] and events[0]["path"] == "calc.py"


def test_disabled_glob_sends_nothing(editor: Editor, heuristic_server) -> None:  # noqa: ANN001
    url, telemetry = heuristic_server
    editor.setup(url=url, can_collect_data=True, disabled_globs=["*.secret.py"])
    editor.open("keys.secret.py", SOURCE.replace("qty", "token_qty"))
    assert not editor.status()["tracked"]
    editor.nvim.current.window.cursor = (1, 10)
    editor.nvim.input("ciwSECRET_NAME<Esc>")
    wait_for(lambda: "SECRET_NAME" in editor.lines()[0], "the edit in the disabled file")
    assert editor.status()["counts"]["requests"] == 0

    editor.open("calc.py", SOURCE)  # an enabled file: its requests reach the server
    type_rename(editor)
    wait_for(lambda: predicted_text(editor) == RENAMED, "a prediction in the enabled file")
    rows = telemetry.requests()
    assert rows and all("secret" not in (r["input_json"] or "") for r in rows)
    assert all("SECRET_NAME" not in (r["input_json"] or "") for r in rows)


def test_typing_is_never_blocked_by_a_slow_server(editor: Editor) -> None:
    server = ScriptedServer(delay_s=0.2, hold_first=True)
    try:
        editor.setup(url=server.url)
        editor.open("notes.py", "\n")
        keys = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN"
        assert len(keys) == 50
        editor.nvim.input("i" + keys[0])
        wait_for(lambda: server.predictions(), "the first request (held by the server)")
        for ch in keys[1:]:
            editor.nvim.input(ch)
            time.sleep(0.02)  # typing pace, not a wait on the editor
        # all 50 keystrokes are applied, in order, while the first request is still unanswered
        wait_for(lambda: editor.lines()[0] == keys, "all 50 keystrokes in order")
        assert not server.release.is_set()
        wait_for(lambda: len(server.predictions()) >= 2, "requests sent while the first one is held")
        server.release.set()
        wait_for(lambda: editor.status()["counts"]["responses"] >= 2, "the answers after the release")
        assert editor.lines()[0] == keys
        # the throttle still sends the final text once typing stops (latest wins)
        wait_for(
            lambda: any(r["cursor_excerpt"].startswith(keys) for r in server.predictions()),
            "the final request",
        )
    finally:
        server.close()


def test_failed_reject_batch_is_sent_again(editor: Editor) -> None:
    server = ScriptedServer(failures={"/predict_edits/reject": 1})
    try:
        editor.setup(url=server.url, reject_debounce_ms=100)
        editor.open("notes.py", "\n")
        editor.nvim.input("ix")  # the answer is "no edit": an Empty rejection
        wait_for(lambda: len(server.posts["/predict_edits/reject"]) >= 2, "the retried reject batch")
        first, second = (b["rejections"] for b in server.posts["/predict_edits/reject"][:2])
        assert first[0]["reason"] == "Empty" and not first[0]["was_shown"]
        assert first[0]["request_id"] in [r["request_id"] for r in second]
        wait_for(lambda: editor.status()["queued_rejections"] == 0, "an empty queue")
    finally:
        server.close()


def test_accept_and_settled_reports_are_retried_after_a_503(editor: Editor) -> None:
    """A server that could not store a report answers 503; the plugin sends it again."""

    def append_y(body: dict[str, Any]) -> dict[str, Any]:
        n = len(body["cursor_excerpt"].encode())
        return {"output": body["cursor_excerpt"] + "y", "editable_range": {"start": 0, "end": n}}

    server = ScriptedServer(
        answer=append_y, failures={"/predict_edits/accept": 1, "/predict_edits/settled": 1}
    )
    try:
        editor.setup(url=server.url, settled_quiescence_ms=600_000)
        editor.open("notes.py", "\n")
        editor.nvim.input("ix")
        wait_for(lambda: predicted_text(editor) == "xy\n", "the prediction")
        editor.nvim.input("<Tab>")
        wait_for(lambda: editor.lines() == ["xy"], "the accept")
        accepts = wait_for(lambda: server.posts["/predict_edits/accept"][1:], "the retried accept")
        editor.setup(url=server.url, settled_quiescence_ms=200)  # settle only after the accept
        assert accepts[0]["request_id"] == server.posts["/predict_edits/accept"][0]["request_id"]
        settled = server.posts["/predict_edits/settled"]

        def resent() -> bool:
            later = [p for body in settled[1:] for p in body["predictions"]]
            return bool(settled) and all(p in later for p in settled[0]["predictions"])

        wait_for(resent, "the failed settled report sent again")
        assert settled[0]["predictions"][0]["request_id"] == accepts[0]["request_id"]
        assert settled[0]["predictions"][0]["edit_bytes_kept_rate"] == 1.0
    finally:
        server.close()


@pytest.mark.parametrize(
    ("base", "candidate", "reference"),
    [
        (
            "fn example() {\n    epr\n",
            'fn example() {\n    epr\neprintln!("");\n',
            'fn example() {\neprintln!("");\n',
        ),
        ("a=fomr\nb=old\n", "a=formula;\nb=old\n", "a=formula;\nb=new\n"),
        ("    foo(old_name)\n", "    foo(new_name)\n", "    foo(new_name)\n"),
        ("old", "old", "new"),
        (
            "let x = a >>>= b;\nmyHTTPServer()",
            "let y = a >>= b;\nmy_server()",
            "let y = a >>>= c;\nmyHTTPServer(1)",
        ),
        ("x" * 10, "x" * 10 + "y" * 600, "x"),
    ],
)
def test_lua_kept_rate_equals_the_python_one(
    editor: Editor, base: str, candidate: str, reference: str
) -> None:
    lua = editor.nvim.exec_lua(
        "local k = require('nextedit.kept_rate'); return k.edit_bytes(k.compute(...))",
        base,
        candidate,
        reference,
    )
    expected = compute_kept_rate(base, candidate, reference).to_edit_bytes()
    assert lua == pytest.approx(expected)


def test_accept_in_normal_mode_is_one_undo_step(editor: Editor, heuristic_server) -> None:  # noqa: ANN001
    url, _ = heuristic_server
    editor.setup(url=url)
    editor.open("calc.py", SOURCE)
    editor.nvim.current.window.cursor = (1, 10)
    editor.nvim.command("normal! ciwquantity")  # the rename, ending in normal mode
    wait_for(
        lambda: editor.mode() == "n" and predicted_text(editor) == RENAMED, "the prediction in normal mode"
    )
    editor.nvim.input("<Tab>")
    wait_for(lambda: editor.text() == RENAMED, "Tab to apply the prediction")
    editor.nvim.command("undo")
    assert editor.text() == SOURCE.replace("qty,", "quantity,", 1)
