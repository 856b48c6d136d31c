"""Zeta2 = ``V0211SeedCoder`` (zeta.md §2.7): Seed-Coder SPM prompt with git merge markers.

Prompt::

    <[fim-suffix]>{context after the editable region}\\n
    <[fim-prefix]>{related files}\\n{<filename>edit_history ...}\\n<filename>{path}\\n
    {context before}<<<<<<< CURRENT\\n{editable with <|user_cursor|>}\\n=======\\n<[fim-middle]>

Output: ``{new editable region, optional <|user_cursor|>}\\n>>>>>>> UPDATED\\n`` then EOS. No stop
tokens (the model stops on its EOS). The SFT target excludes EOS (the trainer appends it).
"""

from __future__ import annotations

from typing import ClassVar

from nextedit.context.excerpt_ranges import CursorRegion, apply_prompt_budget_margin, estimate_tokens
from nextedit.prompts.base import (
    CURSOR_MARKER,
    ParseError,
    PromptFormat,
    PromptParts,
    cursor_in_editable,
    ensure_newline,
    insert_at_byte,
    split_cursor,
)
from nextedit.prompts.history import MAX_EDIT_EVENTS, format_edit_history_within_budget, parse_history_text
from nextedit.prompts.related import (
    filter_redundant_excerpts,
    format_related_files_within_budget,
    parse_related_text,
)
from nextedit.schema.request import Zeta2PromptInput

FIM_SUFFIX = "<[fim-suffix]>"
FIM_PREFIX = "<[fim-prefix]>"
FIM_MIDDLE = "<[fim-middle]>"
FILE_MARKER = "<filename>"
SEED_EOS = "<[end▁of▁sentence]>"
CURRENT = "<<<<<<< CURRENT\n"
SEPARATOR = "=======\n"
UPDATED = ">>>>>>> UPDATED\n"
NO_EDITS = "NO_EDITS"
HISTORY_NAME = "edit_history"


def related_files_for_prompt(request: Zeta2PromptInput, region: CursorRegion):  # noqa: ANN201
    """``related_files`` minus cursor-file excerpts already visible in the context (§2.5)."""
    files = request.related_files or []
    if request.excerpt_start_row is None or not files:
        return files
    first = request.excerpt_start_row + region.context_start_row
    last = first + region.context_text.count("\n")
    return filter_redundant_excerpts(files, request.cursor_path, (first, last + 1))


class SeedCoderFormat(PromptFormat):
    """Shared Seed-Coder SPM assembly; subclasses render the cursor-file body and parse outputs."""

    stop_tokens: ClassVar[tuple[str, ...]] = ()

    def cursor_body(self, region: CursorRegion) -> str:
        """Context before the editable region + the marked editable region (ends with ``\\n``)."""
        raise NotImplementedError

    def build_prompt(self, request: Zeta2PromptInput, region: CursorRegion) -> str:
        ctx = region.context_text.encode()
        _, e = region.editable_in_context
        suffix_section = FIM_SUFFIX + ensure_newline(ctx[e:].decode())
        cursor_section = f"{FILE_MARKER}{request.cursor_path}\n" + self.cursor_body(region)
        budget = apply_prompt_budget_margin(self.max_prompt_tokens)
        budget -= estimate_tokens(suffix_section) + estimate_tokens(cursor_section + FIM_PREFIX)
        budget = max(0, budget)
        history = format_edit_history_within_budget(
            request.events, FILE_MARKER, HISTORY_NAME, budget, MAX_EDIT_EVENTS
        )
        budget = max(0, budget - estimate_tokens(history))
        related = format_related_files_within_budget(
            related_files_for_prompt(request, region), FILE_MARKER, "", budget
        )
        parts = [suffix_section, FIM_PREFIX]
        for section in (related, history):
            if section:
                parts += [section, "\n"]
        parts += [cursor_section, FIM_MIDDLE]
        return "".join(parts)

    # ------------------------------------------------------------------ prompt inverse
    def _split_prompt(self, prompt: str) -> tuple[str, str, str, str, str]:
        """(suffix text, related text, history text, cursor path, cursor-file body)."""
        if not prompt.startswith(FIM_SUFFIX):
            raise ValueError(f"not a {self.name} prompt: missing leading {FIM_SUFFIX}")
        p = prompt.find(FIM_PREFIX)
        m = prompt.rfind(FIM_MIDDLE)
        if p < 0 or m < 0:
            raise ValueError(f"not a {self.name} prompt: missing {FIM_PREFIX} or {FIM_MIDDLE}")
        suffix = prompt[len(FIM_SUFFIX) : p]
        suffix = suffix[:-1] if suffix.endswith("\n") else suffix
        body = prompt[p + len(FIM_PREFIX) : m]
        anchor = self._cursor_anchor(body)
        f = body.rfind(FILE_MARKER, 0, anchor)
        if f < 0:
            raise ValueError(f"not a {self.name} prompt: no {FILE_MARKER} before the editable region")
        before, cursor_file = body[:f], body[f + len(FILE_MARKER) :]
        path, _, file_body = cursor_file.partition("\n")
        history = related = ""
        h = before.find(f"{FILE_MARKER}{HISTORY_NAME}\n")
        if h >= 0:
            history, before = before[h:], before[:h]
            history = history[:-1] if history.endswith("\n") else history
        related = before[:-1] if before.endswith("\n") else before
        return suffix, related, history, path, file_body

    def _cursor_anchor(self, body: str) -> int:
        raise NotImplementedError

    def _parts(
        self,
        prompt: str,
        prefix: str,
        editable_with_cursor: str,
        suffix: str,
        related: str,
        history: str,
        path: str,
    ) -> PromptParts:
        editable, cursor = split_cursor(editable_with_cursor)
        s = len(prefix.encode())
        e = s + len(editable.encode())
        header = f"{FILE_MARKER}{HISTORY_NAME}\n"
        return PromptParts(
            format=self.name,
            cursor_path=path,
            context=prefix + editable + suffix,
            editable_range=(s, e),
            cursor_offset=None if cursor is None else s + cursor,
            history_text=history,
            related_text=related,
            events=parse_history_text(history[len(header) :]) if history else [],
            related_files=parse_related_text(related, FILE_MARKER) if related else [],
        )


