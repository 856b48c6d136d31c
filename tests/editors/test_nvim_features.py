"""The Neovim client's display and keys beyond the main flow: jump hints, partial accept, typing
along with a prediction, diagnostics and the API key — against the real heuristic server."""

from __future__ import annotations

import json

import pytest

from tests.editors.conftest import Editor, wait_for
from tests.editors.test_nvim_client import RENAMED, SOURCE, predicted_text, type_rename


def test_far_prediction_is_a_jump_hint_then_shown_then_accepted(editor: Editor, heuristic_server) -> None:  # noqa: ANN001
    url, _ = heuristic_server
    editor.setup(url=url, jump_hint_rows=20)
    filler = "".join(f"    x{i} = {i}\n" for i in range(30))
    editor.open("far.py", "def total(qty, price):\n" + filler + "    return qty\n")
    type_rename(editor)
    wait_for(
        lambda: (editor.status().get("prediction") or {}).get("jump_row") == 31, "a jump hint to line 32"
    )
    marks = editor.extmarks()
    assert len(marks) == 1 and "next edit at line 32" in marks[0][3]["virt_text"][0][0]
    assert marks[0][1] == 0  # on the cursor line
    assert not editor.status()["prediction"]["shown"]

    editor.nvim.input("<Tab>")  # first Tab: jump to the edit, which is now shown in full
    wait_for(lambda: editor.nvim.current.window.cursor[0] == 32, "the jump")
    wait_for(lambda: editor.status()["prediction"]["shown"], "the full display")
    assert any(d.get("virt_text_pos") == "inline" for *_, d in editor.extmarks())
    editor.nvim.input("<Tab>")
    wait_for(lambda: editor.lines()[31] == "    return quantity", "the accept")


def test_accept_next_word_applies_one_edit_and_keeps_the_rest(editor: Editor, heuristic_server) -> None:  # noqa: ANN001
    url, telemetry = heuristic_server
    editor.setup(url=url, reject_debounce_ms=100)
    editor.open("calc.py", SOURCE)
    type_rename(editor)
    wait_for(lambda: predicted_text(editor) == RENAMED, "the rename prediction")
    shown_id = editor.status()["prediction"]["request_id"]
    editor.nvim.input("<M-Right>")
    wait_for(lambda: editor.lines()[1] == "    cost = quantity * price", "the first word accepted")
    p = editor.status()["prediction"]
    assert p["request_id"] == shown_id and [e["text"] for e in p["edits"]] == ["uanti"]
    assert predicted_text(editor) == RENAMED
    editor.nvim.input("<Tab>")
    wait_for(lambda: editor.text() == RENAMED, "the rest accepted")
    wait_for(lambda: telemetry.events("accept", shown_id), "the accept report")


def test_typing_along_keeps_the_prediction_and_sends_nothing(editor: Editor, heuristic_server) -> None:  # noqa: ANN001
    url, _ = heuristic_server
    editor.setup(url=url)
    editor.open("comp.py", "def compute_total(x):\n    return x\n\n\n")
    editor.nvim.current.window.cursor = (4, 0)
    editor.nvim.input("ivalue = comp")

    def completion() -> bool:
        s = editor.status()
        p = s.get("prediction") or {}
        return (
            editor.lines()[3] == "value = comp"
            and [e["text"] for e in p.get("edits", [])] == ["ute_total"]
            and s["in_flight"] == 0
            and not s["request_scheduled"]
        )

    wait_for(completion, "the completion of 'comp', nothing in flight")
    requests = editor.status()["counts"]["requests"]
    editor.nvim.input("ut")
    wait_for(lambda: editor.lines()[3] == "value = comput", "typing along")
    s = editor.status()
    assert [e["text"] for e in s["prediction"]["edits"]] == ["e_total"]
    assert not s["request_scheduled"] and s["in_flight"] == 0 and s["counts"]["requests"] == requests
    editor.nvim.input("x")  # typing something else drops it
    wait_for(lambda: editor.status().get("prediction") is None, "the prediction dropped")


