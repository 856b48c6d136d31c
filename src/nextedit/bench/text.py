"""Speed check for the text utilities: ``python -m nextedit.bench.text [--lines 2000] [--repeat 5]``.

Builds a seeded synthetic source file, applies scattered line edits, and times line_diff, unified_diff,
granular_edits and apply_patch (mean milliseconds per call). Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import random
import time

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


def _time(fn, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1000


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    old, new = make_pair(args.lines)
    patch = unified_diff(old, new, "f")
    assert apply_patch(old, patch) == new
    results = {
        "line_diff": _time(lambda: line_diff(old, new), args.repeat),
        "unified_diff": _time(lambda: unified_diff(old, new, "f"), args.repeat),
        "granular_edits": _time(lambda: granular_edits(old, new), args.repeat),
        "apply_patch": _time(lambda: apply_patch(old, patch), args.repeat),
    }
    print(f"{args.lines} lines, {patch.count('@@ -')} hunks")
    for name, ms in results.items():
        print(f"  {name:<15} {ms:8.2f} ms")


if __name__ == "__main__":
    main()
