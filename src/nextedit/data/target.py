"""The training view of a split-commit example's expected patch (before ``format-prompt``).

A split-commit expected patch is "the rest of the commit": it can touch other files or lines far
from the cursor, which a single-file next-edit prompt cannot express. :class:`FocusTargetStage`
keeps the hunks of the cursor file that the prompt format can encode inside its editable region
(each hunk tried alone, then together; if together fails, the first that fits) and stores the
original patch in the extra field ``commit_remainder_patch``. When nothing fits, the target is
empty ("no edit here") for cross-file / far examples — the right answer for a single-file model —
and the example is tagged ``target:trimmed-empty``. With ``max_changed_lines`` the target is cut
to its first N changed lines (:func:`truncate_patch`): a shorter, still valid next edit — the
split-commit remainder can be a whole new function, far more than one prediction.
"""

from __future__ import annotations

from nextedit.pipeline.stage import Stage
from nextedit.schema.example import Example
from nextedit.text.patch import Patch as _Patch
from nextedit.text.patch import PatchError, parse_patch


def _file_hunk_patches(patch: str, path: str) -> list[str]:
    """One single-hunk patch text per hunk of ``path`` in ``patch``."""
    parsed = parse_patch(patch)
    out = []
    for fp in parsed.files:
        if fp.path != path:
            continue
        for h in fp.hunks:
            out.append(_Patch(files=[type(fp)(fp.old_path, fp.new_path, [h])]).to_text())
    return out


def _join(path: str, hunk_patches: list[str]) -> str:
    parsed = [parse_patch(p).files[0] for p in hunk_patches]
    fp = type(parsed[0])(parsed[0].old_path, parsed[0].new_path, [h for f in parsed for h in f.hunks])
    return _Patch(files=[fp]).to_text()


def truncate_patch(patch: str, max_changed: int) -> str:
    """Keep the first ``max_changed`` changed lines of ``patch``, counted the way a person types a
    change block (removed and added lines paired: ``-a +A -b +B …``). Removed lines past the budget
    become context, added ones are dropped: still a valid patch for the same old text, describing
    the beginning of the edit. Hunks left without changes are removed."""
    parsed = parse_patch(patch)
    budget = max_changed
    files = []
    for fp in parsed.files:
        hunks = []
        for h in fp.hunks:
            out: list = []
            changed = False
            i, lines = 0, h.lines
            while i < len(lines):
                if lines[i].kind == " ":
                    out.append(lines[i])
                    i += 1
                    continue
                j = i
                while j < len(lines) and lines[j].kind != " ":
                    j += 1
                dels = [ln for ln in lines[i:j] if ln.kind == "-"]
                adds = [ln for ln in lines[i:j] if ln.kind == "+"]
                for k in range(max(len(dels), len(adds))):
                    if k < len(dels):
                        if budget > 0:
                            out.append(dels[k])
                            budget -= 1
                            changed = True
                        else:
                            d = dels[k]
                            out.append(type(d)(" ", d.text, d.no_newline, d.soft))
                    if k < len(adds) and budget > 0:
                        out.append(adds[k])
                        budget -= 1
                        changed = True
                i = j
            if changed:
                hunks.append(type(h)(h.old_start, None, h.new_start, None, out, h.header))
        if hunks:
            files.append(type(fp)(fp.old_path, fp.new_path, hunks))
    return _Patch(files=files).to_text() if files else ""


class FocusTargetStage(Stage):
    """Trim ``expected_patches[0]`` to what the prompt format can encode (see module doc), then to
    at most ``max_changed_lines`` changed lines (0 = no limit; tag ``target:truncated``)."""

    name = "focus-target"

    def __init__(self, format: str = "zeta2_1", max_changed_lines: int = 0):
        super().__init__()
        from nextedit.prompts import get_format

        self.format = get_format(format)
        self.max_changed_lines = max_changed_lines

    def _fits(self, request, patch: str) -> bool:  # noqa: ANN001
        try:
            self.format.encode_target(request, patch)
            return True
        except (ValueError, PatchError):
            return False

    def process(self, example: Example) -> Example | None:
        from nextedit.context.example_request import request_or_drop

        full = example.expected_patches[0] if example.expected_patches else ""
        if not full.strip():
            self.stats.count("empty target")
            return example
        request = request_or_drop(example, self.stats)
        if request is None:
            return None
        hunks = [h for h in _file_hunk_patches(full, example.cursor_path) if self._fits(request, h)]
        if hunks and len(hunks) > 1:
            joined = _join(example.cursor_path, hunks)
            trimmed = joined if self._fits(request, joined) else hunks[0]
        else:
            trimmed = hunks[0] if hunks else ""
        if self.max_changed_lines and trimmed:
            short = truncate_patch(trimmed, self.max_changed_lines)
            if short != trimmed and self._fits(request, short):
                trimmed = short
                example.add_tag("target:truncated")
                self.stats.count("truncated")
        if trimmed != full:
            extra = example.model_extra or {}
            if "commit_remainder_patch" not in extra:
                example.commit_remainder_patch = full  # type: ignore[attr-defined]
            example.expected_patches = [trimmed, *example.expected_patches[1:]]
            self.stats.count("trimmed")
            if not trimmed:
                example.add_tag("target:trimmed-empty")
                self.stats.count("trimmed to empty")
        return example
