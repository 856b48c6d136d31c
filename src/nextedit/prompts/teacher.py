"""Teacher prompt (zeta.md §3.4): a long instruction prompt for a frontier LLM that writes the
target edit. Our own wording, with Zed's structure: instructions and worked examples, then
``# 1. Edit History``, ``# 2. Related Code``, ``# 3. Current File`` (and ``# 4. Diagnostics`` for
diagnostic formats), ending with the fixed request line.

The current file shows ``<|editable_region_start|>`` / ``<|editable_region_end|>`` around the
editable region and ``<|user_cursor|>``; code fences are five backticks. The answer is a short
explanation plus one code block with the rewritten region (between the same markers), or a code
block containing only ``NO_EDITS``.
"""

from __future__ import annotations

from typing import ClassVar

from nextedit.context.excerpt_ranges import CursorRegion
from nextedit.prompts.base import (
    CURSOR_MARKER,
    ParseError,
    PromptFormat,
    PromptParts,
    ensure_newline,
    insert_at_byte,
    region_prompt_parts,
    split_cursor,
)
from nextedit.prompts.history import parse_history_text, write_events
from nextedit.prompts.related import format_related_files_within_budget, parse_related_text
from nextedit.prompts.zeta2 import cursor_in_editable, related_files_for_prompt
from nextedit.schema.request import Zeta2PromptInput

FENCE = "`````"
REGION_START = "<|editable_region_start|>"
REGION_END = "<|editable_region_end|>"
NO_EDITS = "NO_EDITS"
HISTORY_MAX_LINES = 128
RELATED_BUDGET_TOKENS = 1024
NO_HISTORY = "(No edit history)"
NO_CONTEXT = "(No context)"
TRUNCATED = "\n[...truncated...]"
FINAL_LINE = (
    "Based on the edit history and context above, predict the user's next edit within the editable region."
)


def _example(title: str, history: str, excerpt: str, answer: str) -> str:
    return f"### {title}\n\nEdit history:\n\n{FENCE}\n{history}{FENCE}\n\nCurrent file:\n\n{FENCE}\n{excerpt}\n{FENCE}\n\nAnswer:\n\n{answer}\n"


def _block(region: str) -> str:
    return f"{FENCE}\n{REGION_START}\n{region}\n{REGION_END}\n{FENCE}"


_NO_EDITS_BLOCK = f"{FENCE}\n{NO_EDITS}\n{FENCE}"

EXAMPLES = "\n".join(
    [
        _example(
            "Example 1: finish a loop the user started",
            "--- a/shop/cart.py\n+++ b/shop/cart.py\n@@ -1,2 +1,4 @@\n def total(items):\n-    pass\n+    s = 0\n+    for item in items:\n",
            f"{REGION_START}\ndef total(items):\n    s = 0\n    for item in items:\n        <|user_cursor|>\n{REGION_END}",
            "The user is summing item prices; finish the loop body and return the sum.\n\n"
            + _block(
                "def total(items):\n    s = 0\n    for item in items:\n        s += item.price\n    return s<|user_cursor|>"
            ),
        ),
        _example(
            "Example 2: complete text being typed",
            '--- a/src/main.rs\n+++ b/src/main.rs\n@@ -3,1 +3,2 @@\n     let cfg = load()?;\n+    eprintln!("\n',
            f'{REGION_START}\n    let cfg = load()?;\n    eprintln!("<|user_cursor|>\n{REGION_END}',
            "A debug print was started; close the call and leave the cursor inside the string.\n\n"
            + _block('    let cfg = load()?;\n    eprintln!("<|user_cursor|>");'),
        ),
        _example(
            "Example 3: add the handler the user just referenced",
            "--- a/ui/form.ts\n+++ b/ui/form.ts\n@@ -1,1 +1,1 @@\n-<form>\n+<form onSubmit={handleSubmit}>\n",
            f"{REGION_START}\nfunction Form() {{\n  <|user_cursor|>\n  return <form onSubmit={{handleSubmit}}></form>;\n}}\n{REGION_END}",
            "The form now calls `handleSubmit`, which does not exist yet; define it.\n\n"
            + _block(
                "function Form() {\n  const handleSubmit = (e) => {\n    e.preventDefault();\n  };<|user_cursor|>\n"
                "  return <form onSubmit={handleSubmit}></form>;\n}"
            ),
        ),
        _example(
            "Example 4: the user fixed a bug, nothing follows",
            "--- a/lib/math.py\n+++ b/lib/math.py\n@@ -1,2 +1,2 @@\n def mean(xs):\n-    return sum(xs) / len(xs) + 1\n+    return sum(xs) / len(xs)\n",
            f"{REGION_START}\ndef mean(xs):\n    return sum(xs) / len(xs)<|user_cursor|>\n{REGION_END}",
            "The fix is complete and no related change is needed.\n\n" + _NO_EDITS_BLOCK,
        ),
        _example(
            "Example 5: a deletion is deliberate",
            "--- a/scripts/run.sh\n+++ b/scripts/run.sh\n@@ -2,2 +2,1 @@\n-rm -rf /tmp/cr\n echo done\n",
            f"{REGION_START}\n<|user_cursor|>echo done\n{REGION_END}",
            "The user removed a cleanup line on purpose; restoring it would revert their edit.\n\n"
            + _NO_EDITS_BLOCK,
        ),
        _example(
            "Example 6: correct an accepted prediction",
            "// User accepted prediction:\n--- a/geo.py\n+++ b/geo.py\n@@ -4,1 +4,1 @@\n-p = calculate_sq\n+p = calculate_square_area(side)\n",
            f"{REGION_START}\ndef calculate_square_perimeter(side):\n    return 4 * side\n\np = calculate_square_area(side)<|user_cursor|>\n{REGION_END}",
            "The accepted completion picked a function that does not exist here; the perimeter helper is meant.\n\n"
            + _block(
                "def calculate_square_perimeter(side):\n    return 4 * side\n\np = calculate_square_perimeter(side)<|user_cursor|>"
            ),
        ),
    ]
)