class Zeta2Format(SeedCoderFormat):
    """``V0211SeedCoder``: the editable region between ``<<<<<<< CURRENT`` and ``=======``."""

    name: ClassVar[str] = "zeta2"
    zeta_format: ClassVar[str] = "V0211SeedCoder"
    special_tokens: ClassVar[tuple[str, ...]] = (
        FIM_SUFFIX, FIM_PREFIX, FIM_MIDDLE, FILE_MARKER, SEED_EOS, CURSOR_MARKER,
        "<<<<<<< CURRENT", "=======", ">>>>>>> UPDATED", NO_EDITS,
    )  # fmt: skip
    line_tokens: ClassVar[frozenset[str]] = frozenset(
        {"<<<<<<< CURRENT", "=======", ">>>>>>> UPDATED", NO_EDITS}
    )
    end_marker: ClassVar[str] = UPDATED

    def cursor_body(self, region: CursorRegion) -> str:
        s, _ = region.editable_in_context
        ctx = region.context_text.encode()
        editable = insert_at_byte(region.editable_text, cursor_in_editable(region), CURSOR_MARKER)
        return ctx[:s].decode() + CURRENT + ensure_newline(editable) + SEPARATOR

    def parse_region(self, region: CursorRegion, raw_output: str) -> tuple[str, int | None]:
        end = raw_output.rfind(UPDATED.rstrip("\n"))
        if end < 0:
            raise ParseError(f"missing end marker {UPDATED.strip()!r}")
        content = raw_output[:end]
        if CURRENT.rstrip("\n") in content:
            raise ParseError("unexpected '<<<<<<< CURRENT' in output")
        if content.strip() == NO_EDITS:
            return region.editable_text, None
        # The target always ends with "\n" before the end marker; drop it unless the old region
        # itself ends with one (the client pads both sides with "\n" anyway, §1.3).
        if content.endswith("\n") and not region.editable_text.endswith("\n"):
            content = content[:-1]
        return split_cursor(content)

    def encode_output(self, old_region: str, new_region: str, cursor_in_new: int | None) -> str:
        return ensure_newline(insert_at_byte(new_region, cursor_in_new, CURSOR_MARKER)) + UPDATED

    def _cursor_anchor(self, body: str) -> int:
        i = body.rfind(CURRENT)
        if i < 0:
            raise ValueError("not a zeta2 prompt: missing '<<<<<<< CURRENT'")
        return i

    def parse_prompt(self, prompt: str) -> PromptParts:
        suffix, related, history, path, file_body = self._split_prompt(prompt)
        i = file_body.rfind(CURRENT)
        tail = "\n" + SEPARATOR
        if not file_body.endswith(tail):
            raise ValueError("not a zeta2 prompt: editable region not closed by '======='")
        prefix = file_body[:i]
        editable = (
            file_body[i + len(CURRENT) : -len(tail)] if len(file_body) - i - len(CURRENT) >= len(tail) else ""
        )
        return self._parts(prompt, prefix, editable, suffix, related, history, path)
