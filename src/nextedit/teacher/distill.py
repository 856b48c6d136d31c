"""``nextedit distill``: predictions → training labels (§3.8).

``expected_patches`` = [the ``repair`` prediction's patch] when a repair without error exists, else
the patches of every teacher prediction without error (duplicates once, in order). The patches
carry the predicted cursor inline as ``<|user_cursor|>`` (the §2.10 region patch). ``prompt``,
``predictions``, ``score`` and ``qa`` are removed, so the line is an ``ExampleSpec`` again, ready for
``format-prompt`` and ``train``. An example without any usable prediction is dropped
(``no usable prediction``). An empty patch is a label too: "nothing to do here".
"""

from __future__ import annotations

from nextedit.pipeline.stage import Stage
from nextedit.schema.example import Example
from nextedit.teacher.repair import REPAIR_PROVIDER

REMOVED = ("prompt", "predictions", "score", "qa")


def labels(example: Example) -> list[str] | None:
    """The distilled ``expected_patches`` of ``example`` (module doc), or None when it has none."""
    usable = [p for p in example.predictions if not p.error and p.actual_patch is not None]
    repaired = [p for p in usable if p.provider == REPAIR_PROVIDER]
    chosen = repaired[-1:] if repaired else [p for p in usable if p.provider != REPAIR_PROVIDER]
    patches = list(dict.fromkeys(p.actual_patch or "" for p in chosen))
    return patches or None


class DistillStage(Stage):
    """Replace ``expected_patches`` by the distilled labels and drop the LLM fields (module doc)."""

    name = "distill"

    def process(self, example: Example) -> Example | None:
        patches = labels(example)
        if patches is None:
            self.stats.drop("no usable prediction")
            return None
        repaired = any(p.provider == REPAIR_PROVIDER and not p.error for p in example.predictions)
        self.stats.count("labels from repair" if repaired else "labels from teacher")
        data = {k: v for k, v in example.to_dict().items() if k not in REMOVED}
        data["expected_patches"] = patches
        return Example.model_validate(data)

    def is_complete(self, example: Example) -> bool:
        return not any(k in example.model_fields_set for k in REMOVED)
