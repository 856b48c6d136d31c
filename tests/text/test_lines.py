"""The small shared text helpers: line tables of bytes, common prefix/suffix lengths."""

from __future__ import annotations

from nextedit.text.diff import common_affixes
from nextedit.text.lines import line_starts


def test_line_starts_are_byte_offsets() -> None:
    assert line_starts(b"") == [0]
    assert line_starts(b"ab\ncd") == [0, 3]
    assert line_starts("é\n\nx\n".encode()) == [0, 3, 4, 6]  # é is 2 bytes; a final \n opens an empty line


def test_common_affixes_never_overlap() -> None:
    assert common_affixes("abcxdef", "abcydef") == (3, 3)
    assert common_affixes(b"aaaa", b"aa") == (2, 0)  # the suffix may not reuse the prefix's items
    assert common_affixes("xab", "ab") == (0, 2)
    assert common_affixes("", "abc") == (0, 0)
