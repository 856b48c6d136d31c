"""A scripted "frontier model" for the teacher-stage tests, served by :class:`nextedit.llm.replay.ReplayServer`.

:class:`Frontier` tells the three kinds of request apart (a teacher prompt, a QA prompt, a repair
conversation) and answers each from its script: a function of the request's prompt text that
returns the hand-written answer a frontier model might give. ``answered`` records the prompts it
answered (the last user turn), ``hold_at`` holds the n-th request at the server until ``release``
is set (for killing a client mid-run without racing a clock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nextedit.io.markdown import parse_markdown
from nextedit.llm.replay import Reply
from nextedit.prompts.base import CURSOR_MARKER
from nextedit.prompts.teacher import FENCE, REGION_END, REGION_START
from nextedit.schema.example import Example

ROOT = Path(__file__).resolve().parents[2]
KVSTORE = ROOT / "examples" / "kvstore--add-struct-field-init.md"
OLD_LINE = "            timeout: Duration::from_secs(30),\n"
NEW_LINE = "            max_retries: 3,"


def kv_example(i: int | None = None) -> Example:
    """The kvstore eval case; with ``i``, a variant whose field names (so prompt) are its own."""
    ex = parse_markdown(KVSTORE.read_text(), str(KVSTORE))
    if i is None:
        return ex
    data = ex.to_dict()
    for key in ("cursor_position", "edit_history"):
        data[key] = data[key].replace("endpoint", f"endpoint_{i}")
    data["expected_patches"] = [p.replace("endpoint", f"endpoint_{i}") for p in data["expected_patches"]]
    data["name"] = f"{ex.name}-{i}"
    return Example.model_validate(data)


def write_jsonl(path: Path, examples: list[Example]) -> Path:
    path.write_text("".join(ex.to_json() + "\n" for ex in examples))
    return path


def read_jsonl(path: Path) -> list[Example]:
    return [Example.from_json(line) for line in path.read_text().splitlines() if line.strip()]


def region_of(prompt: str) -> str:
    """The editable region the teacher prompt shows (the last one: the current file), no cursor."""
    start = prompt.rfind(REGION_START + "\n") + len(REGION_START) + 1
    end = prompt.rfind("\n" + REGION_END)
    return prompt[start:end].replace(CURSOR_MARKER, "")


def block(region: str) -> str:
    return f"{FENCE}\n{REGION_START}\n{region}\n{REGION_END}\n{FENCE}"


def good_region(prompt: str) -> str:
    """The region with the constructor completed, the cursor after the new field."""
    return region_of(prompt).replace(OLD_LINE, OLD_LINE + NEW_LINE + CURSOR_MARKER + "\n")


def good_answer(prompt: str) -> str:
    return "The new field must be initialised in `new`.\n\n" + block(good_region(prompt))


def reverting_answer(prompt: str) -> str:
    """An answer that removes the field the user just added (a revert)."""
    return "Remove the unused field.\n\n" + block(
        region_of(prompt).replace("    pub max_retries: u32,\n", "")
    )


def judge_json(confidence: int, reverts: bool = False, fenced: bool = True) -> str:
    body = f'{{"reasoning": "checked the constructor", "reverts_edits": {str(reverts).lower()}, "confidence": {confidence}}}'
    if fenced:
        return f"Here is my verdict.\n\n```json\n{body}\n```\n"
    return f"My verdict: {body} -- that is all."


Script = Callable[[str], str | Reply]


class Frontier:
    """The replay server's ``answer`` (module doc)."""

    def __init__(
        self,
        teacher: Script = good_answer,
        qa: Script = lambda _prompt: judge_json(5),
        repair: Script = lambda _prompt: "KEEP_PREVIOUS",
    ) -> None:
        self.scripts = {"teacher": teacher, "qa": qa, "repair": repair}
        self.answered: list[str] = []
        self.kinds: list[str] = []
        self.hold_at: int | None = None
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._n = 0
        self._lock = threading.Lock()

    @staticmethod
    def kind(messages: list[dict[str, Any]]) -> str:
        if len(messages) == 3:
            return "repair"
        return "qa" if messages[-1]["content"].startswith("# Review an edit prediction") else "teacher"

    def __call__(self, messages: list[dict[str, Any]]) -> Reply:
        with self._lock:
            self._n += 1
            held = self._n == self.hold_at
        if held:
            self.arrived.set()
            self.release.wait(60)
            return Reply(text="(the client is gone)")
        kind = self.kind(messages)
        prompt = messages[0]["content"] if kind == "repair" else messages[-1]["content"]
        out = self.scripts[kind](prompt)
        with self._lock:
            self.answered.append(messages[-1]["content"])
            self.kinds.append(kind)
        return out if isinstance(out, Reply) else Reply(text=out)
