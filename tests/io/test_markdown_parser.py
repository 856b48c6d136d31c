"""Parser rules of zeta.md §4.2, error reporting and the cursor marker forms of §4.3."""

from __future__ import annotations

import pytest

from nextedit.io.inputs import read_examples
from nextedit.io.markdown import (
    CursorMarkerError,
    MarkdownError,
    comment_prefix,
    cursor_excerpt,
    example_to_markdown,
    format_cursor_excerpt,
    parse_markdown,
)
from nextedit.schema.example import Example

CURSOR = "## Cursor Position\n\n```a.py\nx = 1<|user_cursor|>\n```\n"


def _error(text: str) -> MarkdownError:
    with pytest.raises(MarkdownError) as info:
        parse_markdown(text, path="cases/bad.md")
    return info.value


# ------------------------------------------------------------------ grammar


def test_front_matter_name_sections_case_insensitive():
    text = (
        '+++\nrepository_url = "https://github.com/o/r"\nrevision = "abc"\ntags = ["a", "b"]\n'
        "uncommitted_diff_requires_edit_history_rollback = true\n+++\n\n"
        "Some free text.\n\n# my-case\n\n## EDIT history\n\n```diff\n-a\n+b\n```\n\n"
        "## cursor position\n\n```src/x.rs\nfn f() {}<|user_cursor|>\n```\n\n"
        "## Expected PATCH\n\n```diff\n-x\n```\n\n```diff\n-y\n```\n"
    )
    ex = parse_markdown(text)
    assert (ex.repository_url, ex.revision, ex.tags) == ("https://github.com/o/r", "abc", ["a", "b"])
    assert ex.uncommitted_diff_contains_edit_history is True
    assert ex.name == "my-case"
    assert ex.edit_history == "-a\n+b\n"
    assert (ex.cursor_path, ex.cursor_position) == ("src/x.rs", "fn f() {}<|user_cursor|>\n")
    assert ex.expected_patches == ["-x\n", "-y\n"]
    assert ex.rejected_patch is None


def test_byte_order_mark_before_front_matter():
    ex = parse_markdown('\ufeff+++\nrevision = "abc"\n+++\n' + CURSOR)
    assert ex.revision == "abc"


def test_h3_h4_are_ignored():
    text = (
        "## Edit History\n\n### sub\n\n```diff\n+a\n```\n\n"
        "#### deeper\n\n```diff\n+b\n```\n\n" + CURSOR
    )
    ex = parse_markdown(text)
    assert ex.edit_history == "+a\n+b\n"  # H3/H4 do not end the Edit History section


def test_no_edit_history_and_accepted_prediction_paragraph():
    assert parse_markdown("## Edit History\n\n(No edit history)\n\n" + CURSOR).edit_history == ""
    text = (
        "## Edit History\n\n```diff\n+typed\n```\n\n// User accepted prediction:\n\n```diff\n+predicted\n```\n\n"
        "Not the marker\n\n```diff\n+typed again\n```\n\n" + CURSOR
    )
    assert (
        parse_markdown(text).edit_history
        == "+typed\n// User accepted prediction:\n+predicted\n+typed again\n"
    )


def test_fences_tildes_longer_fences_and_verbatim_content():
    text = (
        "## Edit History\n\n~~~~diff\n```\ninner backticks\n```\n~~~\n~~~~\n\n"
        "## Cursor Position\n\n`````a.md\n````\ntext<|user_cursor|>\n\n\n`````\n\n"
        "## Rejected Patch\n\n```diff\n```\n"
    )
    ex = parse_markdown(text)
    assert ex.edit_history == "```\ninner backticks\n```\n~~~\n"
    assert ex.cursor_position == "````\ntext<|user_cursor|>\n\n\n"  # blank lines and final newline kept
    assert ex.rejected_patch == ""


def test_fence_indentation_is_removed_from_content():
    ex = parse_markdown("## Cursor Position\n\n  ```a.py\n  x = 1\n    y<|user_cursor|>\n ```\n")
    assert ex.cursor_position == "x = 1\n  y<|user_cursor|>\n"


def test_setext_heading_and_crlf():
    text = "Edit History\n------------\n\n```diff\n+a\n```\n\n" + CURSOR
    assert parse_markdown(text).edit_history == "+a\n"
    crlf = CURSOR.replace("\n", "\r\n")
    assert parse_markdown(crlf).cursor_position == "x = 1<|user_cursor|>\n"


def test_recent_files_block():
    text = "## Recently Opened Files\n\n```\nsrc/a.rs\t12\n\nsrc/b.rs\n```\n\n" + CURSOR
    assert parse_markdown(text).recently_opened_files == [
        {"path": "src/a.rs", "cursor_position": 12},
        {"path": "src/b.rs", "cursor_position": None},
    ]


