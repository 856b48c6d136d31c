"""What kind of edit an expected patch is: the ``kind:`` tag of real-commit examples.

:func:`edit_kind` reads the ``-``/``+`` lines of a unified diff (every hunk, every file) and
answers one of :data:`EDIT_KINDS`, tested in this order (real-commit examples classify the part of
the expected patch in the cursor file, :func:`file_sections`: what a scorer compares):

* ``no-edit`` — the patch changes nothing;
* ``whitespace`` — it changes only whitespace (re-indentation: delta chrF, which collapses
  whitespace, scores "no edit" as perfect there);
* ``deletion`` — lines removed, none added;
* ``insertion`` — lines added, none removed;
* ``completion`` — the removed text survives in order inside the added text (only insertions
  at token level: a half-typed line finished, an argument appended);
* ``rename`` — at token level every change replaces one identifier by another, with one
  consistent mapping (``qty`` → ``quantity`` everywhere in the patch);
* ``modification`` — anything else.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from nextedit.text.tokenize import tokenize

EDIT_KINDS = ("rename", "completion", "insertion", "deletion", "modification", "whitespace", "no-edit")


def _changed_lines(patch: str) -> tuple[list[str], list[str]]:
    removed: list[str] = []
    added: list[str] = []
    for line in patch.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
    return removed, added


def file_sections(patch: str, path: str) -> str:
    """The per-file sections of a unified diff (``--- a/p`` / ``+++ b/p`` then hunks) whose new
    path is ``path``, concatenated; ``""`` when the patch does not touch that file."""
    out: list[str] = []
    keep = False
    lines = patch.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            new = lines[i + 1][4:].rstrip("\r\n")
            keep = new.removeprefix("b/") == path
        if keep:
            out.append(line)
    return "".join(out)


def _is_identifier(token: str) -> bool:
    return token.isidentifier()


def edit_kind(patch: str) -> str:
    """The kind of the edit ``patch`` makes (see module doc)."""
    removed, added = _changed_lines(patch)
    if removed == added:
        return "no-edit"
    if "".join("".join(removed).split()) == "".join("".join(added).split()):
        return "whitespace"
    if not added:
        return "deletion"
    if not removed:
        return "insertion"
    old, new = tokenize("\n".join(removed)), tokenize("\n".join(added))
    ops = [op for op in SequenceMatcher(None, old, new, autojunk=False).get_opcodes() if op[0] != "equal"]
    if all(tag == "insert" for tag, *_ in ops):
        return "completion"
    mapping: dict[str, str] = {}
    for tag, a0, a1, b0, b1 in ops:
        if tag != "replace" or a1 - a0 != 1 or b1 - b0 != 1:
            return "modification"
        a, b = old[a0], new[b0]
        if not (_is_identifier(a) and _is_identifier(b)) or mapping.setdefault(a, b) != b:
            return "modification"
    return "rename"
