"""Zed's Markdown eval cases (``evals/*.md``, zeta.md §4): parser, writer and cursor markers.

The parser reads the small CommonMark subset these files use: ``+++`` TOML front matter, ATX and
setext headings, paragraphs, fenced code blocks (backticks or tildes, any length ≥ 3) and lists.
The data lives in fenced blocks under H2 sections (case-insensitive)::

    # name
    ## Uncommitted Diff          one block  -> uncommitted_diff
    ## Recently Opened Files     one block  -> recently_opened_files  (`path` or `path<TAB>offset`)
    ## Recently Viewed Files     one block  -> recently_viewed_files
    ## Edit History              blocks concatenated -> edit_history (`(No edit history)` = empty;
                                 a paragraph `// User accepted prediction:` marks the next block)
    ## Cursor Position           one block, info string = cursor_path -> cursor_position (raw, marker kept)
    ## Expected Patch            each block one alternative -> expected_patches
    ## Rejected Patch            one block  -> rejected_patch

``## Reasoning`` is prose kept in ``reasoning`` (Zed's writer emits it; its parser drops it).
H3/H4 are ignored. Unlike Zed's parser, which skips what it does not know, anything that would
silently make a different test is an error, reported as :class:`MarkdownError`
``"{path}:{line}: {what}"`` (1-based line): an unknown H2 section (``## Expected Patches``), an
unknown front-matter key (``revison =``), a front-matter value of the wrong type or invalid TOML,
a Cursor Position block without exactly one cursor marker, a misspelled marker
(``^[CURSOR_POSITON]``, ``<|user_curser|>``) in the cursor or an expected patch, a second Cursor
Position block, H5/H6 headings and indented code blocks.

Cursor offsets are UTF-8 **bytes** (§9): :func:`cursor_excerpt` turns the raw ``cursor_position``
into ``(excerpt, byte offset)``; :func:`format_cursor_excerpt` is the inverse (Zed's writer rule).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from nextedit.schema.example import Example

INLINE_CURSOR_MARKER = "<|user_cursor|>"
CURSOR_POSITION_MARKER = "[CURSOR_POSITION]"
ACCEPTED_PREDICTION_MARKER = "// User accepted prediction:"
NO_EDIT_HISTORY = "(No edit history)"

SECTION_UNCOMMITTED_DIFF = "uncommitted diff"
SECTION_RECENTLY_OPENED = "recently opened files"
SECTION_RECENTLY_VIEWED = "recently viewed files"
SECTION_EDIT_HISTORY = "edit history"
SECTION_CURSOR_POSITION = "cursor position"
SECTION_EXPECTED_PATCH = "expected patch"
SECTION_REJECTED_PATCH = "rejected patch"
SECTION_REASONING = "reasoning"
SECTIONS = (
    SECTION_REASONING,
    SECTION_UNCOMMITTED_DIFF,
    SECTION_RECENTLY_OPENED,
    SECTION_RECENTLY_VIEWED,
    SECTION_EDIT_HISTORY,
    SECTION_CURSOR_POSITION,
    SECTION_EXPECTED_PATCH,
    SECTION_REJECTED_PATCH,
)
# front-matter key -> the type its value must have
FRONT_MATTER_KEYS: dict[str, type] = {
    "repository_url": str,
    "revision": str,
    "tags": list,
    "uncommitted_diff_requires_edit_history_rollback": bool,
}


class MarkdownError(ValueError):
    """A malformed eval case. ``str(e)`` is ``"{path}:{line}: {what}"`` (line is 1-based)."""

    def __init__(self, path: str | None, line: int, what: str):
        self.path = path or "<markdown>"
        self.line = line
        self.what = what
        super().__init__(f"{self.path}:{line}: {what}")


class CursorMarkerError(ValueError):
    """A cursor excerpt without a usable cursor marker."""


# ---------------------------------------------------------------------------------------------------------
# Block scanner: text -> list of blocks (headings, paragraphs, fenced code), with 1-based line numbers.


@dataclass
class _Block:
    kind: str  # "heading" | "paragraph" | "code" | "indented_code" | "break"
    line: int  # 1-based line where the block starts
    text: str = ""  # heading text, paragraph text (lines stripped, joined by \n) or code content
    level: int = 0  # heading level
    info: str = ""  # code block info string
    end_line: int = 0  # 1-based line after the block (exclusive)


_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_BREAK = re.compile(r"^ {0,3}((\*[ \t]*){3,}|(-[ \t]*){3,}|(_[ \t]*){3,})$")
_LIST_ITEM = re.compile(r"^ {0,3}([-+*]|\d{1,9}[.)])([ \t]|$)")


def _indent_width(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def _strip_fence_indent(line: str, n: int) -> str:
    """Remove up to ``n`` leading spaces (CommonMark: content lines lose the opening fence's indent)."""
    i = 0
    while i < n and i < len(line) and line[i] == " ":
        i += 1
    return line[i:]


def _scan(text: str) -> list[_Block]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # text ended with \n: no extra empty line
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    blocks: list[_Block] = []
    para: list[str] = []
    para_line = 0
    in_list = False  # inside a list item: indented lines are continuation, not code

    def flush_para(end: int) -> None:
        nonlocal para
        if para:
            blocks.append(_Block("paragraph", para_line, "\n".join(s.strip() for s in para), end_line=end))
            para = []

    i = 0
    while i < len(lines):
        line = lines[i]
        n = i + 1
        if not line.strip():
            flush_para(n)
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence and not (fence.group(2)[0] == "`" and "`" in fence.group(3)):
            flush_para(n)
            indent, marker, info = len(fence.group(1)), fence.group(2), fence.group(3).strip()
            close = re.compile("^ {0,3}" + re.escape(marker[0]) + "{" + str(len(marker)) + r",}[ \t]*$")
            content: list[str] = []
            j = i + 1
            while j < len(lines) and not close.match(lines[j]):
                content.append(_strip_fence_indent(lines[j], indent))
                j += 1
            body = "".join(c + "\n" for c in content)
            blocks.append(_Block("code", n, body, info=info, end_line=j + 2))
            in_list = False
            i = j + 1  # skip the closing fence (or run to the end: CommonMark closes at end of document)
            continue
        atx = _ATX.match(line)
        if atx:
            flush_para(n)
            blocks.append(
                _Block("heading", n, (atx.group(2) or "").strip(), level=len(atx.group(1)), end_line=n + 1)
            )
            in_list = False
            i += 1
            continue
        if para and _SETEXT.match(line):
            level = 1 if line.strip()[0] == "=" else 2
            blocks.append(
                _Block("heading", para_line, " ".join(s.strip() for s in para), level=level, end_line=n + 1)
            )
            para = []
            i += 1
            continue
        if _BREAK.match(line):
            flush_para(n)
            blocks.append(_Block("break", n, end_line=n + 1))
            in_list = False
            i += 1
            continue
        if _indent_width(line) >= 4 and not para and not in_list:
            blocks.append(_Block("indented_code", n, line, end_line=n + 1))
            i += 1
            continue
        if _LIST_ITEM.match(line):
            flush_para(n)
            in_list = True
        elif not para and _indent_width(line) == 0:
            in_list = False  # a paragraph at column 0 after a blank line ends any list
        if not para:
            para_line = n
        para.append(line)
        i += 1
    flush_para(len(lines) + 1)
    return blocks


# ---------------------------------------------------------------------------------------------------------
# Parser


_TOML_LINE = re.compile(r"at line (\d+)")
_TOML_KEY = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*[=.]""")


def _key_lines(toml_lines: list[str]) -> dict[str, int]:
    """Top-level key -> 1-based line in the file (front matter starts at line 1 with ``+++``)."""
    out: dict[str, int] = {}
    for k, line in enumerate(toml_lines):
        m = _TOML_KEY.match(line)
        if m:
            out.setdefault(next(g for g in m.groups() if g is not None), k + 2)
    return out


def _front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Split ``+++`` TOML front matter off. Returns (data, rest of text, number of lines consumed).

    Raises :class:`MarkdownError` (path unset) for invalid TOML, an unknown key or a wrong type."""
    if not (text.startswith("+++\n") or text.startswith("+++\r\n") or text == "+++"):
        return {}, text, 0
    lines = text.split("\n")
    for k in range(1, len(lines)):
        if lines[k].rstrip("\r") == "+++":
            toml_lines = lines[1:k]
            try:
                data = tomllib.loads("\n".join(toml_lines))
            except tomllib.TOMLDecodeError as e:
                m = _TOML_LINE.search(str(e))
                raise MarkdownError(None, int(m.group(1)) + 1 if m else 2, f"front matter: {e}") from None
            where = _key_lines(toml_lines)
            for key, value in data.items():
                want = FRONT_MATTER_KEYS.get(key)
                line = where.get(key, 2)
                if want is None:
                    known = ", ".join(FRONT_MATTER_KEYS)
                    hint = _did_you_mean(key, FRONT_MATTER_KEYS)
                    raise MarkdownError(
                        None, line, f"unknown front-matter key {key!r}{hint} (known: {known})"
                    )
                bad_list = want is list and not all(isinstance(t, str) for t in value)
                if not isinstance(value, want) or bad_list:
                    kind = "a list of strings" if want is list else want.__name__
                    raise MarkdownError(None, line, f"front-matter {key} must be {kind}, not {value!r}")
            return data, "\n".join(lines[k + 1 :]), k + 1
    raise MarkdownError(None, 1, "front matter '+++' is never closed")


def _did_you_mean(word: str, choices) -> str:  # noqa: ANN001
    import difflib

    close = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# Things that look like a cursor marker; anything matched that is not exactly a marker is a typo.
_MARKER_LIKE = re.compile(
    r"<\|[^|\n]{0,40}?(?i:curs|user)[^|\n]{0,40}?\|>"
    r"|\[[ _A-Z]{0,40}?CURS[ _A-Z]{0,40}\]"
    r"|\[C[A-Z]{3,7}_POSI[A-Z]*\]"
    r"|\[\s*(?i:cursor)[\s_-]*(?i:pos\w*)\s*\]"
)


def _check_markers(path: str | None, content: str, first_line: int, section: str) -> int:
    """Raise on a misspelled cursor marker in a code block whose content starts at ``first_line``;
    return the number of real markers."""
    found = 0
    for k, line in enumerate(content.split("\n")):
        for m in _MARKER_LIKE.finditer(line):
            if m.group(0) in (INLINE_CURSOR_MARKER, CURSOR_POSITION_MARKER):
                found += 1
                continue
            raise MarkdownError(
                path,
                first_line + k,
                f"misspelled cursor marker {m.group(0)!r} in {section} (write {INLINE_CURSOR_MARKER}, "
                f"^{CURSOR_POSITION_MARKER} or <{CURSOR_POSITION_MARKER})",
            )
    return found


def _recent_files(body: str, first_line: int, path: str | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for k, raw in enumerate(body.split("\n")):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        file_path, tab, offset = line.partition("\t")
        entry: dict[str, Any] = {"path": file_path.strip(), "cursor_position": None}
        if tab and offset.strip():
            try:
                entry["cursor_position"] = int(offset.strip())
            except ValueError:
                raise MarkdownError(
                    path, first_line + 1 + k, f"cursor offset {offset.strip()!r} is not an integer"
                ) from None
        out.append(entry)
    return out


def parse_markdown(text: str, path: str | None = None) -> Example:
    """Parse one eval case (zeta.md §4.2) into an :class:`Example` (``name`` stays "" without an H1).

    Raises :class:`MarkdownError` naming ``path`` and the 1-based line of the problem.
    """
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors add
    try:
        meta, body, skipped = _front_matter(text)
    except MarkdownError as e:
        raise MarkdownError(path, e.line, e.what) from None
    blocks = _scan(body)
    lines = body.split("\n")
    fields: dict[str, Any] = {}
    tags = meta.get("tags")
    if isinstance(meta.get("repository_url"), str):
        fields["repository_url"] = meta["repository_url"]
    if isinstance(meta.get("revision"), str):
        fields["revision"] = meta["revision"]
    if isinstance(tags, list):
        fields["tags"] = [str(t) for t in tags]
    rollback = meta.get("uncommitted_diff_requires_edit_history_rollback")
    if isinstance(rollback, bool):
        fields["uncommitted_diff_contains_edit_history"] = rollback

    section: str | None = None
    section_line = 0
    cursor_heading_line: int | None = None
    edit_history: list[str] = []
    expected: list[str] = []
    have_cursor = False
    reasoning_start: int | None = None
    reasoning_end: int | None = None

    def at(b: _Block) -> int:
        return b.line + skipped

    for idx, b in enumerate(blocks):
        if b.kind == "heading":
            if b.level >= 5:
                raise MarkdownError(path, at(b), f"H{b.level} headings are not allowed in an eval case")
            if b.level > 2:
                continue  # H3/H4: allowed, ignored
            if section == SECTION_REASONING and reasoning_end is None:
                reasoning_end = b.line - 1
            if b.level == 1:
                fields["name"] = b.text
                section = None
                continue
            section, section_line = b.text.strip().lower(), at(b)
            if section not in SECTIONS:
                known = ", ".join(f"'## {name.title()}'" for name in SECTIONS)
                hint = _did_you_mean(section, SECTIONS)
                raise MarkdownError(
                    path, section_line, f"unknown section '## {b.text}'{hint} (known: {known})"
                )
            if section == SECTION_CURSOR_POSITION and cursor_heading_line is None:
                cursor_heading_line = section_line
            if section == SECTION_REASONING:
                reasoning_start, reasoning_end = b.end_line - 1, None
            continue
        if b.kind == "indented_code":
            raise MarkdownError(path, at(b), "indented code blocks are not allowed; use a fenced ``` block")
        if b.kind != "code":
            continue
        if section == SECTION_UNCOMMITTED_DIFF:
            fields["uncommitted_diff"] = b.text
        elif section in (SECTION_RECENTLY_OPENED, SECTION_RECENTLY_VIEWED):
            key = "recently_opened_files" if section == SECTION_RECENTLY_OPENED else "recently_viewed_files"
            fields[key] = _recent_files(b.text, at(b), path)
        elif section == SECTION_EDIT_HISTORY:
            prev = blocks[idx - 1] if idx > 0 else None
            accepted = (
                prev is not None
                and prev.kind == "paragraph"
                and prev.text.strip() == ACCEPTED_PREDICTION_MARKER
            )
            edit_history.append((ACCEPTED_PREDICTION_MARKER + "\n" if accepted else "") + b.text)
        elif section == SECTION_CURSOR_POSITION:
            if have_cursor:
                raise MarkdownError(path, at(b), "a second Cursor Position block (one per case)")
            markers = _check_markers(path, b.text, at(b) + 1, "the Cursor Position block")
            if markers != 1:
                what = "no cursor marker" if markers == 0 else f"{markers} cursor markers"
                raise MarkdownError(
                    path,
                    at(b),
                    f"{what} in the Cursor Position block (exactly one of {INLINE_CURSOR_MARKER}, "
                    f"^{CURSOR_POSITION_MARKER} or <{CURSOR_POSITION_MARKER})",
                )
            fields["cursor_path"] = b.info
            fields["cursor_position"] = b.text
            have_cursor = True
        elif section == SECTION_EXPECTED_PATCH:
            _check_markers(path, b.text, at(b) + 1, "an Expected Patch block")
            expected.append(b.text)
        elif section == SECTION_REJECTED_PATCH:
            fields["rejected_patch"] = b.text

    if not have_cursor:
        line = cursor_heading_line or (skipped + len(lines))
        raise MarkdownError(path, max(line, 1), "Missing cursor position codeblock")
    if reasoning_start is not None:
        end = reasoning_end if reasoning_end is not None else len(lines)
        reasoning = "\n".join(lines[reasoning_start:end]).strip()
        if reasoning:
            fields["reasoning"] = reasoning
    fields["edit_history"] = "".join(edit_history)
    fields["expected_patches"] = expected
    return Example(**fields)


# ---------------------------------------------------------------------------------------------------------
# Cursor markers (§4.3)

_COMMENT_PREFIXES: dict[str, str] = {}
for _prefix, _exts in {
    "//": "rs c cc cpp cxx h hh hpp hxx m mm js jsx mjs cjs ts tsx mts cts go java swift kt kts cs scala sc "
    "dart zig groovy gradle proto php v sv glsl hlsl wgsl sol fs fsx json5 jsonc",
    "#": "py pyi pyw rb sh bash zsh fish yaml yml toml r pl pm tcl cmake mk make nix ex exs cr jl ps1 "
    "conf ini cfg dockerfile gitignore tf hcl nim coffee awk sed",
    "--": "lua hs lhs sql elm ada adb ads purs",
    ";": "lisp lsp clj cljs cljc edn el scm ss rkt asm s fnl",
    "%": "erl hrl tex sty cls m4 pro",
}.items():
    for _ext in _exts.split():
        _COMMENT_PREFIXES[_ext] = _prefix
_NAME_PREFIXES = {"makefile": "#", "dockerfile": "#", "cmakelists.txt": "#", "gemfile": "#", "rakefile": "#"}
DEFAULT_COMMENT_PREFIX = "//"


def comment_prefix(cursor_path: str) -> str:
    """Line-comment prefix for a file, chosen by its extension (``//`` when unknown)."""
    name = PurePosixPath(cursor_path.replace("\\", "/")).name.lower()
    if name in _NAME_PREFIXES:
        return _NAME_PREFIXES[name]
    ext = name.rsplit(".", 1)[1] if "." in name else ""
    return _COMMENT_PREFIXES.get(ext, DEFAULT_COMMENT_PREFIX)


def cursor_excerpt(cursor_position: str, cursor_path: str = "") -> tuple[str, int]:
    """Remove the cursor marker from a Cursor Position block: ``(excerpt, cursor byte offset)``.

    Forms (§4.3), tried in order: inline ``<|user_cursor|>``; a marker line below the cursor line with
    ``^[CURSOR_POSITION]`` (column = byte index of ``^``) or ``<[CURSOR_POSITION]`` (column = index of
    the line's first non-blank byte), after which trailing newlines are trimmed; and production's
    inline ``[CURSOR_POSITION]``. The offset is clamped to the excerpt's length. ``cursor_path`` is
    accepted for symmetry with :func:`format_cursor_excerpt` (the parse does not depend on it).
    """
    data = cursor_position.encode("utf-8")
    inline = data.find(INLINE_CURSOR_MARKER.encode())
    if inline >= 0:
        out = data[:inline] + data[inline + len(INLINE_CURSOR_MARKER) :]
        return out.decode("utf-8"), inline
    marker = data.find(CURSOR_POSITION_MARKER.encode())
    if marker < 0:
        raise CursorMarkerError(
            f"{cursor_path or 'cursor position'}: no cursor marker "
            f"({INLINE_CURSOR_MARKER}, ^{CURSOR_POSITION_MARKER} or <{CURSOR_POSITION_MARKER})"
        )
    before = data[marker - 1 : marker] if marker > 0 else b""
    if before not in (b"^", b"<"):
        # production form: the marker sits inline where the cursor is
        out = data[:marker] + data[marker + len(CURSOR_POSITION_MARKER) :]
        return out.decode("utf-8"), marker
    line_start = data.rfind(b"\n", 0, marker) + 1
    nl = data.find(b"\n", marker)
    line_end = len(data) if nl < 0 else nl + 1
    marker_line = data[line_start:line_end].rstrip(b"\r\n")
    if before == b"^":
        column = marker - 1 - line_start
    else:
        column = len(marker_line) - len(marker_line.lstrip())
    if line_start == 0:
        raise CursorMarkerError(
            f"{cursor_path or 'cursor position'}: the cursor marker line has no line above it"
        )
    excerpt = data[:line_start] + data[line_end:]
    excerpt = excerpt.rstrip(b"\n")
    cursor_line_start = data.rfind(b"\n", 0, line_start - 1) + 1
    offset = min(cursor_line_start + column, len(excerpt))
    return excerpt.decode("utf-8"), offset


def format_cursor_excerpt(excerpt: str, cursor_offset: int, cursor_path: str) -> str:
    """Write ``excerpt`` with a marker line below the cursor line (Zed's ``format_cursor_excerpt``).

    ``cursor_offset`` is a UTF-8 byte offset into ``excerpt``. The result ends with ``\\n``; reading it
    back with :func:`cursor_excerpt` gives the excerpt (trailing newlines trimmed) and the same offset.
    """
    data = excerpt.encode("utf-8")
    if not 0 <= cursor_offset <= len(data):
        raise ValueError(f"cursor offset {cursor_offset} outside the excerpt (0..{len(data)} bytes)")
    prefix = comment_prefix(cursor_path).encode()
    line_start = data.rfind(b"\n", 0, cursor_offset) + 1
    nl = data.find(b"\n", cursor_offset)
    line_end = len(data) if nl < 0 else nl
    col = cursor_offset - line_start
    line = data[line_start:line_end]
    if col < len(prefix):
        marker = b" " * col + prefix + b" <" + CURSOR_POSITION_MARKER.encode()
    else:
        indent = line[: len(line) - len(line.lstrip(b" \t"))]
        head = indent + prefix if col >= len(indent) + len(prefix) else prefix
        marker = head + b" " * (col - len(head)) + b"^" + CURSOR_POSITION_MARKER.encode()
    out = data[:line_end] + b"\n" + marker + b"\n" + data[line_end + 1 :]
    if not out.endswith(b"\n"):
        out += b"\n"
    return out.decode("utf-8")


# ---------------------------------------------------------------------------------------------------------
# Writer


def _fence(content: str, info: str = "") -> str:
    """A fenced block around ``content`` whose fence is longer than any run of its character inside."""
    char = "~" if "`" in info else "`"
    longest = max((len(m) for m in re.findall(re.escape(char) + "+", content)), default=0)
    fence = char * max(3, longest + 1)
    body = content if content.endswith("\n") or not content else content + "\n"
    return f"{fence}{info}\n{body}{fence}\n"


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _split_edit_history(history: str) -> list[tuple[bool, str]]:
    """Split ``edit_history`` into (accepted_prediction, diff) blocks at marker lines."""
    parts: list[tuple[bool, str]] = []
    accepted, current = False, []
    for line in history.splitlines(keepends=True):
        if line.rstrip("\r\n") == ACCEPTED_PREDICTION_MARKER:
            if current or accepted:
                parts.append((accepted, "".join(current)))
            accepted, current = True, []
        else:
            current.append(line)
    if current or accepted:
        parts.append((accepted, "".join(current)))
    return parts


def _recent_files_block(entries: list[dict[str, Any]]) -> str:
    lines = []
    for e in entries:
        pos = e.get("cursor_position")
        lines.append(f"{e.get('path', '')}\t{pos}" if pos is not None else str(e.get("path", "")))
    return "".join(x + "\n" for x in lines)


def example_to_markdown(ex: Example) -> str:
    """Render an example as an eval case in Zed's writer order (§4.2); inverse of :func:`parse_markdown`."""
    out: list[str] = []
    front: list[str] = []
    if ex.repository_url:
        front.append(f"repository_url = {_toml_str(ex.repository_url)}")
    if ex.revision:
        front.append(f"revision = {_toml_str(ex.revision)}")
    if ex.tags:
        front.append("tags = [" + ", ".join(_toml_str(t) for t in ex.tags) + "]")
    if ex.uncommitted_diff_contains_edit_history is not None:
        value = "true" if ex.uncommitted_diff_contains_edit_history else "false"
        front.append(f"uncommitted_diff_requires_edit_history_rollback = {value}")
    if front:
        out.append("+++\n" + "\n".join(front) + "\n+++\n")
    if ex.name:
        out.append(f"# {ex.name}\n")
    if ex.reasoning:
        out.append(f"## Reasoning\n\n{ex.reasoning.strip()}\n")
    if ex.uncommitted_diff:
        out.append("## Uncommitted Diff\n\n" + _fence(ex.uncommitted_diff, "diff"))
    if ex.recently_opened_files is not None:
        out.append("## Recently Opened Files\n\n" + _fence(_recent_files_block(ex.recently_opened_files)))
    if ex.recently_viewed_files is not None:
        out.append("## Recently Viewed Files\n\n" + _fence(_recent_files_block(ex.recently_viewed_files)))
    history = ["## Edit History\n"]
    parts = _split_edit_history(ex.edit_history)
    if not parts:
        history.append(NO_EDIT_HISTORY + "\n")
    for accepted, diff in parts:
        if accepted:
            history.append(ACCEPTED_PREDICTION_MARKER + "\n")
        history.append(_fence(diff, "diff"))
    out.append("\n".join(history))
    out.append("## Cursor Position\n\n" + _fence(ex.cursor_position, ex.cursor_path))
    if ex.expected_patches:
        out.append("## Expected Patch\n\n" + "\n".join(_fence(p, "diff") for p in ex.expected_patches))
    if ex.rejected_patch is not None:
        out.append("## Rejected Patch\n\n" + _fence(ex.rejected_patch, "diff"))
    return "\n".join(out)
