"""Zeta1 (zeta.md §2.7 "Zeta1", §1.6, §1.7): the Qwen2.5-Coder instruction prompt of 2025.

Used for ``prompt_format: zeta``; region = ``editable_350`` inside ``editable_350_context_150``.
Output: ``<|editable_region_start|>\\n{new region}\\n<|editable_region_end|>``; the client sends the
end marker (and variants with trailing newlines) as stop sequences, so it is usually absent.
"""

from __future__ import annotations

from typing import ClassVar

from nextedit.context.excerpt_ranges import CursorRegion
from nextedit.prompts.base import (
    CURSOR_MARKER,
    ParseError,
    PromptFormat,
    PromptParts,
    insert_at_byte,
    region_prompt_parts,
    split_cursor,
)
from nextedit.prompts.history import format_zeta1_events, parse_zeta1_events
from nextedit.prompts.zeta2 import cursor_in_editable
from nextedit.schema.request import Zeta2PromptInput

START_OF_FILE = "<|start_of_file|>"
REGION_START = "<|editable_region_start|>"
REGION_END = "<|editable_region_end|>"
ZETA1_CURSOR = "<|user_cursor_is_here|>"
INSTRUCTION = (
    "You are a code completion assistant and your task is to analyze user edits and then rewrite an "
    "excerpt that the user provides, suggesting the appropriate edits within the excerpt, taking into "
    "account the cursor location."
)
_HEAD = f"### Instruction:\n{INSTRUCTION}\n\n### User Edits:\n\n"
_EXCERPT = "\n\n### User Excerpt:\n\n```"
_TAIL = "\n```\n\n### Response:\n"


class Zeta1Format(PromptFormat):
    name: ClassVar[str] = "zeta1"
    zeta_format: ClassVar[str] = "Zeta1"
    special_tokens: ClassVar[tuple[str, ...]] = (START_OF_FILE, REGION_START, REGION_END, ZETA1_CURSOR)
    stop_tokens: ClassVar[tuple[str, ...]] = (
        REGION_END,
        REGION_END + "\n",
        REGION_END + "\n\n",
        REGION_END + "\n\n\n",
    )

    @property
    def provider(self) -> str:
        return "zeta1"

    def build_prompt(self, request: Zeta2PromptInput, region: CursorRegion) -> str:
        ctx = region.context_text.encode()
        s, e = region.editable_in_context
        editable = insert_at_byte(region.editable_text, cursor_in_editable(region), ZETA1_CURSOR)
        start_of_file = request.excerpt_start_row == 0 and region.context.start == 0
        return (
            _HEAD
            + format_zeta1_events(request.events)
            + _EXCERPT
            + f"{request.cursor_path}\n"
            + (f"{START_OF_FILE}\n" if start_of_file else "")
            + ctx[:s].decode()
            + f"{REGION_START}\n{editable}\n{REGION_END}"
            + ctx[e:].decode()
            + _TAIL
        )

    def parse_region(self, region: CursorRegion, raw_output: str) -> tuple[str, int | None]:
        text = raw_output.replace(ZETA1_CURSOR, CURSOR_MARKER)
        n_start, n_end = text.count(REGION_START), text.count(REGION_END)
        if n_start != 1:
            raise ParseError(f"expected exactly one {REGION_START}, found {n_start}")
        if n_end > 1:
            raise ParseError(f"expected at most one {REGION_END}, found {n_end}")
        if text.count(START_OF_FILE) > 1:
            raise ParseError(f"more than one {START_OF_FILE}")
        i = text.index(REGION_START) + len(REGION_START)
        nl = text.find("\n", i)
        body = text[nl + 1 :] if nl >= 0 else text[i:]
        if n_end:
            j = body.find(REGION_END)
            if j < 0:
                raise ParseError(f"{REGION_END} before {REGION_START}")
            body = body[:j]
        if body.endswith("\n"):
            body = body[:-1]
        return split_cursor(body)

    def encode_output(self, old_region: str, new_region: str, cursor_in_new: int | None) -> str:
        return f"{REGION_START}\n{insert_at_byte(new_region, cursor_in_new, ZETA1_CURSOR)}\n{REGION_END}"

    def parse_prompt(self, prompt: str) -> PromptParts:
        if not prompt.startswith(_HEAD) or not prompt.endswith(_TAIL):
            raise ValueError("not a zeta1 prompt")
        x = prompt.rfind(_EXCERPT)
        if x < 0:
            raise ValueError("not a zeta1 prompt: missing '### User Excerpt:'")
        history = prompt[len(_HEAD) : x]
        excerpt = prompt[x + len(_EXCERPT) : -len(_TAIL)]
        path, _, body = excerpt.partition("\n")
        if body.startswith(START_OF_FILE + "\n"):
            body = body[len(START_OF_FILE) + 1 :]
        return region_prompt_parts(
            body,
            REGION_START,
            REGION_END,
            format=self.name,
            cursor_path=path,
            cursor_marker=ZETA1_CURSOR,
            history_text=history,
            events=parse_zeta1_events(history),
        )
