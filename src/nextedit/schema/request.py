"""The editor request: Zed's ``Zeta2PromptInput`` (body of ``POST /predict_edits/v3``, zeta.md §1.3).

All ranges are UTF-8 **byte** offsets (``{"start": a, "end": b}`` in JSON); rows are 0-based.
``cursor_offset_in_excerpt`` and ``excerpt_ranges`` are offsets into ``cursor_excerpt``'s bytes.

JSON produced by Zed parses unchanged (unknown keys are kept) and :meth:`Zeta2PromptInput.to_zed_json`
emits what Zed emits: every known field, except ``excerpt_start_row``/``repo_url``/``syntax_ranges``
when null and ``active_buffer_diagnostics`` when empty; unknown keys are written back as they came.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Keys of ``excerpt_ranges`` and their (editable, context) token budgets (§2.2).
EXCERPT_RANGE_BUDGETS: dict[str, tuple[int, int]] = {
    "editable_150": (150, 350),
    "editable_180": (180, 350),
    "editable_350": (350, 150),
    "editable_512": (512, 0),
    "editable_150_context_350": (150, 350),
    "editable_180_context_350": (180, 350),
    "editable_350_context_150": (350, 150),
    "editable_350_context_512": (350, 512),
    "editable_350_context_1024": (350, 1024),
    "context_4096": (350, 4096),
    "context_8192": (350, 8192),
}


class _Open(BaseModel):
    """Keeps unknown keys (newer Zed versions) and serialises them back."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def _extra_json(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


class ByteRange(_Open):
    """Half-open byte range ``[start, end)``."""

    start: int = 0
    end: int = 0

    @classmethod
    def of(cls, start: int, end: int) -> ByteRange:
        return cls(start=start, end=end)

    def as_tuple(self) -> tuple[int, int]:
        return (self.start, self.end)

    def __len__(self) -> int:
        return self.end - self.start

    def to_zed_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, **self._extra_json()}


class Event(_Open):
    """One edit-history entry. Zed serialises ``enum Event`` tagged by ``"event"``; only
    ``"BufferChange"`` exists. ``diff`` is hunks only (``@@`` headers, 3 context lines, no
    ``---``/``+++`` lines). ``old_range``/``new_range`` are byte offsets in the buffer."""

    event: Literal["BufferChange"] = "BufferChange"
    path: str = ""
    old_path: str = ""
    diff: str = ""
    old_range: ByteRange = Field(default_factory=ByteRange)
    new_range: ByteRange = Field(default_factory=ByteRange)
    predicted: bool = False
    in_open_source_repo: bool = False

    def to_zed_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "path": self.path,
            "old_path": self.old_path,
            "diff": self.diff,
            "old_range": self.old_range.to_zed_json(),
            "new_range": self.new_range.to_zed_json(),
            "predicted": self.predicted,
            "in_open_source_repo": self.in_open_source_repo,
            **self._extra_json(),
        }


class RelatedExcerpt(_Open):
    """A slice of a related file: rows ``row_range`` (end exclusive) with their text."""

    row_range: ByteRange = Field(default_factory=ByteRange)
    text: str = ""
    order: int = 0
    context_source: str | None = None

    def to_zed_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "row_range": self.row_range.to_zed_json(),
            "text": self.text,
            "order": self.order,
        }
        if self.context_source is not None:
            out["context_source"] = self.context_source
        out.update(self._extra_json())
        return out


class RelatedFile(_Open):
    """A file with excerpts shown to the model as context (LSP definitions, BM25 hits, ...)."""

    path: str = ""
    max_row: int = 0
    in_open_source_repo: bool = False
    excerpts: list[RelatedExcerpt] = Field(default_factory=list)

    def to_zed_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "max_row": self.max_row,
            "in_open_source_repo": self.in_open_source_repo,
            "excerpts": [e.to_zed_json() for e in self.excerpts],
            **self._extra_json(),
        }


