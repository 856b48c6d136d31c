"""The ``oracle`` provider: answers with the example's first expected patch (the ceiling; a
sanity check of the scoring: it must get delta chrF 100 and exact-lines F1 1.0)."""

from __future__ import annotations

from nextedit.schema.example import ActualCursor, Example, Prediction


class OracleProvider:
    """Works on examples only (a request does not carry the answer)."""

    name = "oracle"

    def predict_example(self, example: Example) -> Prediction:
        if not example.expected_patches:
            return Prediction(actual_patch="", actual_output="", provider=self.name)
        from nextedit.metrics.score import original_excerpt
        from nextedit.text.patch import PatchError, apply_patch_with_cursor

        patch = example.expected_patches[0]
        cursor = None
        try:
            excerpt, _, start_row = original_excerpt(example)
            new_text, offset = apply_patch_with_cursor(
                excerpt, patch, example.cursor_path or None, start_row=start_row or 0
            )
            if offset is not None:
                before = new_text.encode()[:offset]
                row = before.count(b"\n")
                column = len(before) - (before.rfind(b"\n") + 1)
                cursor = ActualCursor(
                    path=example.cursor_path, row=(start_row or 0) + row, column=column, offset=offset
                )
        except (PatchError, ValueError):
            pass  # the patch itself is still the oracle's answer; scoring reports if it does not apply
        return Prediction(actual_patch=patch, actual_output=patch, actual_cursor=cursor, provider=self.name)
