"""The prompt-format contract: request → prompt, model text → new editable region, patch → SFT target.

Offsets are UTF-8 **bytes**. A format never lets a parse error escape: ``parse_output`` returns
:class:`ParsedOutput` or :class:`Unparseable`. ``format_prompt`` returns ``None`` when the prompt
would exceed the format's token budget (§2.1): then no request is made.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from nextedit.context.excerpt_ranges import CursorRegion, estimate_tokens, resolve_cursor_region
from nextedit.schema.prediction import is_no_edit
from nextedit.schema.request import ByteRange, Event, ExcerptRanges, RelatedFile, Zeta2PromptInput

CURSOR_MARKER = "<|user_cursor|>"


class ParseError(ValueError):
    """Internal: raised by a format's parser, turned into :class:`Unparseable` at the boundary."""


@dataclass
class FormattedPrompt:
    """A prompt plus the region it shows. Ranges are byte ranges in ``cursor_excerpt``."""

    prompt: str
    editable_range: ByteRange
    context_range: ByteRange
    cursor_offset: int
    prefill: str = ""

    @property
    def text(self) -> str:
        """What is sent to a completion endpoint: prompt followed by the prefill."""
        return self.prompt + self.prefill

    @property
    def estimated_tokens(self) -> int:
        return estimate_tokens(self.prompt)


@dataclass
class ParsedOutput:
    """A model output resolved to the new text of ``range_in_excerpt`` (bytes of ``cursor_excerpt``).
    ``cursor_offset_in_new_region`` is a byte offset in ``new_editable_region`` or None."""

    new_editable_region: str
    range_in_excerpt: ByteRange
    cursor_offset_in_new_region: int | None = None
    ok: ClassVar[bool] = True

    def new_excerpt(self, request: Zeta2PromptInput) -> str:
        """``cursor_excerpt`` with the editable range replaced."""
        data = request.excerpt_bytes()
        r = self.range_in_excerpt
        return (data[: r.start] + self.new_editable_region.encode() + data[r.end :]).decode()

    def is_no_edit(self, request: Zeta2PromptInput) -> bool:
        """:func:`nextedit.schema.prediction.is_no_edit` of this parsed answer."""
        return is_no_edit(request.cursor_excerpt, self.range_in_excerpt.as_tuple(), self.new_editable_region)


@dataclass
class Unparseable:
    """The model text could not be turned into an edit; ``reason`` says why."""

    reason: str
    raw_output: str = ""
    ok: ClassVar[bool] = False


@dataclass
class PromptParts:
    """What a prompt string reveals (inverse of ``format_prompt``).

    ``context`` is the visible cursor-file text without markers; ``editable_range`` and
    ``cursor_offset`` are byte offsets in ``context``. Trailing newlines that the format adds
    unconditionally-or-not cannot always be told apart: a context ending in ``\\n`` may come back
    without it.
    """

    format: str
    cursor_path: str
    context: str
    editable_range: tuple[int, int]
    cursor_offset: int | None
    history_text: str = ""
    related_text: str = ""
    events: list[Event] = field(default_factory=list)
    related_files: list[RelatedFile] = field(default_factory=list)

    @property
    def editable_text(self) -> str:
        s, e = self.editable_range
        return self.context.encode()[s:e].decode()

    def to_request(self) -> Zeta2PromptInput:
        """A request that formats back to the same region: the context as ``cursor_excerpt``,
        ``editable_350``/``editable_350_context_150`` set to the recovered ranges."""
        s, e = self.editable_range
        ranges = ExcerptRanges(
            editable_350=ByteRange(start=s, end=e),
            editable_350_context_150=ByteRange(start=0, end=len(self.context.encode())),
        )
        return Zeta2PromptInput(
            cursor_path=self.cursor_path,
            cursor_excerpt=self.context,
            cursor_offset_in_excerpt=self.cursor_offset if self.cursor_offset is not None else s,
            events=list(self.events),
            related_files=list(self.related_files) or None,
            excerpt_ranges=ranges,
        )

    def cache_key(self) -> str:
        """Stable hash of everything the prompt shows (for caches keyed by request content)."""
        blob = json.dumps(
            [
                self.format,
                self.cursor_path,
                self.context,
                self.editable_range,
                self.cursor_offset,
                self.history_text,
                self.related_text,
            ],
            ensure_ascii=False,
        ).encode()
        return hashlib.sha256(blob).hexdigest()[:32]


