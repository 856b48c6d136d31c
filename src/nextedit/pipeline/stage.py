"""The step abstraction: a stage takes an iterator of examples and yields examples.

Every stage keeps counters (in, out, dropped and why, seconds) that the executor prints at the end,
so a run explains itself. The same stage object is what the CLI runs and what Python code calls:

    stage = ScoreStage()
    for ex in stage.run(read_examples(["eval.jsonl"])): ...
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from nextedit.schema.example import Example


@dataclass
class StageStats:
    """Counters a stage accumulates while it runs."""

    seen: int = 0
    written: int = 0
    skipped_resume: int = 0
    seconds: float = 0.0
    dropped: Counter[str] = field(default_factory=Counter)
    counters: Counter[str] = field(default_factory=Counter)

    def drop(self, reason: str) -> None:
        self.dropped[reason] += 1

    def count(self, key: str, n: int = 1) -> None:
        self.counters[key] += n


class Stage:
    """Base stage. Subclasses override :meth:`process` (1 → 0..n) or :meth:`run` (stream → stream).

    ``name`` labels progress and stats; :meth:`is_complete` tells the executor whether an example
    already in the output needs no more work (resume).
    """

    name: str = "stage"

    def __init__(self) -> None:
        self.stats = StageStats()

    def process(self, example: Example) -> Example | Iterable[Example] | None:
        return example

    def run(self, examples: Iterable[Example]) -> Iterator[Example]:
        for ex in examples:
            self.stats.seen += 1
            t0 = time.perf_counter()
            result = self.process(ex)
            self.stats.seconds += time.perf_counter() - t0
            if result is None:
                continue
            if isinstance(result, Example):
                self.stats.written += 1
                yield result
            else:
                for out in result:
                    self.stats.written += 1
                    yield out

    def is_complete(self, example: Example) -> bool:
        """True if ``example`` (read back from a previous output) needs no more work."""
        return True

    def close(self) -> None:
        """Release resources (models, pools). Called by the executor at the end."""


class MapStage(Stage):
    """A stage made of a plain function ``Example -> Example | None``."""

    def __init__(self, fn, name: str = "map") -> None:  # noqa: ANN001
        super().__init__()
        self.fn = fn
        self.name = name

    def process(self, example: Example) -> Example | None:
        return self.fn(example)
