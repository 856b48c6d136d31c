"""The teacher conversation of an example (§3.4): one user turn holding the teacher prompt.

The prompt is :class:`nextedit.prompts.teacher.TeacherFormat`'s, built from the example's request
(:func:`nextedit.context.example_request.example_request`) and, when the example has one, its own
``edit_history`` text. The teacher, QA and repair stages all build it here, so the repair
conversation repeats exactly what the teacher was asked (and hits the same cache entry).
"""

from __future__ import annotations

from dataclasses import dataclass

from nextedit.context.example_request import example_request
from nextedit.llm import ChatParams, ChatRequest, Message
from nextedit.prompts.teacher import TeacherFormat
from nextedit.schema.example import Example
from nextedit.schema.request import Zeta2PromptInput

TEACHER_FORMAT = TeacherFormat()
MAX_TOKENS = 16384  # §3.3: the teacher's completion budget


@dataclass(frozen=True)
class TeacherPrompt:
    """An example's request and the teacher prompt shown for it."""

    request: Zeta2PromptInput
    text: str

    @property
    def messages(self) -> list[Message]:
        return [{"role": "user", "content": self.text}]

    def chat_request(self, seed: int | None = None, max_tokens: int = MAX_TOKENS) -> ChatRequest:
        return ChatRequest.of(self.messages, ChatParams(max_tokens=max_tokens, seed=seed))


def teacher_prompt(example: Example) -> TeacherPrompt:
    """The teacher prompt of ``example``. Raises ``ValueError`` naming the field when the example has
    no usable request."""
    request = example_request(example)
    if example.edit_history:
        formatted = TEACHER_FORMAT.format_prompt_with_history(request, example.edit_history)
    else:
        formatted = TEACHER_FORMAT.format_prompt(request)
    if formatted is None:  # the teacher format has no practical budget; kept for the contract
        raise ValueError("teacher prompt over its token budget")
    return TeacherPrompt(request, formatted.prompt)
