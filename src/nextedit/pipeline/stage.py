"""The step abstraction: a stage takes an iterator of examples and yields examples.

Readers, transforms and writers are all stages (:mod:`nextedit.pipeline.readers`,
:mod:`nextedit.pipeline.writers`); :func:`nextedit.pipeline.run_pipeline` runs a list of them.
Every stage keeps counters (in, out, dropped and why, seconds, messages) that the run reports at
the end, so a run explains itself. The same stage object is what the CLI runs and what Python calls:

    stage = ScoreStage()
    for ex in stage.run(read_examples(["eval.jsonl"])): ...

A stage never knows where it runs: the executor may pickle it into worker processes (or Ray
actors), so it keeps in ``stats`` whatever the run must report, and opens unpicklable resources
(processes, clients) lazily.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from nextedit.schema.example import Example


@dataclass
class StageStats:
    """Counters a stage accumulates while it runs; ``seconds`` is wall time inside the stage."""

    seen: int = 0
    written: int = 0
    skipped_resume: int = 0
    seconds: float = 0.0
    dropped: Counter[str] = field(default_factory=Counter)
    counters: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)  # one line each, naming the input (file:line)

    def drop(self, reason: str) -> None:
        self.dropped[reason] += 1

    def count(self, key: str, n: int = 1) -> None:
        self.counters[key] += n

    def note(self, message: str) -> None:
        """Record a one-line message for the run's report (a skipped input, a failed example)."""
        self.messages.append(message)

    def merge(self, other: StageStats) -> None:
        """Add ``other`` (the counters of the same stage on one shard) into these."""
        self.seen += other.seen
        self.written += other.written
        self.skipped_resume += other.skipped_resume
        self.seconds += other.seconds
        self.dropped.update(other.dropped)
        self.counters.update(other.counters)
        self.messages.extend(other.messages)


class Stage:
    """Base stage. Subclasses override :meth:`process` (1 → 0..n) or :meth:`run` (stream → stream).

    ``name`` labels progress and stats. A stage that overrides :meth:`run` sees the whole stream
    at once (e.g. dedup), so the executor runs its pipeline as one shard; a stage that overrides
    :meth:`process` is applied example by example, and an exception on one example fails that
    example only (it goes to the run's ``failed`` file). :meth:`is_complete` says whether an
    example needs no more work from this stage (for callers that skip finished examples; the
    pipeline itself resumes by shards, :mod:`nextedit.pipeline.record`).
    """

    name: str = "stage"

    def __init__(self) -> None:
        self.stats = StageStats()

    def process(self, example: Example) -> Example | Iterable[Example] | None:
        return example

    def apply(self, example: Example) -> list[Example]:
        """:meth:`process` one example, counted and timed; its exceptions propagate."""
        self.stats.seen += 1
        t0 = time.perf_counter()
        try:
            result = self.process(example)
            outs = [] if result is None else [result] if isinstance(result, Example) else list(result)
        finally:
            self.stats.seconds += time.perf_counter() - t0
        self.stats.written += len(outs)
        return outs

    def run(self, examples: Iterable[Example]) -> Iterator[Example]:
        for ex in examples:
            yield from self.apply(ex)

    def is_complete(self, example: Example) -> bool:
        """True if ``example`` (read back from a previous output) needs no more work."""
        return True

    def close(self) -> None:
        """Release resources (models, pools). Called by the executor at the end."""


Step = Stage  # datatrove's word for it: readers, transforms and writers are all steps


def sees_whole_stream(stage: Stage) -> bool:
    """True for a stage that overrides :meth:`Stage.run` (it needs every example in one shard)."""
    return type(stage).run is not Stage.run


class MapStage(Stage):
    """A stage made of a plain function ``Example -> Example | None``."""

    def __init__(self, fn, name: str = "map") -> None:  # noqa: ANN001
        super().__init__()
        self.fn = fn
        self.name = name

    def process(self, example: Example) -> Example | None:
        return self.fn(example)
