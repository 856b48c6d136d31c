"""Local pyflakes diagnostics rendered per §1.10."""

from nextedit.context.diagnostics import (
    BufferDiagnostic,
    active_buffer_diagnostics,
    clamp_to_tokens,
    python_diagnostics,
    render_diagnostics,
)
from nextedit.context.syntax import parse
from nextedit.schema.request import Diagnostic

PAD = "".join(f"value_{i} = {i} * 1000 + {i}\n" for i in range(80))
SRC = "import os\n" + PAD + "\n\ndef f():\n    s = 'é'\n    return undefined_name + 1\n" + PAD


def test_undefined_name_is_a_warning_with_byte_ranges():
    diags = active_buffer_diagnostics(SRC, "a.py", SRC.index("return"), tree=parse(SRC, "a.py"))
    msgs = {d.message: d for d in diags}
    d = msgs["undefined name 'undefined_name'"]
    assert d.severity == 2
    r = d.diagnostic_range_in_snippet
    assert d.snippet.encode()[r.start : r.end] == b"undefined_name"
    row = SRC[: SRC.index("undefined_name")].count("\n")
    assert d.snippet_buffer_row_range.start <= row <= d.snippet_buffer_row_range.end
    assert "'os' imported but unused" not in msgs  # row 0 is more than 20 rows away
    assert d.snippet and len(d.snippet.encode()) // 3 <= 512 and SRC.encode().find(d.snippet.encode()) > 0
    # sorted by distance from the cursor row: the undefined name (same row) first
    assert diags[0].message == "undefined name 'undefined_name'"


def test_syntax_error_is_an_error():
    (d,) = python_diagnostics("def f(:\n    pass\n")
    assert d.severity == 1


def test_window_limit_and_order():
    text = "".join(f"x{i} = undefined_{i}\n" for i in range(100))
    cursor_row = 50
    cursor = sum(len(f"x{i} = undefined_{i}\n") for i in range(cursor_row))
    diags = active_buffer_diagnostics(text, "a.py", cursor)
    assert len(diags) == 20
    rows = [int(d.message.split("_")[1].rstrip("'")) for d in diags]
    assert all(abs(r - cursor_row) <= 20 for r in rows)
    dists = [abs(r - cursor_row) for r in rows]
    assert dists == sorted(dists) and dists[0] == 0


def test_whole_file_snippet_is_empty_and_message_clamped():
    text = "x = y\n"
    (d,) = render_diagnostics(text, 0, [BufferDiagnostic(2, "m" * 5000, 4, 5)])
    assert d.snippet == "" and len(d.message.encode()) <= 512 * 3
    assert clamp_to_tokens("ab\ncd\n", 1) == "ab\n"


def test_client_diagnostics_are_kept_and_other_languages_get_none():
    given = [{"severity": 3, "message": "hi", "snippet": "", "snippet_buffer_row_range": {"start": 0, "end": 0},
              "diagnostic_range_in_snippet": {"start": 0, "end": 0}}]
    out = active_buffer_diagnostics(SRC, "a.py", 0, given=given)
    assert out == [Diagnostic.model_validate(given[0])]
    assert active_buffer_diagnostics("let x = ;", "a.rs", 0) == []
