"""One training/eval example = one JSONL line, field-compatible with Zed's `Example`/`ExampleSpec`.

Unknown fields are preserved (``extra="allow"``) so a Zed-produced line round-trips unchanged.
Serialise with :meth:`Example.to_json` which omits fields that were never set, so a line we read
is written back with exactly the keys it had (plus whatever a stage added).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    """Base for records that keep unknown keys (forward compatibility with newer Zed versions)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)


class ActualCursor(_Open):
    """Where a prediction left the cursor. Offsets are UTF-8 bytes."""

    path: str | None = None
    row: int | None = None
    column: int | None = None
    offset: int | None = None
    editable_region_offset: int | None = None


class Prediction(_Open):
    """One model (or teacher, or baseline) prediction for an example."""

    actual_patch: str | None = None
    actual_output: str | None = None
    actual_cursor: ActualCursor | None = None
    error: str | None = None
    provider: str | None = None
    cumulative_logprob: float | None = None
    avg_logprob: float | None = None


class PromptRecord(_Open):
    """The formatted prompt and SFT targets (`format-prompt` stage)."""

    input: str | None = None
    expected_output: str | None = None
    rejected_output: str | None = None
    prefill: str | None = None
    provider: str | None = None


class QaResult(_Open):
    """LLM-judge verdict on a prediction."""

    reasoning: str | None = None
    reverts_edits: bool | None = None
    confidence: int | None = None
    response: str | None = None
    error: str | None = None


class Example(_Open):
    """A Zed ``Example``: the flattened ``ExampleSpec`` plus pipeline fields.

    ``prompt_inputs`` is kept as a plain dict here; :mod:`nextedit.schema.request` validates it
    as a ``Zeta2PromptInput`` where a stage needs typed access.
    """

    # ---- ExampleSpec
    name: str = ""
    repository_url: str = ""
    revision: str = ""
    tags: list[str] = Field(default_factory=list)
    reasoning: str | None = None
    uncommitted_diff: str = ""
    recently_opened_files: list[dict[str, Any]] | None = None
    recently_viewed_files: list[dict[str, Any]] | None = None
    uncommitted_diff_contains_edit_history: bool | None = None
    cursor_path: str = ""
    cursor_position: str = ""
    edit_history: str = ""
    expected_patches: list[str] = Field(default_factory=list)
    rejected_patch: str | None = None
    telemetry: dict[str, Any] | None = None
    human_feedback: list[dict[str, Any]] | None = None
    rating: str | None = None
    # ---- Example (pipeline)
    zed_version: str | None = None
    prompt_inputs: dict[str, Any] | None = None
    prompt: PromptRecord | None = None
    predictions: list[Prediction] = Field(default_factory=list)
    score: list[dict[str, Any]] = Field(default_factory=list)
    qa: list[QaResult | None] = Field(default_factory=list)

    # ------------------------------------------------------------------ serialisation
    @classmethod
    def from_json(cls, line: str | bytes) -> Example:
        return cls.model_validate_json(line)

    def to_json(self) -> str:
        """One compact JSON line (no trailing newline), non-ASCII kept as UTF-8."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    # ------------------------------------------------------------------ identity
    def spec_hash(self) -> str:
        """Stable hash of the ``ExampleSpec`` part: the identity used for resume and dedup."""
        spec = {
            k: getattr(self, k)
            for k in (
                "name",
                "repository_url",
                "revision",
                "uncommitted_diff",
                "cursor_path",
                "cursor_position",
                "edit_history",
                "expected_patches",
            )
        }
        blob = json.dumps(spec, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def add_tag(self, tag: str) -> None:
        if tag not in self.tags:
            self.tags = [*self.tags, tag]