INSTRUCTIONS = f"""# Instructions

You predict a programmer's next edit. You see what they changed recently, some related code, and \
the file they are working in. Work out what they are trying to do (often a change that is only \
partly done, such as a rename or a new parameter that still has to reach every use) and write the \
edits they would most likely make next by rewriting the code around the cursor.

## What to aim for

- Finish changes that are half done, consistently with the rest of the code.
- Follow the existing style: naming, indentation, quoting, comment conventions.
- Improve the code only in the direction the user is already going.

## Rules

- Never undo or revert what the user just did. Do not bring back lines they removed (`-` lines) \
and do not remove lines they added (`+` lines). If the code looks broken right after an edit, \
answer `{NO_EDITS}` instead of reverting it. Test every answer: if it makes the code look more \
like it was before the user's edit, answer `{NO_EDITS}`. A deletion is never an accident.
- Hunks that follow `// User accepted prediction:` were produced by a tool, not typed by the user; \
they may be corrected if they are wrong.
- Do not apply a pattern mechanically, and do not merely fix syntax.
- Keep the file's formatting exactly as it is outside your change.
- When edits disagree, the most recent ones matter most.
- Text right before the cursor that looks unfinished is being typed right now: complete it.
- Prefer answers that save the user real keystrokes: in code, a substantive completion beats a \
minimal one.
- In prose (comments, docs, Markdown) be careful: only complete the current word, fragment or sentence.

## Input

1. Edit history, oldest first, as unified diffs.
2. Related code from other places (`...` marks code that was left out).
3. The current file. The part you may rewrite lies between `{REGION_START}` and \
`{REGION_END}`; `{CURSOR_MARKER}` is the cursor.

## Output

First explain in a sentence or two what the user is doing. Then write one code block (five \
backticks) that contains only the rewritten editable region, starting with the line \
`{REGION_START}` and ending with the line `{REGION_END}`. If nothing should change, write a code \
block that contains only `{NO_EDITS}`. You may put `{CURSOR_MARKER}` where the user will most \
likely continue editing.

## Examples

{EXAMPLES}"""


def render_teacher_history(history: str) -> str:
    """The last 128 lines of ``history`` (``[...truncated...]`` appended when cut), or the placeholder."""
    if not history.strip():
        return NO_HISTORY
    lines = history.splitlines(keepends=True)
    if len(lines) <= HISTORY_MAX_LINES:
        return history
    return "".join(lines[-HISTORY_MAX_LINES:]) + TRUNCATED