class Diagnostic(_Open):
    """An active-buffer diagnostic. ``severity``: 1 error, 2 warning, 3 info, 4 hint.
    ``diagnostic_range_in_snippet`` is a byte range in ``snippet``."""

    severity: int = 1
    message: str = ""
    snippet: str = ""
    snippet_buffer_row_range: ByteRange = Field(default_factory=ByteRange)
    diagnostic_range_in_snippet: ByteRange = Field(default_factory=ByteRange)

    def to_zed_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "message": self.message,
            "snippet": self.snippet,
            "snippet_buffer_row_range": self.snippet_buffer_row_range.to_zed_json(),
            "diagnostic_range_in_snippet": self.diagnostic_range_in_snippet.to_zed_json(),
            **self._extra_json(),
        }


class ExcerptRanges(_Open):
    """Pre-computed byte ranges inside ``cursor_excerpt`` (§2.2). ``editable_*`` keys hold the
    editable range, ``*_context_*``/``context_*`` keys the context range of that budget pair.
    Missing keys are ``None`` and are not serialised."""

    editable_150: ByteRange | None = None
    editable_180: ByteRange | None = None
    editable_350: ByteRange | None = None
    editable_512: ByteRange | None = None
    editable_150_context_350: ByteRange | None = None
    editable_180_context_350: ByteRange | None = None
    editable_350_context_150: ByteRange | None = None
    editable_350_context_512: ByteRange | None = None
    editable_350_context_1024: ByteRange | None = None
    context_4096: ByteRange | None = None
    context_8192: ByteRange | None = None

    def items(self) -> list[tuple[str, ByteRange]]:
        return [(k, getattr(self, k)) for k in EXCERPT_RANGE_BUDGETS if getattr(self, k) is not None]

    def to_zed_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: r.to_zed_json() for k, r in self.items()}
        out.update(self._extra_json())
        return out


class Zeta2PromptInput(_Open):
    """The request Zed sends to ``/predict_edits/v3`` (and the ``prompt_inputs`` of an Example)."""

    cursor_path: str = ""
    cursor_excerpt: str = ""
    cursor_offset_in_excerpt: int = 0
    excerpt_start_row: int | None = None
    events: list[Event] = Field(default_factory=list)
    related_files: list[RelatedFile] | None = None
    active_buffer_diagnostics: list[Diagnostic] = Field(default_factory=list)
    excerpt_ranges: ExcerptRanges = Field(default_factory=ExcerptRanges)
    syntax_ranges: list[ByteRange] | None = None
    in_open_source_repo: bool = False
    can_collect_data: bool = False
    repo_url: str | None = None

    # ------------------------------------------------------------------ serialisation
    @classmethod
    def from_json(cls, data: str | bytes | dict[str, Any]) -> Zeta2PromptInput:
        """Parse a JSON string/bytes or an already-decoded dict."""
        if isinstance(data, dict):
            return cls.model_validate(data)
        return cls.model_validate_json(data)

    def to_zed_json(self) -> dict[str, Any]:
        """A dict shaped exactly like Zed's serde output (see module docstring)."""
        out: dict[str, Any] = {
            "cursor_path": self.cursor_path,
            "cursor_excerpt": self.cursor_excerpt,
            "cursor_offset_in_excerpt": self.cursor_offset_in_excerpt,
        }
        if self.excerpt_start_row is not None:
            out["excerpt_start_row"] = self.excerpt_start_row
        out["events"] = [e.to_zed_json() for e in self.events]
        out["related_files"] = (
            None if self.related_files is None else [f.to_zed_json() for f in self.related_files]
        )
        if self.active_buffer_diagnostics:
            out["active_buffer_diagnostics"] = [d.to_zed_json() for d in self.active_buffer_diagnostics]
        out["excerpt_ranges"] = self.excerpt_ranges.to_zed_json()
        if self.syntax_ranges is not None:
            out["syntax_ranges"] = [r.to_zed_json() for r in self.syntax_ranges]
        out["in_open_source_repo"] = self.in_open_source_repo
        out["can_collect_data"] = self.can_collect_data
        if self.repo_url is not None:
            out["repo_url"] = self.repo_url
        out.update(self._extra_json())
        return out

    # ------------------------------------------------------------------ bytes
    def excerpt_bytes(self) -> bytes:
        """``cursor_excerpt`` as UTF-8 bytes (the coordinate system of every offset)."""
        return self.cursor_excerpt.encode("utf-8")

    def slice_excerpt(self, start: int, end: int | None = None) -> str:
        """Text of ``cursor_excerpt[start:end]`` in **bytes**; raises ValueError off a char boundary."""
        return slice_bytes(self.excerpt_bytes(), start, end)

    def slice_range(self, r: ByteRange) -> str:
        return self.slice_excerpt(r.start, r.end)

    # ------------------------------------------------------------------ validation
    def validate_offsets(self) -> None:
        """Raise ValueError (message names the field) if the cursor offset or an excerpt range
        lies outside ``cursor_excerpt`` or not on a UTF-8 character boundary, or a range is reversed.
        ``syntax_ranges`` are only checked for ``start <= end`` (outer nodes may exceed the excerpt)."""
        data = self.excerpt_bytes()
        check_offset(data, self.cursor_offset_in_excerpt, "cursor_offset_in_excerpt")
        for key, r in self.excerpt_ranges.items():
            check_range(data, r, f"excerpt_ranges.{key}")
        for i, r in enumerate(self.syntax_ranges or []):
            if r.start > r.end:
                raise ValueError(f"syntax_ranges[{i}]: start {r.start} > end {r.end}")
        if self.excerpt_start_row is not None and self.excerpt_start_row < 0:
            raise ValueError(f"excerpt_start_row: negative ({self.excerpt_start_row})")


