"""OpenAI Chat Completions ``POST /v1/chat/completions``: the server as the teacher, judge and repairer
of the training pipeline (``nextedit teacher | qa | repair --llm openai-compatible:URL/v1#MODEL``).

The conversation is turned back into an editor request and answered by the configured provider
(the model the request is routed to, e.g. ``hybrid``), then written as the frontier model would:

* **teacher** — the user turn is a teacher prompt (:class:`nextedit.prompts.teacher.TeacherFormat`,
  read back with ``parse_prompt``): the provider's edit, mapped onto the prompt's editable region, is
  answered in the teacher output format (a sentence, then the region in a five-backtick block, or a
  ``NO_EDITS`` block). An edit outside the prompt's region is answered ``NO_EDITS``.
* **repair** — three turns (teacher prompt, the earlier answer, a repair request): the provider's
  answer again, or ``KEEP_PREVIOUS`` when it is the earlier answer.
* **judge** — a user turn that asks for the §3.6 JSON verdict (``"reverts_edits"``, ``"confidence"``)
  and shows a current-file block with the region markers and a word-diffed predicted edit
  (``[-deleted-]``, ``{+inserted+}``): the verdict is the provider's agreement with the prediction —
  ``confidence`` 4 when the provider has an edit and every line the prediction adds is a line of the
  provider's own region, else 2 — and ``reverts_edits`` is true when the prediction deletes a run the edit
  history inserted (or inserts one it deleted). A local judge, not a frontier one: it is there so the
  whole loop runs here.

Each call is its own client for the scheduler (no supersession between the concurrent requests of a
pipeline run). ``stream=true`` is refused. Token counts are the prompt's and answer's estimated tokens.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from nextedit.context.excerpt_ranges import estimate_tokens
from nextedit.prompts.base import PromptParts, region_prompt_parts
from nextedit.prompts.history import parse_history_text
from nextedit.prompts.teacher import FENCE, REGION_END, REGION_START, TeacherFormat
from nextedit.schema.request import Zeta2PromptInput
from nextedit.server.errors import BadRequest, UnprocessableEntity
from nextedit.server.predictor import EditOutcome, Predictor
from nextedit.server.protocols.common import deadline_from, read_model, service_of
from nextedit.server.scheduler import Job
from nextedit.server.service import RequestContext
from nextedit.server.telemetry.schema import file_ext

router = APIRouter()
TEACHER = TeacherFormat()
KEEP_PREVIOUS = "KEEP_PREVIOUS"
VERDICT_KEYS = ('"reverts_edits"', '"confidence"')


class ContentPart(BaseModel):
    """One part of a message's content list (only ``text`` parts are read)."""

    model_config = ConfigDict(extra="ignore")

    type: str
    text: str = ""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[ContentPart] | None = None

    @property
    def text(self) -> str:
        """The message's text (text parts joined, as the SDK may send a list of parts)."""
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = ""
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stream: bool = False


@dataclass
class Conversation:
    """What a chat asks: ``kind`` and the teacher-prompt parts it is about (the current file, the
    editable region, history). ``previous``: the earlier answer (repair); ``judged``: the word-diffed
    prediction and ``history``: the word-diffed edit history (judge)."""

    kind: Literal["teacher", "repair", "judge"]
    parts: PromptParts
    previous: str = ""
    judged: str = ""
    history: str = ""


