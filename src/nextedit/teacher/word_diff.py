"""Word-diff rendering of a unified diff (§3.6), what the judge and the repair prompt read.

Header lines (``---``, ``+++``, ``@@``, ``diff``, ``//`` comments) and context lines are kept as they
are. Each run of ``-`` lines followed by ``+`` lines is rendered as the new lines with the changed
token runs marked: ``[-deleted-]`` and ``{+inserted+}`` (tokens of :func:`nextedit.text.tokenize.tokenize`,
compared with :class:`difflib.SequenceMatcher`). A pure deletion or insertion is one marked run.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from nextedit.text.tokenize import tokenize

HEADERS = ("--- ", "+++ ", "@@", "diff ", "index ", "//", "\\")


def word_diff_text(old: str, new: str) -> str:
    """``new`` with the token runs that differ from ``old`` marked (``[-…-]``, ``{+…+}``)."""
    a, b = tokenize(old), tokenize(new)
    out: list[str] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append("".join(a[i1:i2]))
            continue
        if i2 > i1:
            out.append(_marked("[-", "".join(a[i1:i2]), "-]"))
        if j2 > j1:
            out.append(_marked("{+", "".join(b[j1:j2]), "+}"))
    return "".join(out)


def _marked(open_: str, text: str, close: str) -> str:
    """``text`` marked, a trailing newline kept outside the marks (so lines stay lines)."""
    body = text.rstrip("\n")
    return f"{open_}{body}{close}{text[len(body) :]}" if body else text


def word_diff(patch: str) -> str:
    """The word-diff rendering of unified diff ``patch`` (module doc)."""
    out: list[str] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        if removed or added:
            old = "".join(line + "\n" for line in removed)
            new = "".join(line + "\n" for line in added)
            out.extend(word_diff_text(old, new).rstrip("\n").split("\n"))
            removed.clear()
            added.clear()

    for line in patch.splitlines():
        if line.startswith(HEADERS):
            flush()
            out.append(line)
        elif line.startswith("-"):
            if added:
                flush()
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
        else:
            flush()
            out.append(line[1:] if line.startswith(" ") else line)
    flush()
    return "\n".join(out) + ("\n" if out else "")