# ---------------------------------------------------------------------- byte helpers
def is_char_boundary(data: bytes, offset: int) -> bool:
    """True if ``offset`` (0..len) does not split a UTF-8 sequence."""
    if offset == 0 or offset == len(data):
        return True
    if offset < 0 or offset > len(data):
        return False
    return (data[offset] & 0xC0) != 0x80


def check_offset(data: bytes, offset: int, field: str) -> None:
    """ValueError naming ``field`` unless ``0 <= offset <= len(data)`` on a char boundary."""
    if offset < 0 or offset > len(data):
        raise ValueError(f"{field}: offset {offset} outside cursor_excerpt (0..{len(data)} bytes)")
    if not is_char_boundary(data, offset):
        raise ValueError(f"{field}: offset {offset} is not on a UTF-8 character boundary")


def check_range(data: bytes, r: ByteRange, field: str) -> None:
    """ValueError naming ``field`` unless ``r`` is a forward range of char boundaries in ``data``."""
    check_offset(data, r.start, f"{field}.start")
    check_offset(data, r.end, f"{field}.end")
    if r.start > r.end:
        raise ValueError(f"{field}: start {r.start} > end {r.end}")


def slice_bytes(data: bytes, start: int, end: int | None = None) -> str:
    """Decode ``data[start:end]``; ValueError if either end splits a UTF-8 character."""
    end = len(data) if end is None else end
    try:
        return data[start:end].decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"byte range {start}..{end} is not on UTF-8 character boundaries") from e


def byte_len(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes."""
    return len(text.encode("utf-8"))


def char_to_byte(text: str, char_offset: int) -> int:
    """Byte offset of character index ``char_offset`` in ``text``."""
    return len(text[:char_offset].encode("utf-8"))


def byte_to_char(text: str, byte_offset: int) -> int:
    """Character index of byte offset ``byte_offset`` (must be a char boundary) in ``text``."""
    return len(slice_bytes(text.encode("utf-8"), 0, byte_offset))


__all__ = [
    "EXCERPT_RANGE_BUDGETS",
    "ByteRange",
    "Diagnostic",
    "Event",
    "ExcerptRanges",
    "RelatedExcerpt",
    "RelatedFile",
    "Zeta2PromptInput",
    "byte_len",
    "byte_to_char",
    "char_to_byte",
    "check_offset",
    "check_range",
    "is_char_boundary",
    "slice_bytes",
]