def test_diagnostics_near_the_cursor_are_sent(editor: Editor, heuristic_server) -> None:  # noqa: ANN001
    url, telemetry = heuristic_server
    editor.setup(url=url, can_collect_data=True)
    editor.open("calc.py", SOURCE)
    editor.nvim.exec_lua(
        "vim.diagnostic.set(vim.api.nvim_create_namespace('t'), 0, "
        "{{lnum = 1, col = 11, end_col = 14, message = 'undefined name qty', severity = 1}})"
    )
    type_rename(editor)
    wait_for(lambda: predicted_text(editor) == RENAMED, "the rename prediction")
    body = json.loads([r for r in telemetry.requests() if r["input_json"]][-1]["input_json"])
    (d,) = body["active_buffer_diagnostics"]
    assert d["message"] == "undefined name qty" and d["severity"] == 1
    r = d["diagnostic_range_in_snippet"]
    assert d["snippet"].encode()[r["start"] : r["end"]] == b"qty"


def test_api_key_comes_from_the_named_environment_variable(editor: Editor, serve) -> None:  # noqa: ANN001
    url, _ = serve(auth_tokens=["sekrit-token"])
    editor.nvim.exec_lua("vim.uv.os_setenv('NEXTEDIT_TEST_KEY', 'sekrit-token')")
    editor.setup(url=url, api_key_env="NEXTEDIT_TEST_KEY")
    editor.open("calc.py", SOURCE)
    type_rename(editor)
    wait_for(lambda: predicted_text(editor) == RENAMED, "a prediction from the authenticated server")

    editor.setup(url=url, api_key_env="NEXTEDIT_TEST_NO_SUCH_KEY")
    editor.nvim.input("<Esc>ggA  # x<Esc>")
    wait_for(lambda: editor.status()["counts"]["errors"] > 0, "the refused request")
    assert "HTTP 401" in editor.status()["last_error"]


def test_replacement_is_a_highlighted_deletion_with_inline_insertion(
    editor: Editor, heuristic_server
) -> None:  # noqa: ANN001
    url, _ = heuristic_server
    editor.setup(url=url)
    editor.open("calc.py", SOURCE)
    editor.nvim.current.window.cursor = (1, 10)
    editor.nvim.input("ciwamount")
    expected = SOURCE.replace("qty", "amount")
    wait_for(lambda: predicted_text(editor) == expected, "the rename prediction")
    marks = sorted((row, col, d) for _, row, col, d in editor.extmarks())
    deletions = [
        (r, c, d["end_row"], d["end_col"]) for r, c, d in marks if d.get("hl_group") == "NextEditDelete"
    ]
    insertions = [(r, c, d["virt_text"][0][0]) for r, c, d in marks if d.get("virt_text_pos") == "inline"]
    assert deletions == [(1, 11, 1, 14), (2, 11, 2, 14)]  # "qty" on lines 2 and 3
    assert insertions == [(1, 14, "amount"), (2, 14, "amount")]  # after the deleted text
    editor.nvim.input("<Tab>")
    wait_for(lambda: editor.text() == expected, "the accept")


@pytest.mark.parametrize("limit", [{"settled_ttl_ms": 1}, {"settled_max_region_bytes": 10}])
def test_settled_captures_past_their_ttl_or_size_are_dropped(editor: Editor, heuristic_server, limit) -> None:  # noqa: ANN001
    url, telemetry = heuristic_server
    editor.setup(url=url, settled_quiescence_ms=200, **limit)  # judged 200 ms after the last edit
    editor.open("calc.py", SOURCE)
    type_rename(editor)
    wait_for(lambda: predicted_text(editor) == RENAMED, "the rename prediction")
    editor.nvim.input("<Tab>")
    wait_for(lambda: editor.text() == RENAMED, "the accept")
    wait_for(lambda: telemetry.events("accept"), "the accept report")
    wait_for(lambda: editor.status()["pending_settled"] == 0, "the captures judged")
    assert editor.status()["sent"]["settled"] == 0 and telemetry.events("settled") == []
    log = editor.nvim.exec_lua("return require('nextedit.log').lines")
    assert any("settled capture" in line and "dropped" in line for line in log)


def test_unreachable_server_is_an_error_in_status_not_a_stall(editor: Editor) -> None:
    import socket

    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    editor.setup(url=f"http://127.0.0.1:{port}")
    editor.open("calc.py", SOURCE)
    editor.nvim.input("ix")
    wait_for(lambda: editor.status()["counts"]["errors"] > 0, "the failed request")
    assert "cannot connect" in editor.status()["last_error"]
    assert editor.lines()[0].startswith("x")
