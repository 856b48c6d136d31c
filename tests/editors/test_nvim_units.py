"""The plugin's pure Lua modules (edits, history, request, http parsing), run inside headless Neovim."""

from __future__ import annotations

from typing import Any

import pytest

from tests.editors.conftest import Editor


def lua(ed: Editor, code: str, *args: Any) -> Any:
    return ed.nvim.exec_lua(code, *args)


def test_compute_trims_edits_to_tokens(editor: Editor) -> None:
    compute = "return require('nextedit.edits').compute(...)"
    old, new = "a = qty * 2\nb = qty\n", "a = quantity * 2\nb = quantity\n"
    assert lua(editor, compute, old, new, 100) == [
        {"s": 105, "e": 105, "text": "uanti"},
        {"s": 117, "e": 117, "text": "uanti"},
    ]
    # lines added and removed (a hunk too big for the token re-diff): the edits still rebuild it
    old = "".join(f"keep{i}\n" for i in range(12))
    new = old.replace("keep3\n", "".join(f"new{i}\n" for i in range(9))).replace("keep9\n", "")
    edits = lua(editor, compute, old, new, 0)
    assert lua(editor, "return require('nextedit.edits').apply_to_text(...)", old, edits, 0) == new


INTERPOLATE = (
    "local e = require('nextedit.edits'); local out, c = e.interpolate(...); return {out or vim.NIL, c}"
)


@pytest.mark.parametrize(
    ("edits", "user", "expected", "consumed"),
    [
        # typing along: the same (insertion) range, typed text a prefix → the rest remains
        ([{"s": 5, "e": 5, "text": "abc"}], (5, 5, "a"), [{"s": 6, "e": 6, "text": "bc"}], True),
        ([{"s": 5, "e": 5, "text": "abc"}], (5, 5, "abc"), None, True),
        # an edit before the prediction shifts it; one after leaves it
        ([{"s": 5, "e": 8, "text": "x"}], (0, 1, ""), [{"s": 4, "e": 7, "text": "x"}], False),
        ([{"s": 5, "e": 8, "text": "x"}], (9, 9, "yy"), [{"s": 5, "e": 8, "text": "x"}], False),
        # anything else overlapping drops it
        ([{"s": 5, "e": 5, "text": "abc"}], (5, 5, "z"), None, False),
        ([{"s": 5, "e": 8, "text": "x"}], (6, 7, "q"), None, False),
    ],
)
def test_interpolate_follows_zed(
    editor: Editor, edits: list, user: tuple, expected: Any, consumed: bool
) -> None:
    out, c = lua(editor, INTERPOLATE, edits, *user)
    assert out == expected and c == consumed


def test_replacement_rule(editor: Editor) -> None:
    rule = "return require('nextedit.edits').should_replace(...)"
    one = [{"s": 1, "e": 2, "text": "ab"}]
    assert lua(editor, rule, one, [{"s": 1, "e": 2, "text": "abc"}])  # an extension replaces
    assert not lua(editor, rule, one, [{"s": 1, "e": 2, "text": "xy"}])  # CurrentPreferred
    assert not lua(editor, rule, one, [{"s": 0, "e": 2, "text": "abc"}])
    assert lua(editor, rule, one + [{"s": 5, "e": 5, "text": "z"}], one)  # multi-edit: replace


HISTORY = """
local h = require('nextedit.history')
h.finalized = {}
local st = {shadow = vim.split(..., '\\n'), path = 'f.py', in_open_source_repo = false}
local edits = select(2, ...)
for _, e in ipairs(edits) do
  if e.start == nil then -- insert e.text at the start of row e.row of the current text
    e.start = 0
    for r = 1, e.row do e.start = e.start + #st.shadow[r] + 1 end
    e.old_end, e.new_end = e.start, e.start + #e.text
  end
  -- apply the edit to the shadow the way the tracker does: record first, then change the text
  h.record(st, {start = e.start, old_end = e.old_end, new_end = e.new_end, row = e.row, last_row = e.row,
                predicted = e.predicted or false, now_ms = e.now_ms})
  local text = table.concat(st.shadow, '\\n')
  text = text:sub(1, e.start) .. e.text .. text:sub(e.old_end + 1)
  st.shadow = vim.split(text, '\\n')
end
return h.events({st})
"""


def _lines(n: int) -> str:
    return "\n".join(f"line{i:02d}" for i in range(n)) + "\n"


def _edit_at_row(row: int, now_ms: float, predicted: bool = False) -> dict:
    return {"text": "x", "row": row, "now_ms": now_ms, "predicted": predicted}  # "x" at the row start


def test_history_groups_nearby_edits_into_one_event(editor: Editor) -> None:
    events = lua(editor, HISTORY, _lines(30), [_edit_at_row(3, 0), _edit_at_row(5, 100)])
    assert len(events) == 1
    (e,) = events
    assert e["diff"] == (
        "@@ -1,9 +1,9 @@\n line00\n line01\n line02\n-line03\n+xline03\n line04\n-line05\n+xline05\n"
        " line06\n line07\n line08\n"
    )
    assert e["old_range"] == {"start": 21, "end": 35} and e["new_range"] == {"start": 21, "end": 37}
    assert e["path"] == e["old_path"] == "f.py" and e["event"] == "BufferChange"


def test_history_splits_on_distance_pause_and_predicted_flag(editor: Editor) -> None:
    far = lua(editor, HISTORY, _lines(30), [_edit_at_row(2, 0), _edit_at_row(20, 10)])
    assert len(far) == 2 and far[1]["diff"].startswith(
        "@@ -18,7 +18,7 @@\n line17"
    )  # real 1-based line numbers
    pause = lua(editor, HISTORY, _lines(30), [_edit_at_row(2, 0), _edit_at_row(3, 1000)])
    assert len(pause) == 2
    predicted = lua(editor, HISTORY, _lines(30), [_edit_at_row(2, 0), _edit_at_row(3, 10, predicted=True)])
    assert [e["predicted"] for e in predicted] == [False, True]


