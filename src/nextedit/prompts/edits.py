"""From a new editable region to minimal editor edits (zeta.md §2.10 ``compute_edits_and_cursor_position``).

Edits come from H2's :func:`nextedit.text.diff.granular_edits` (histogram line diff, token re-diff of
small hunks, common prefix/suffix trimmed) and are returned in UTF-8 **byte** offsets, shifted by
``offset`` (the region's position in the buffer or excerpt).
"""

from __future__ import annotations

from dataclasses import dataclass

from nextedit.text.diff import granular_edits


@dataclass(frozen=True)
class Edit:
    """Replace bytes ``[start, end)`` of the old text with ``new_text``."""

    start: int
    end: int
    new_text: str


@dataclass(frozen=True)
class MappedCursor:
    """The predicted cursor. ``anchor`` is a byte offset in the *old* text (an editor anchor);
    ``offset_in_insertion`` is how many bytes into the text inserted at ``anchor`` it sits (0 if
    outside every edit); ``new_offset`` is the byte offset in the new text."""

    anchor: int
    offset_in_insertion: int
    new_offset: int


def compute_edits(
    old: str, new: str, cursor: int | None = None, offset: int = 0
) -> tuple[list[Edit], MappedCursor | None]:
    """Minimal edits turning ``old`` into ``new`` and the cursor (a byte offset in ``new``) mapped
    through them. All returned offsets are bytes plus ``offset``."""
    text_edits = granular_edits(old, new)
    edits: list[Edit] = []
    char_pos = byte_pos = 0
    for te in text_edits:
        byte_pos += len(old[char_pos : te.old_start].encode())
        start = byte_pos
        byte_pos += len(old[te.old_start : te.old_end].encode())
        char_pos = te.old_end
        edits.append(Edit(start + offset, byte_pos + offset, te.new_text))
    mapped = None if cursor is None else map_cursor(edits, cursor + offset)
    return edits, mapped


def map_cursor(edits: list[Edit], new_cursor: int) -> MappedCursor:
    """Map a byte offset in the new text back to an anchor in the old text (edits sorted)."""
    delta = 0
    for e in edits:
        new_start = e.start + delta
        new_len = len(e.new_text.encode())
        if new_cursor < new_start:
            break
        if new_cursor <= new_start + new_len:
            return MappedCursor(
                anchor=e.start, offset_in_insertion=new_cursor - new_start, new_offset=new_cursor
            )
        delta += new_len - (e.end - e.start)
    return MappedCursor(anchor=new_cursor - delta, offset_in_insertion=0, new_offset=new_cursor)


def compute_edits_and_cursor_position(
    old: str, new: str, offset: int = 0, cursor: int | None = None
) -> tuple[list[Edit], MappedCursor | None]:
    """Zed's argument order (old, new, offset, cursor); see :func:`compute_edits`."""
    return compute_edits(old, new, cursor, offset)


def prediction_edits(
    excerpt: str, editable_range: tuple[int, int], output: str, cursor_offset: int | None = None
) -> tuple[list[Edit], MappedCursor | None]:
    """What a Zed client does with a ``/predict_edits/v3`` response (§1.3): the old region is
    ``excerpt[editable_range]`` (bytes); both old and a non-empty ``output`` get a trailing ``\\n``
    if missing; edits are in byte offsets of ``excerpt``; ``cursor_offset`` is bytes in ``output``."""
    s, e = editable_range
    old = excerpt.encode()[s:e].decode()
    if output and not output.endswith("\n"):
        output += "\n"
    if not old.endswith("\n"):
        old += "\n"
    return compute_edits(old, output, cursor_offset, offset=s)


def apply_byte_edits(text: str, edits: list[Edit]) -> str:
    """Apply sorted, non-overlapping byte-offset edits to ``text``."""
    data = text.encode()
    out: list[bytes] = []
    pos = 0
    for e in edits:
        if e.start < pos or e.end < e.start or e.end > len(data):
            raise ValueError(f"edit {e} overlaps a previous one or is out of range ({len(data)} bytes)")
        out += [data[pos : e.start], e.new_text.encode()]
        pos = e.end
    out.append(data[pos:])
    return b"".join(out).decode()