class TeacherFormat(PromptFormat):
    """The teacher prompt with the V0131 region budgets (350 editable, 150 context tokens)."""

    name: ClassVar[str] = "teacher"
    zeta_format: ClassVar[str] = "V0131GitMergeMarkersPrefix"
    special_tokens: ClassVar[tuple[str, ...]] = (REGION_START, REGION_END, CURSOR_MARKER)
    max_prompt_tokens: ClassVar[int] = 1 << 30  # frontier models: no practical limit
    default_max_tokens: ClassVar[int] = 16384

    @property
    def provider(self) -> str:
        """Zed's default teacher provider string (backend ``sonnet45``)."""
        return f"teacher:sonnet45:{self.zeta_format}"

    def build_prompt(
        self, request: Zeta2PromptInput, region: CursorRegion, edit_history: str | None = None
    ) -> str:
        history = render_teacher_history(
            write_events(request.events) if edit_history is None else edit_history
        )
        related = format_related_files_within_budget(
            related_files_for_prompt(request, region), FENCE, FENCE + "\n\n", RELATED_BUDGET_TOKENS
        )
        ctx = region.context_text.encode()
        s, e = region.editable_in_context
        editable = insert_at_byte(region.editable_text, cursor_in_editable(region), CURSOR_MARKER)
        current = (
            f"{FENCE}{request.cursor_path}\n{ctx[:s].decode()}{REGION_START}\n{editable}\n{REGION_END}"
            f"{ctx[e:].decode()}\n{FENCE}"
        )
        return (
            f"{INSTRUCTIONS}\n# 1. Edit History\n\n{FENCE}\n{ensure_newline(history)}{FENCE}\n\n"
            f"# 2. Related Code\n\n{related or NO_CONTEXT}\n\n"
            f"# 3. Current File\n\n{current}\n\n-----\n\n{FINAL_LINE}"
        )

    def format_prompt_with_history(self, request: Zeta2PromptInput, edit_history: str):  # noqa: ANN201
        """Like ``format_prompt`` but with the example's own ``edit_history`` text (§3.4)."""
        fp = self.format_prompt(request)
        if fp is not None:
            fp.prompt = self.build_prompt(request, self.region(request), edit_history)
        return fp

    def parse_region(self, region: CursorRegion, raw_output: str) -> tuple[str, int | None]:
        old = region.editable_text
        blocks = raw_output.split(FENCE)
        last_block = blocks[-2].strip() if len(blocks) >= 3 else None
        if last_block == NO_EDITS or raw_output.strip(" \n`").endswith(NO_EDITS):
            return old, None
        a = raw_output.rfind(REGION_START + "\n")
        if a < 0:
            raise ParseError(f"no {REGION_START} in the response")
        body = raw_output[a + len(REGION_START) + 1 :]
        b = body.rfind("\n" + REGION_END)
        if b >= 0:
            body = body[:b]
        elif body.startswith(REGION_END):
            body = ""
        else:
            raise ParseError(f"no {REGION_END} after {REGION_START}")
        new, cursor = split_cursor(body)
        if old.startswith("\n") and not new.startswith("\n"):
            new = "\n" + new
            cursor = None if cursor is None else cursor + 1
        return new, cursor

    def encode_output(self, old_region: str, new_region: str, cursor_in_new: int | None) -> str:
        if old_region == new_region:
            return f"The recent edits are complete; nothing else needs to change.\n\n{_NO_EDITS_BLOCK}\n"
        region = insert_at_byte(new_region, cursor_in_new, CURSOR_MARKER)
        return f"Continuing the user's change in the editable region.\n\n{_block(region)}\n"

    def parse_prompt(self, prompt: str) -> PromptParts:
        h = prompt.rfind("# 1. Edit History\n\n")
        r = prompt.rfind("\n\n# 2. Related Code\n\n")
        c = prompt.rfind("\n\n# 3. Current File\n\n")
        end = prompt.rfind("\n\n-----\n\n" + FINAL_LINE)
        if min(h, r, c, end) < 0:
            raise ValueError("not a teacher prompt: section headers missing")
        history = prompt[h + len("# 1. Edit History\n\n") : r]
        history = history.removeprefix(FENCE + "\n").removesuffix(FENCE)
        if history == NO_HISTORY + "\n":
            history = NO_HISTORY
        related = prompt[r + len("\n\n# 2. Related Code\n\n") : c]
        current = prompt[c + len("\n\n# 3. Current File\n\n") : end]
        if not current.startswith(FENCE) or not current.endswith("\n" + FENCE):
            raise ValueError("not a teacher prompt: current file block malformed")
        path, _, body = current[len(FENCE) : -len(FENCE) - 1].partition("\n")
        history_text = "" if history == NO_HISTORY else history
        related_text = "" if related == NO_CONTEXT else related
        return region_prompt_parts(
            body,
            REGION_START,
            REGION_END,
            format=self.name,
            cursor_path=path,
            history_text=history_text,
            related_text=related_text,
            events=parse_history_text(history_text),
            related_files=parse_related_text(related_text, FENCE, FENCE + "\n\n") if related_text else [],
        )