def test_list_continuation_is_not_an_indented_code_block():
    text = "Intro:\n\n- first item\n\n    continued inside the item\n\n" + CURSOR
    assert parse_markdown(text).cursor_path == "a.py"


# ------------------------------------------------------------------ errors (file:line in the message)


def test_error_missing_cursor_block():
    e = _error("# name\n\n## Cursor Position\n\nno block here\n")
    assert str(e) == "cases/bad.md:3: Missing cursor position codeblock"
    e = _error('+++\nrevision = "x"\n+++\n# only a name\n')
    assert e.what == "Missing cursor position codeblock" and e.path == "cases/bad.md"


def test_error_h5_h6_headings_with_line_numbers_after_front_matter():
    e = _error('+++\nrevision = "x"\n+++\n\n##### too deep\n' + CURSOR)
    assert str(e).startswith("cases/bad.md:5: ") and "H5" in str(e)
    e = _error(CURSOR + "\n###### deeper\n")
    assert e.line == 7 and "H6" in e.what


def test_error_indented_code_block():
    e = _error("## Edit History\n\n    --- a/x\n    +++ b/x\n\n" + CURSOR)
    assert e.line == 3 and "indented code" in e.what


def test_error_unclosed_front_matter_and_bad_offset():
    assert _error("+++\nrevision = 'x'\n").line == 1
    e = _error("## Recently Viewed Files\n\n```\na.py\tnope\n```\n\n" + CURSOR)
    assert e.line == 4 and "'nope'" in e.what


def test_error_invalid_toml_names_its_line():
    e = _error('+++\nrevision = "x"\nthis is = = not toml\n+++\n' + CURSOR)
    assert e.line == 3 and e.what.startswith("front matter: ")


def test_error_unknown_section_names_file_line_and_the_likely_heading():
    e = _error(CURSOR + "\n## Expected Patches\n\n```diff\n-x = 1\n+x = 2\n```\n")
    assert str(e).startswith("cases/bad.md:7: unknown section '## Expected Patches'")
    assert "did you mean 'expected patch'" in e.what
    assert _error("## Notes\n\nsome prose\n\n" + CURSOR).line == 1


def test_error_unknown_front_matter_key_and_wrong_types():
    e = _error('+++\nrepository_url = "https://github.com/o/r"\nrevison = "abc"\n+++\n' + CURSOR)
    assert str(e).startswith("cases/bad.md:3: unknown front-matter key 'revison'")
    assert "did you mean 'revision'" in e.what
    e = _error('+++\ntags = "one"\n+++\n' + CURSOR)
    assert e.line == 2 and "tags must be a list of strings" in e.what
    e = _error("+++\n\nrevision = 5\n+++\n" + CURSOR)
    assert e.line == 3 and "revision must be str" in e.what


@pytest.mark.parametrize(
    "typo",
    ["^[CURSOR_POSITON]", "<[CURSOR POSITION]", "^[cursor_position]", "<|user_curser|>", "<|user-cursor|>"],
)
def test_error_misspelled_cursor_marker_in_cursor_block(typo):
    text = "# case\n\n## Cursor Position\n\n```a.py\ndef f():\n    pass\n#   " + typo + "\n```\n"
    e = _error(text)
    assert e.line == 8 and "misspelled cursor marker" in e.what and typo.lstrip("^<") in e.what


def test_error_misspelled_cursor_marker_in_expected_patch():
    text = CURSOR + "\n## Expected Patch\n\n```diff\n@@ -1 +1 @@\n-x = 1\n+x = 2<|user_cursr|>\n```\n"
    e = _error(text)
    assert e.line == 12 and "in an Expected Patch block" in e.what


def test_error_cursor_block_needs_exactly_one_marker():
    assert "no cursor marker" in _error("## Cursor Position\n\n```a.py\nx = 1\n```\n").what
    two = _error("## Cursor Position\n\n```a.py\nx<|user_cursor|> = 1<|user_cursor|>\n```\n")
    assert two.line == 3 and "2 cursor markers" in two.what
    second = _error(CURSOR + "\n" + CURSOR)
    assert second.line == 9 and "second Cursor Position block" in second.what


def test_code_that_merely_resembles_a_marker_is_content():
    ex = parse_markdown("## Cursor Position\n\n```a.py\nbuf[cursor] = items[POSITION]<|user_cursor|>\n```\n")
    assert ex.cursor_position.startswith("buf[cursor]")


def test_directory_with_a_bad_file_still_yields_the_others(tmp_path):
    good = example_to_markdown(Example(cursor_path="a.py", cursor_position="x<|user_cursor|>\n"))
    (tmp_path / "a-good.md").write_text(good)
    (tmp_path / "b-bad.md").write_text("## Edit History\n\n    indented\n")
    (tmp_path / "c-good.md").write_text(good)
    (tmp_path / "d-bad.md").write_bytes(b"\xff\xfe not utf-8")
    errors: list[str] = []
    names = [ex.name for ex in read_examples([tmp_path], on_error=errors.append)]
    assert names == ["a-good", "c-good"]
    assert len(errors) == 2
    assert (
        errors[0]
        == f"{tmp_path / 'b-bad.md'}:3: indented code blocks are not allowed; use a fenced ``` block"
    )
    assert str(tmp_path / "d-bad.md") in errors[1]


