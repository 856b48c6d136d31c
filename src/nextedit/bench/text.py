"""Speed check for the text utilities (``nextedit bench text``).

Builds a seeded synthetic source file, applies scattered line edits, and times line_diff, unified_diff,
granular_edits and apply_patch (mean milliseconds per call). Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from nextedit.text.diff import granular_edits, line_diff, unified_diff
from nextedit.text.patch import apply_patch


def make_pair(n_lines: int, seed: int = 0) -> tuple[str, str]:
    rng = random.Random(seed)
    lines = []
    for _ in range(n_lines):
        r = rng.random()
        if r < 0.7:
            lines.append(f"    value_{rng.randint(0, n_lines // 4)} = compute({rng.randint(0, 9)})")
        else:
            lines.append(rng.choice(["", "    }", "    return x", "def f():"]))
    old = "\n".join(lines) + "\n"
    for _ in range(max(1, n_lines // 50)):
        i = rng.randrange(len(lines))
        lines[i] += "  # changed"
    for _ in range(max(1, n_lines // 100)):
        lines.insert(rng.randrange(len(lines)), "    new_line()")
    return old, "\n".join(lines) + "\n"


def _time(fn: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1000


def bench_text(lines: int = 2000, repeat: int = 5) -> dict[str, float | int]:
    """Mean milliseconds per call of each utility on a ``lines``-line file; also ``lines`` and
    ``hunks`` (of the patch between the two versions)."""
    old, new = make_pair(lines)
    patch = unified_diff(old, new, "f")
    if apply_patch(old, patch) != new:
        raise AssertionError("apply_patch(unified_diff(old, new)) != new")  # a bug, not a figure
    return {
        "lines": lines,
        "hunks": patch.count("@@ -"),
        "line_diff_ms": _time(lambda: line_diff(old, new), repeat),
        "unified_diff_ms": _time(lambda: unified_diff(old, new, "f"), repeat),
        "granular_edits_ms": _time(lambda: granular_edits(old, new), repeat),
        "apply_patch_ms": _time(lambda: apply_patch(old, patch), repeat),
    }