def read_conversation(messages: list[ChatMessage]) -> Conversation:
    """Classify ``messages`` (module doc); 422 naming what is missing when it is none of the three."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise UnprocessableEntity("messages: the last message must be the user's")
    first, last = turns[0].text, turns[-1].text
    if all(k in last for k in VERDICT_KEYS) and len(turns) == 1:
        return _judge(last)
    try:
        parts = TEACHER.parse_prompt(first)
    except ValueError as e:
        raise UnprocessableEntity(
            f"messages[0]: {e} (this endpoint answers teacher, repair and judge conversations)"
        ) from None
    if len(turns) == 1:
        return Conversation("teacher", parts)
    if len(turns) == 3 and turns[1].role == "assistant":
        return Conversation("repair", parts, previous=turns[1].text)
    raise UnprocessableEntity(
        "messages: expected a teacher prompt, or teacher prompt + answer + repair request"
    )


_BLOCK = re.compile(rf"{FENCE}([^\n`]*)\n(.*?)\n{FENCE}", re.DOTALL)


def _judge(text: str) -> Conversation:
    blocks = [(m.group(1), m.group(2)) for m in _BLOCK.finditer(text)]
    current = next(((p, b) for p, b in blocks if REGION_START in b and REGION_END in b), None)
    if current is None:
        raise UnprocessableEntity("judge prompt: no current-file block with the editable-region markers")
    path, body = current
    try:
        parts = region_prompt_parts(body, REGION_START, REGION_END, format="judge", cursor_path=path.strip())
    except ValueError as e:
        raise UnprocessableEntity(f"judge prompt: {e}") from None
    diffs = [b for p, b in blocks if not p.strip() and (p, b) != current]
    judged = diffs[-1] if diffs else ""
    history = diffs[0] if len(diffs) > 1 else ""
    parts.events = parse_history_text(unword_diff(history))  # what the provider reads of the history
    return Conversation("judge", parts, judged=judged, history=history)


_INSERTED = re.compile(r"\{\+(.*?)\+\}", re.DOTALL)
_DELETED = re.compile(r"\[-(.*?)-\]", re.DOTALL)
_DIFF_HEADERS = ("--- ", "+++ ", "@@", "diff ", "index ", "//")


def unword_diff(text: str) -> str:
    """A unified diff back from its word-diff rendering (``[-old-]``, ``{+new+}``): each marked line
    becomes its ``-`` old side and ``+`` new side (a side that was wholly inserted or deleted is
    left out), every other line a context line, headers as they are."""
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith(_DIFF_HEADERS):
            out.append(line)
            continue
        if not (_INSERTED.search(line) or _DELETED.search(line)):
            out.append(" " + line)
            continue
        old = _INSERTED.sub("", _DELETED.sub(lambda m: m.group(1), line))
        new = _DELETED.sub("", _INSERTED.sub(lambda m: m.group(1), line))
        if _INSERTED.sub("", line).strip():
            out.append("-" + old)
        if _DELETED.sub("", line).strip():
            out.append("+" + new)
    return "".join(line + "\n" for line in out)


def teacher_region(parts: PromptParts, request: Zeta2PromptInput, out: EditOutcome) -> tuple[str, int | None]:
    """The prompt's editable region after the provider's edit, and the cursor in it; the old region
    (no cursor) when the provider has no edit, an error, or an edit outside the region."""
    old = parts.editable_text
    pred = out.prediction
    if pred is None or pred.error or pred.is_no_edit(request.cursor_excerpt):
        return old, None
    data = request.excerpt_bytes()
    ps, pe = pred.editable_range
    if not 0 <= ps <= pe <= len(data):
        return old, None
    output = pred.output.encode()
    new = data[:ps] + output + data[pe:]
    s, e = parts.editable_range
    tail = len(data) - e
    if len(new) < s + tail or new[:s] != data[:s] or new[len(new) - tail :] != data[e:]:
        return old, None
    region = new[s : len(new) - tail].decode(errors="replace")
    cursor = None
    if pred.cursor_offset is not None and 0 <= pred.cursor_offset <= len(output):
        at = ps + pred.cursor_offset - s
        cursor = at if 0 <= at <= len(region.encode()) else None
    return region, cursor


def _runs(text: str, marks: re.Pattern[str]) -> set[str]:
    """The marked runs of ``text`` (``_INSERTED`` or ``_DELETED``), stripped, blank ones left out."""
    return {s.strip() for s in marks.findall(text) if s.strip()}


def verdict(conv: Conversation, own_region: str) -> dict[str, Any]:
    """The local judge's §3.6 verdict (module doc)."""
    reverts = bool(
        _runs(conv.judged, _DELETED) & _runs(conv.history, _INSERTED)
        or _runs(conv.judged, _INSERTED) & _runs(conv.history, _DELETED)
    )
    judged = unword_diff(conv.judged).splitlines()
    added = [line[1:] for line in judged if line.startswith("+") and not line.startswith("+++ ")]
    own_lines = set(own_region.splitlines())
    agrees = own_region != conv.parts.editable_text and all(line in own_lines for line in added)
    reasoning = (
        "The local model predicts the same change."
        if agrees
        else "The local model predicts a different change (or none)."
    )
    if reverts:
        reasoning += " The prediction undoes text the user just edited."
    return {
        "reasoning": reasoning,
        "reverts_edits": reverts,
        "confidence": 4 if agrees and not reverts else 2,
    }


def answer_text(conv: Conversation, region: str, cursor: int | None) -> str:
    """The assistant's text for ``conv`` given the provider's new ``region`` (module doc)."""
    if conv.kind == "judge":
        return "```json\n" + json.dumps(verdict(conv, region)) + "\n```\n"
    text = TEACHER.encode_output(conv.parts.editable_text, region, cursor)
    if conv.kind == "repair" and text.strip() == conv.previous.strip():
        return f"The previous prediction stands.\n\n{FENCE}\n{KEEP_PREVIOUS}\n{FENCE}\n"
    return text


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> JSONResponse:
    svc = service_of(request)
    ctx = RequestContext(api="chat", client_key="")
    ctx.client_key = f"chat:{ctx.request_id}"  # a pipeline's parallel requests never supersede each other
    with svc.recorded(ctx):
        t0 = time.perf_counter()
        body = await read_model(request, ChatCompletionRequest, "chat completion request")
        if body.stream:
            raise BadRequest("stream=true is not supported; send a non-streaming request")
        conv = read_conversation(body.messages)
        req = conv.parts.to_request()
        try:
            req.validate_offsets()
        except ValueError as e:
            raise UnprocessableEntity(f"the conversation's current file: {e}") from None
        ctx.timings["context"] = (time.perf_counter() - t0) * 1000

        def work(predictor: Predictor, job: Job) -> EditOutcome:
            return predictor.predict(req, cancel=job.cancel, cache_key=ctx.client_key)

        ctx.file_ext = file_ext(req.cursor_path)
        if svc.config.privacy.is_disabled(req.cursor_path):  # server/privacy.py: no edit, counters only
            ctx.private = True
            out = EditOutcome(prompt_format="teacher")
        else:
            out = await svc.execute(  # type: ignore[assignment]
                ctx,
                work,
                model_hint=body.model or None,
                is_disconnected=request.is_disconnected,
                deadline_ms=deadline_from(request),
                first=lambda predictor, cancel: predictor.predict_first(req, cancel=cancel),
            )
        region, cursor = teacher_region(conv.parts, req, out)
        text = answer_text(conv, region, cursor)
        error = out.prediction.error if out.prediction is not None else None
        ctx.answered(out, output=text, no_edit=region == conv.parts.editable_text, error=error)
    prompt_tokens = sum(estimate_tokens(m.text) for m in body.messages)
    completion_tokens = estimate_tokens(text)
    return JSONResponse(
        {
            "id": f"chatcmpl-{ctx.request_id}",
            "object": "chat.completion",
            "created": int(ctx.created),
            "model": body.model or (ctx.model_version or ""),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "system_fingerprint": ctx.model_version,
        },
        headers=ctx.response_headers(),
    )
