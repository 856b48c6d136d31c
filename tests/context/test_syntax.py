"""Syntax ranges: nodes containing the cursor, innermost → outermost, per language."""

import pytest

from nextedit.context.languages import comment_prefix, language_for_path
from nextedit.context.syntax import syntax_ranges

SNIPPETS = {
    "a.py": ("class A:\n    def f(self, x):\n        return x + 1\n", "x + 1"),
    "a.js": ("class A {\n  f(x) {\n    return x + 1;\n  }\n}\n", "x + 1"),
    "a.ts": ("class A {\n  f(x: number): number {\n    return x + 1;\n  }\n}\n", "x + 1"),
    "a.tsx": ("function C() {\n  return <div>{x + 1}</div>;\n}\n", "x + 1"),
    "a.rs": ("impl A {\n    fn f(&self, x: u32) -> u32 {\n        x + 1\n    }\n}\n", "x + 1"),
    "a.go": ("package a\n\nfunc f(x int) int {\n\treturn x + 1\n}\n", "x + 1"),
    "A.java": ("class A {\n  int f(int x) {\n    return x + 1;\n  }\n}\n", "x + 1"),
    "a.c": ("int f(int x) {\n    return x + 1;\n}\n", "x + 1"),
    "a.cpp": ("namespace n {\nint f(int x) {\n    return x + 1;\n}\n}\n", "x + 1"),
}


@pytest.mark.parametrize("path", sorted(SNIPPETS))
def test_syntax_ranges_nest_around_cursor(path):
    text, needle = SNIPPETS[path]
    data = text.encode()
    cursor = data.index(needle.encode()) + 1  # inside "x + 1", just after "x"
    ranges = syntax_ranges(data, cursor, path)
    assert len(ranges) >= 4, ranges
    for (s0, e0), (s1, e1) in zip(ranges, ranges[1:], strict=False):
        assert s1 <= s0 and e0 <= e1 and (s0, e0) != (s1, e1)  # strictly growing, no duplicates
    for s, e in ranges:
        assert s <= cursor <= e
    # the expression "x + 1" is one of the nodes, and the outermost covers the whole definition
    x = data.index(needle.encode())
    assert (x, x + len(needle)) in ranges
    assert ranges[-1][0] == 0 and ranges[-1][1] >= len(data.rstrip())


def test_unknown_language_has_no_ranges():
    assert syntax_ranges(b"some text", 3, "notes.unknownext") == []
    assert syntax_ranges(b"some text", 3, None) == []


def test_within_window_stops_at_nodes_leaving_it():
    text, _ = SNIPPETS["a.py"]
    data = text.encode()
    cursor = data.index(b"x + 1")
    body_start = data.index(b"        return")
    ranges = syntax_ranges(data, cursor, "a.py", within=(body_start, len(data)))
    assert ranges and all(body_start <= s and e <= len(data) for s, e in ranges)
    assert len(ranges) < len(syntax_ranges(data, cursor, "a.py"))


def test_multibyte_offsets_are_bytes():
    text = 's = "héllo"\nx = f(ñ + 1)\n'
    data = text.encode()
    cursor = data.index("ñ".encode())
    ranges = syntax_ranges(data, cursor, "a.py")
    ident = data.index("ñ".encode())
    assert (ident, ident + len("ñ".encode())) == ranges[0]


def test_language_table():
    assert language_for_path("src/App.TSX").name == "tsx"
    assert language_for_path("x/Makefile").name == "make"
    assert language_for_path("a.weird") is None
    assert comment_prefix("a.py") == "#" and comment_prefix("a.rs") == "//" and comment_prefix("a.lua") == "--"