def split_cursor(text: str, marker: str = CURSOR_MARKER) -> tuple[str, int | None]:
    """Remove every ``marker``; return the text and the byte offset of the first one (or None)."""
    i = text.find(marker)
    if i < 0:
        return text, None
    offset = len(text[:i].encode())
    return text.replace(marker, ""), offset


def region_prompt_parts(
    body: str,
    start: str,
    end: str,
    *,
    format: str,
    cursor_path: str,
    cursor_marker: str = CURSOR_MARKER,
    **fields: Any,
) -> PromptParts:
    """The :class:`PromptParts` of a cursor file written as ``body`` = prefix + ``start\\n`` + editable
    text (with ``cursor_marker``) + ``\\nend`` + suffix: the visible context without markers, the
    editable range and the cursor offset (bytes in the context; None without a marker), plus
    ``fields`` (history, related files). Raises ValueError naming ``format`` when a region marker
    is missing."""
    a = body.find(start + "\n")
    b = body.rfind("\n" + end)
    if a < 0 or b < a:
        raise ValueError(f"not a {format} prompt: editable region markers missing")
    prefix = body[:a]
    editable, cursor = split_cursor(body[a + len(start) + 1 : b], cursor_marker)
    suffix = body[b + 1 + len(end) :]
    s = len(prefix.encode())
    return PromptParts(
        format=format,
        cursor_path=cursor_path,
        context=prefix + editable + suffix,
        editable_range=(s, s + len(editable.encode())),
        cursor_offset=None if cursor is None else s + cursor,
        **fields,
    )


def insert_at_byte(text: str, offset: int | None, insert: str) -> str:
    """Insert ``insert`` at byte ``offset`` of ``text`` (no-op for None)."""
    if offset is None:
        return text
    data = text.encode()
    return (data[:offset] + insert.encode() + data[offset:]).decode()


def cursor_in_editable(region: CursorRegion) -> int | None:
    """The request cursor as a byte offset inside the editable text, None if it lies outside."""
    s, e = region.editable_in_context
    c = region.cursor_in_context
    return c - s if s <= c <= e else None


def ensure_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