def test_history_drops_events_over_6_kib(editor: Editor) -> None:
    big = "y" * 7000
    events = lua(
        editor,
        HISTORY,
        _lines(5),
        [{"start": 0, "old_end": 0, "new_end": 7000, "text": big, "row": 0, "now_ms": 0}],
    )
    assert events == []


def test_excerpt_grows_down_then_up_within_the_budget(editor: Editor) -> None:
    lines = ["x" * 5] * 10  # 2 tokens per line
    first, last = lua(editor, "return {require('nextedit.request').excerpt_rows(...)}", lines, 5, 7)
    assert (first, last) == (4, 6)  # rows 5, 6 (down first), 4 (up)


def test_http_response_parsing(editor: Editor) -> None:
    parse = "return {require('nextedit.http').parse_response(...)}"
    assert lua(editor, parse, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}junk") == [200, "{}"]
    chunked = "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    assert lua(editor, parse, chunked) == [404, "abcde"]
    url = lua(editor, "return require('nextedit.http').parse_url(...)", "http://[::1]:8000/x")
    assert url == {"scheme": "http", "host": "::1", "port": 8000, "path": "/x"}


def test_syntax_error_counts_use_the_filetype_parser(editor: Editor) -> None:
    count = "return require('nextedit.syntax').error_count(...)"
    assert lua(editor, count, "local x = 1\n", "lua") == 0
    assert lua(editor, count, "local x = (\nlocal y = }\n", "lua") > 0
    assert lua(editor, count, "anything", "no-such-language") is None


def test_multi_line_insertion_is_inline_text_then_virtual_lines(editor: Editor) -> None:
    editor.open("m.py", "a\nb\n")
    marks = lua(
        editor,
        """local d = require('nextedit.display')
        d.show(0, {{s = 1, e = 1, text = " = 1\\nc = 2\\nd = 3"}}, 0, nil)
        return vim.api.nvim_buf_get_extmarks(0, d.ns, 0, -1, {details = true})""",
    )
    inline = [m for m in marks if m[3].get("virt_text_pos") == "inline"]
    below = [m for m in marks if m[3].get("virt_lines")]
    assert [(m[1], m[2], m[3]["virt_text"][0][0]) for m in inline] == [(0, 1, " = 1")]
    assert [[chunk[0][0] for chunk in m[3]["virt_lines"]] for m in below] == [["c = 2", "d = 3"]]


def test_commands_status_disable_enable_log(editor: Editor) -> None:
    editor.setup(url="http://127.0.0.1:9")
    editor.open("c.py", "x = 1\n")
    assert "nextedit enabled" in editor.nvim.command_output("NextEdit status")
    editor.nvim.command("NextEdit disable")
    assert not editor.status()["tracked"] and not editor.status()["enabled"]
    editor.nvim.command("NextEdit enable")
    assert editor.status()["tracked"]
    editor.nvim.command("NextEdit log")
    assert editor.nvim.current.buffer.name.endswith("nextedit://log")
    assert any("tracking buffer" in line for line in editor.lines())


def test_bad_option_is_one_error_naming_it(editor: Editor) -> None:
    import pynvim

    with pytest.raises(pynvim.NvimError, match='option "throttle_ms" must be a number'):
        editor.setup(throttle_ms="fast")
    with pytest.raises(pynvim.NvimError, match='unknown option "urll"'):
        editor.setup(urll="x")
    with pytest.raises(pynvim.NvimError, match=r"disabled_globs\[2\] is not a valid glob"):
        editor.setup(disabled_globs=["*.env", "secrets/{a"])
    with pytest.raises(pynvim.NvimError, match="must start with http:// or https://"):
        editor.setup(url="127.0.0.1:8000")


@pytest.mark.parametrize(
    "command",
    [
        "%s/qty/quantity/g",
        "normal! 2Gdd",
        "normal! ggyyGp",
        "normal! ggJ",
        "normal! gg>>",
        "normal! Goend",
        "normal! gg0\x16jjIpre_",  # visual-block insert on three lines
        "normal! ggdG",
        "2,3delete",
        "normal! ggu",
    ],
)
def test_tracker_shadow_follows_every_kind_of_change(editor: Editor, command: str) -> None:
    """The shadow copy (the text before each edit, for history diffs) equals the buffer after any change."""
    editor.setup(url="http://127.0.0.1:9")
    editor.open("t.py", "def f(qty):\n    a = qty\n    b = qty * 2\n    return a + b\n")
    editor.nvim.command("normal! ggAx")  # something to undo
    editor.nvim.command(command)
    shadow = lua(editor, "return require('nextedit.tracker').states[vim.api.nvim_get_current_buf()].shadow")
    assert shadow == editor.lines()
    log = lua(editor, "return require('nextedit.log').lines")
    assert not any("resynchronised" in line for line in log)


def test_keystroke_benchmark_script_runs(heuristic_server, tmp_path) -> None:  # noqa: ANN001
    """The benchmark script (figures are not checked: it is not a timed test)."""
    import subprocess

    from tests.editors.conftest import PLUGIN, nvim_binary

    url, _ = heuristic_server
    script = PLUGIN / "bench" / "keystroke.lua"
    out = subprocess.run(
        [nvim_binary(), "--clean", "--headless", "-l", str(script), url, "5", "50"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    for name in ("handler", "request", "change", "baseline"):
        assert any(line.startswith(name) for line in text.splitlines()), text
