"""§2.2 region selection, §1.10 cursor excerpt, §2.1 token helpers."""

import random

from nextedit.context.excerpt_ranges import (
    apply_prompt_budget_margin,
    clamp_text_to_token_count,
    compute_editable_and_context_ranges,
    compute_legacy_excerpt_ranges,
    cursor_excerpt_around,
    estimate_tokens,
    resolve_cursor_region,
)
from nextedit.schema.request import EXCERPT_RANGE_BUDGETS, ByteRange, Zeta2PromptInput


def _rows(text: bytes, r: ByteRange) -> list[bytes]:
    assert r.start == 0 or text[r.start - 1 : r.start] == b"\n", "range starts at a line start"
    assert r.end == len(text) or text[r.end : r.end + 1] == b"\n", "range ends at a line end"
    return text[r.start : r.end].split(b"\n")


def _tok(lines: list[bytes]) -> int:
    return sum(max(1, len(line) // 3) for line in lines)


def test_token_helpers():
    assert estimate_tokens(8) == 2
    assert estimate_tokens("ééé") == 2  # 6 bytes
    assert apply_prompt_budget_margin(4096) == 3686
    assert clamp_text_to_token_count("abc\ndef\nghi\n", 1) == "abc\n"
    assert clamp_text_to_token_count("abc\ndef\nghi\n", 3) == "abc\ndef\n"  # 12 bytes // 3 = 4 > 3
    assert clamp_text_to_token_count("abc\ndef\nghi\n", 4) == "abc\ndef\nghi\n"
    assert clamp_text_to_token_count("abcdefghijkl\nx", 2) == ""


def test_hand_computed_small_budget():
    t = "fn a() {\n    let x = 1;\n    let y = 2;\n}\n\nfn b() {}\n"
    # cursor in row 1 (4 tokens) > 3/4*5: phase 1 takes nothing, phase 3 takes row 0 (2 tokens)
    ed, ctx = compute_editable_and_context_ranges(t, 15, None, 5, 3)
    assert (ed.start, ed.end) == (0, 23)
    assert (ctx.start, ctx.end) == (0, 23)
    # context 4: row 2 (4 tokens) fits downward
    ed, ctx = compute_editable_and_context_ranges(t, 15, None, 5, 4)
    assert (ctx.start, ctx.end) == (0, 38)


def test_phase1_stops_at_first_misfit():
    # rows: 0 "aaa"(1) 1 "bbb"(1) 2 cursor "ccc"(1) 3 long 30 bytes (10) 4 "ddd"(1)
    t = "aaa\nbbb\nccc\n" + "x" * 30 + "\nddd"
    # editable 8: initial 6, remaining 5 after cursor; down row 3 costs 10 -> stop immediately.
    # phase 3 with 5+2=7: prefer_up (0<=0): up row1, row0 (2 tokens) -> rows 0..2
    ed, _ = compute_editable_and_context_ranges(t, 9, None, 8, 0)
    assert t.encode()[ed.start : ed.end] == b"aaa\nbbb\nccc"


def test_syntax_expansion_takes_whole_node():
    body = "".join(f"    let v{i} = {i};\n" for i in range(8))  # 8 rows, 16 bytes -> 5 tokens each
    t = "// header comment line\n" + "fn f() {\n" + body + "}\n" + "// trailing comment here\n"
    data = t.encode()
    fn_start = data.index(b"fn f")
    fn_end = data.index(b"}\n") + 1
    cursor = data.index(b"v5")
    ed, _ = compute_editable_and_context_ranges(t, cursor, [(fn_start, fn_end)], 46, 0)
    text = data[ed.start : ed.end]
    assert text.startswith(b"fn f() {\n") and text.endswith(b"}")
    # without syntax: same budget is spent linewise around the cursor, not aligned to the node
    ed2, _ = compute_editable_and_context_ranges(t, cursor, None, 46, 0)
    assert data[ed2.start : ed2.end] != text


def test_context_uses_syntax_then_no_linewise():
    lines = [f"line number {i:03d}" for i in range(40)]  # 15 bytes -> 5 tokens each
    t = "\n".join(lines)
    data = t.encode()
    cursor = data.index(b"020")
    outer = (data.index(b"line number 015"), data.index(b"line number 025") + 15)
    ed, ctx = compute_editable_and_context_ranges(t, cursor, [outer], 10, 1000)
    # editable: 1 row, 3/4*10=7 -> 7-5=2, then +3 -> 5: one more row up, and the syntax node costs too much
    assert _rows(data, ed) == [b"line number 019", b"line number 020"]
    assert _rows(data, ctx)[0] == b"line number 015" and _rows(data, ctx)[-1] == b"line number 025"


def test_random_properties_hold():
    rng = random.Random(7)
    alphabet = ["a", "é", "中", " ", "{", "}", "x"]
    for _ in range(300):
        n = rng.randint(1, 60)
        t = "\n".join("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(n))
        if rng.random() < 0.3:
            t += "\n"
        data = t.encode()
        boundaries = [i for i in range(len(data) + 1) if i == len(data) or (data[i] & 0xC0) != 0x80]
        cursor = rng.choice(boundaries)
        syntax = None
        if rng.random() < 0.5:
            a, b = sorted(rng.sample(boundaries, 2)) if len(boundaries) > 1 else (0, 0)
            a, b = min(a, cursor), max(b, cursor)
            syntax = [(a, b), (0, len(data))]
        el, cl = rng.choice([(150, 350), (350, 150), (512, 0), (20, 10), (5, 0)])
        ed, ctx = compute_editable_and_context_ranges(t, cursor, syntax, el, cl)
        assert ctx.start <= ed.start <= cursor <= ed.end <= ctx.end
        ed_rows, ctx_rows = _rows(data, ed), _rows(data, ctx)
        cursor_line_tok = max(1, len(data.split(b"\n")[data[:cursor].count(b"\n")]) // 3)
        assert _tok(ed_rows) <= max(el, cursor_line_tok + el - el * 3 // 4)
        assert _tok(ctx_rows) - _tok(ed_rows) <= cl
        data.decode()  # ranges are char boundaries (they are line boundaries)


def test_legacy_ranges_all_keys_and_resolve():
    t = "\n".join(f"row {i} é" for i in range(400))
    data = t.encode()
    cursor = data.index(b"row 200")
    r = compute_legacy_excerpt_ranges(t, cursor, None)
    assert set(r.to_zed_json()) == set(EXCERPT_RANGE_BUDGETS)
    assert len(r.context_8192) >= len(r.context_4096) >= len(r.editable_350_context_1024)
    assert r.editable_512 is not None and len(r.editable_512) > len(r.editable_350)
    req = Zeta2PromptInput(
        cursor_path="a.txt", cursor_excerpt=t, cursor_offset_in_excerpt=cursor, excerpt_ranges=r
    )
    region = resolve_cursor_region(req, "zeta2")
    assert region.editable == r.editable_350 and region.context == r.editable_350_context_150
    assert region.context_text.encode() == data[region.context.start : region.context.end]
    assert region.context_start_row == data[: region.context.start].count(b"\n")
    s, e = region.editable_in_context
    assert region.editable_text == t.encode()[r.editable_350.start : r.editable_350.end].decode()
    assert s <= region.cursor_in_context <= e
    # with syntax ranges the ranges are recomputed (and ignore stale excerpt_ranges)
    req.excerpt_ranges.editable_350 = ByteRange(start=0, end=0)
    req.syntax_ranges = [ByteRange(start=cursor, end=cursor + 7)]
    region2 = resolve_cursor_region(req, "zeta2")
    assert region2.editable.start <= cursor <= region2.editable.end and len(region2.editable) > 0


def test_cursor_excerpt_around():
    t = "".join(f"line {i:02d}\n" for i in range(50))  # "line 00" = 7 bytes -> 2 tokens
    data = t.encode()
    cursor = data.index(b"line 10") + 3
    ex, start, row = cursor_excerpt_around(t, cursor, budget_tokens=10)
    # 10 tokens: cursor row (2) then down, up, down, up = 4 more rows (8 tokens)
    assert ex == "line 08\nline 09\nline 10\nline 11\nline 12"
    assert data[start:].startswith(ex.encode()) and row == 8
    ex, start, row = cursor_excerpt_around(t, 0, budget_tokens=10**6)
    assert ex == t and start == 0 and row == 0  # whole file (incl. the empty last row)
    ex, _, _ = cursor_excerpt_around(t[:-1], 0, budget_tokens=10**6)
    assert ex == t[:-1]
    ex, start, row = cursor_excerpt_around("é" * 30 + "\nabc", 2, budget_tokens=1)
    assert ex == "é" * 30 and start == 0 and row == 0