# ------------------------------------------------------------------ cursor markers


def test_inline_user_cursor_offset_is_in_bytes():
    text = 'name = "Zoë 🙂"<|user_cursor|>\nnext\n'
    excerpt, offset = cursor_excerpt(text, "a.py")
    assert excerpt == 'name = "Zoë 🙂"\nnext\n'  # inline form: nothing trimmed
    assert offset == len('name = "Zoë 🙂"'.encode()) == 18  # 14 chars, ë 2 bytes, 🙂 4 bytes


def test_caret_marker_line():
    text = "def f(a, b):\n#        ^[CURSOR_POSITION]\n    return a\n\n"
    excerpt, offset = cursor_excerpt(text, "a.py")
    assert excerpt == "def f(a, b):\n    return a"  # marker line removed, trailing newlines trimmed
    assert offset == 9 and excerpt[offset:].startswith("b):")


def test_caret_marker_after_multibyte_text():
    # the column is a byte column: the marker line is padded to the byte index of the cursor
    line = "s = 'ünïcödé' + x"
    col = len("s = 'ünïcödé'".encode())
    text = f"first\n{line}\n#{' ' * (col - 1)}^[CURSOR_POSITION]\n"
    excerpt, offset = cursor_excerpt(text)
    assert excerpt == f"first\n{line}"
    assert excerpt.encode()[offset:] == b" + x"
    assert offset == len(b"first\n") + col


def test_less_than_marker_at_column_zero_and_indented():
    excerpt, offset = cursor_excerpt("fn a() {}\nfn b() {}\n// <[CURSOR_POSITION]\nfn c() {}\n", "x.rs")
    assert (excerpt, offset) == ("fn a() {}\nfn b() {}\nfn c() {}", 10)
    excerpt, offset = cursor_excerpt("if x:\n  y\n  # <[CURSOR_POSITION]\n", "x.py")
    assert (excerpt, offset) == ("if x:\n  y", 8)


def test_production_inline_marker_and_missing_marker():
    excerpt, offset = cursor_excerpt("let é = 1;[CURSOR_POSITION]\nlet b = 2;\n", "x.rs")
    assert excerpt == "let é = 1;\nlet b = 2;\n" and offset == 11
    with pytest.raises(CursorMarkerError):
        cursor_excerpt("no marker at all\n", "x.rs")


@pytest.mark.parametrize(
    ("path", "prefix"),
    [
        ("a.rs", "//"),
        ("a.tsx", "//"),
        ("b/c.go", "//"),
        ("x.py", "#"),
        ("x.yml", "#"),
        ("Makefile", "#"),
        ("q.sql", "--"),
        ("m.lua", "--"),
        ("a.clj", ";"),
        ("e.erl", "%"),
        ("unknown.zzz", "//"),
    ],
)
def test_comment_prefix(path, prefix):
    assert comment_prefix(path) == prefix


def test_format_cursor_excerpt_writer_rule():
    # col < len(prefix): "<" form with the column as leading spaces
    assert format_cursor_excerpt("ab\ncd", 4, "x.rs") == "ab\ncd\n // <[CURSOR_POSITION]\n"
    # col >= indent + prefix: indent + prefix, padded to the column
    assert format_cursor_excerpt("    foo(bar)\n", 8, "x.py") == "    foo(bar)\n    #   ^[CURSOR_POSITION]\n"
    # prefix <= col < indent + prefix: prefix at column 0
    assert format_cursor_excerpt("        x\n", 3, "x.rs") == "        x\n// ^[CURSOR_POSITION]\n"
    # marker goes right below the cursor line, before the rest
    assert format_cursor_excerpt("a = 1\nb = 2\n", 5, "x.py") == "a = 1\n#    ^[CURSOR_POSITION]\nb = 2\n"
    with pytest.raises(ValueError):
        format_cursor_excerpt("abc", 4, "x.py")


@pytest.mark.parametrize("path", ["x.py", "x.rs", "x.lua", "x.clj", "x.erl", "x.txt"])
def test_format_then_parse_round_trip_every_offset(path):
    excerpt = "def f(x):\n\tif x:\n        return 'é✓'\n    pass\n\nend"
    data = excerpt.encode()
    for offset in range(len(data) + 1):
        try:
            data[:offset].decode()
        except UnicodeDecodeError:
            continue  # not a character boundary
        written = format_cursor_excerpt(excerpt, offset, path)
        assert cursor_excerpt(written, path) == (excerpt, offset), offset
