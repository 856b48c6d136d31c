"""What one worker does with one shard: read its items, pipe the examples through the steps.

This is the only code that runs inside workers (local processes or Ray actors), and it runs the
same way in the driving process when there is one worker. A step that raises on one example
fails that example only: it is recorded (the example as it was, plus ``error``) for the failed
file and, with ``keep_failed``, passes on to the output untouched by the remaining steps. With
``failfast`` the first failure stops the run instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from nextedit.errors import NexteditError
from nextedit.pipeline.readers import Item, Reader
from nextedit.pipeline.stage import Stage, StageStats, sees_whole_stream
from nextedit.schema.example import Example


class ExampleFailed(NexteditError):
    """A step raised on an example and the run was asked to stop at the first failure."""


@dataclass
class Job:
    """Everything a worker needs, sent to it once: the reader and the steps between it and the writer."""

    reader: Reader
    steps: list[Stage]
    keep_failed: bool = True
    failfast: bool = False


@dataclass
class Shard:
    index: int
    items: list[Item]


@dataclass
class ShardResult:
    """A shard's output examples (in order), failed records, and the counters of
    ``[reader, *steps]`` on this shard only."""

    index: int
    examples: list[Example] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    stats: list[StageStats] = field(default_factory=list)


def run_shard(job: Job, shard: Shard) -> ShardResult:
    result = ShardResult(shard.index)
    stream = _read(job, shard.items, result.failed)
    for step in job.steps:
        stream = _whole(step, stream) if sees_whole_stream(step) else _each(job, step, stream, result.failed)
    result.examples = [ex for ex, _failed in stream]
    for stage in (job.reader, *job.steps):  # hand this shard's counters over and start afresh
        result.stats.append(stage.stats)
        stage.stats = StageStats()
    return result


# The stream between steps carries (example, failed) pairs: a failed example kept for the output
# passes the remaining steps untouched.
Stream = Iterator[tuple[Example, bool]]


def _fail(job: Job, step: Stage, label: str, error: Exception, record: dict, failed: list[dict]) -> None:
    message = f"{step.name}: {type(error).__name__}: {error}"
    if job.failfast:
        raise ExampleFailed(f"{label}: {message}") from error
    step.stats.count("failed")
    step.stats.note(f"failed: {label}: {message}")
    failed.append({**record, "error": message})


def _read(job: Job, items: Iterable[Item], failed: list[dict]) -> Stream:
    for item in items:
        try:
            examples = job.reader.read_counted(item)
        except Exception as e:  # noqa: BLE001 - one item fails, the run goes on
            _fail(job, job.reader, item.label, e, {"name": item.label}, failed)
            continue
        for ex in examples:
            yield ex, False


def _each(job: Job, step: Stage, stream: Stream, failed: list[dict]) -> Stream:
    for ex, was_failed in stream:
        if was_failed:
            yield ex, True
            continue
        try:
            outs = step.apply(ex)
        except Exception as e:  # noqa: BLE001 - one example fails, the run goes on
            _fail(job, step, ex.name, e, json.loads(ex.to_json()), failed)
            if job.keep_failed:
                yield ex, True
            continue
        for out in outs:
            yield out, False


def _whole(step: Stage, stream: Stream) -> Stream:
    """A whole-stream step sees the examples that did not fail; kept failed ones follow its output."""
    held: list[Example] = []

    def fresh() -> Iterator[Example]:
        for ex, was_failed in stream:
            if was_failed:
                held.append(ex)
            else:
                yield ex

    for out in step.run(fresh()):
        yield out, False
    for ex in held:
        yield ex, True