class PromptFormat(ABC):
    """One prompt format. Subclasses set the class attributes and implement the four hooks
    ``build_prompt``, ``parse_region``, ``encode_output`` and ``parse_prompt``."""

    #: canonical registry name ("zeta1", "zeta2", "zeta2_1", "teacher")
    name: ClassVar[str]
    #: Zed's ``ZetaFormat`` variant name (provider string suffix)
    zeta_format: ClassVar[str]
    #: (editable, context) token limits used by ``resolve_cursor_region``
    token_limits: ClassVar[tuple[int, int]] = (350, 150)
    #: the prompt is dropped (``None``) above this many estimated tokens
    max_prompt_tokens: ClassVar[int] = 4096
    #: marker strings a tokenizer must keep as single tokens
    special_tokens: ClassVar[tuple[str, ...]] = ()
    #: special tokens that only count as present in an excerpt when they form a whole line
    line_tokens: ClassVar[frozenset[str]] = frozenset()
    #: stop sequences sent with completion requests
    stop_tokens: ClassVar[tuple[str, ...]] = ()
    #: a no-edit SFT target points at the request cursor (V0318: ``tag(n)tag(n)`` nearest to it)
    no_edit_uses_request_cursor: ClassVar[bool] = False
    #: generation limit when no client setting applies (Zed's raw/Baseten path)
    default_max_tokens: ClassVar[int] = 2048

    # ------------------------------------------------------------------ policy
    @property
    def provider(self) -> str:
        """Provider string written to ``prompt.provider`` (``zeta2:<ZetaFormat>``)."""
        return f"zeta2:{self.zeta_format}"

    def max_tokens(self, max_output_tokens: int | None = None) -> int:
        """Generation limit: a client's ``max_output_tokens`` × 4 (§1.7), else ``default_max_tokens``."""
        return self.default_max_tokens if max_output_tokens is None else max_output_tokens * 4

    def region(self, request: Zeta2PromptInput) -> CursorRegion:
        return resolve_cursor_region(request, self.token_limits)

    def contains_special_tokens(self, request: Zeta2PromptInput) -> bool:
        """True if ``cursor_excerpt`` contains a special token of this format (§2.1); line tokens
        (merge markers, ``NO_EDITS``) only match whole lines, so ``// =======`` does not count."""
        text = request.cursor_excerpt
        lines = set(text.split("\n"))
        for tok in self.special_tokens:
            if tok in self.line_tokens or tok.endswith("\n"):
                if tok.rstrip("\n") in lines:
                    return True
            elif tok in text:
                return True
        return False

    # ------------------------------------------------------------------ public API
    def format_prompt(self, request: Zeta2PromptInput) -> FormattedPrompt | None:
        """The prompt for ``request``, or None when it exceeds ``max_prompt_tokens``."""
        region = self.region(request)
        prompt = self.build_prompt(request, region)
        if estimate_tokens(prompt) > self.max_prompt_tokens:
            return None
        return FormattedPrompt(
            prompt=prompt,
            editable_range=region.editable,
            context_range=region.context,
            cursor_offset=request.cursor_offset_in_excerpt,
            prefill=self.prefill(region),
        )

    def parse_output(self, request: Zeta2PromptInput, raw_output: str) -> ParsedOutput | Unparseable:
        """Resolve raw model text (prefill included if any) to the new editable region."""
        try:
            region = self.region(request)
            new_region, cursor = self.parse_region(region, raw_output)
        except (ParseError, ValueError, UnicodeDecodeError) as e:
            return Unparseable(reason=str(e) or type(e).__name__, raw_output=raw_output)
        return ParsedOutput(
            new_editable_region=new_region,
            range_in_excerpt=region.editable,
            cursor_offset_in_new_region=cursor,
        )

    def encode_target(self, request: Zeta2PromptInput, patch: str, cursor: int | None = None) -> str:
        """SFT target (§2.11) for ``patch``: a unified diff relative to ``cursor_excerpt`` (``@@``
        line numbers may be buffer rows; hunks are located by context), optionally with an inline
        ``<|user_cursor|>``. ``cursor`` (byte offset in the patched excerpt) overrides the inline
        one. Raises ValueError if the patch does not apply or edits outside the editable region."""
        region = self.region(request)
        new_region, cursor_in_new = new_region_from_patch(request, region, patch, cursor)
        if new_region == region.editable_text and self.no_edit_uses_request_cursor:
            cursor_in_new = cursor_in_editable(region)
        return self.encode_output(region.editable_text, new_region, cursor_in_new)

    def prefill(self, region: CursorRegion) -> str:
        return ""

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def build_prompt(self, request: Zeta2PromptInput, region: CursorRegion) -> str: ...

    @abstractmethod
    def parse_region(self, region: CursorRegion, raw_output: str) -> tuple[str, int | None]:
        """Return (new editable text, cursor byte offset in it or None); raise ParseError."""

    @abstractmethod
    def encode_output(self, old_region: str, new_region: str, cursor_in_new: int | None) -> str:
        """The exact model output that ``parse_region`` maps back to ``new_region``."""

    @abstractmethod
    def parse_prompt(self, prompt: str) -> PromptParts: ...


def new_region_from_patch(
    request: Zeta2PromptInput, region: CursorRegion, patch: str, cursor: int | None = None
) -> tuple[str, int | None]:
    """Apply ``patch`` to ``cursor_excerpt``; return the new editable region and the cursor byte
    offset inside it (None if absent or outside). Empty patches (≤3 lines) give the old region."""
    from nextedit.text.patch import apply_patch_with_cursor, is_empty_patch

    old_region = region.editable_text
    if not patch.strip() or is_empty_patch(patch):
        return old_region, None
    old = request.excerpt_bytes()
    new_text, patch_cursor = apply_patch_with_cursor(
        request.cursor_excerpt, patch, request.cursor_path or None, start_row=request.excerpt_start_row or 0
    )
    new = new_text.encode()
    if cursor is None:
        cursor = patch_cursor
    s, e = region.editable.start, region.editable.end
    tail = len(old) - e
    if len(new) < s + tail or new[:s] != old[:s] or new[len(new) - tail :] != old[e:]:
        raise ValueError("patch edits text outside the editable region")
    new_region = new[s : len(new) - tail].decode()
    cursor_in_new = None
    if cursor is not None and s <= cursor <= len(new) - tail:
        cursor_in_new = cursor - s
    return new_region, cursor_in_new
