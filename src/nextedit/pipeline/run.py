"""`run_pipeline`: the one way to run steps — ``[reader, *steps, writer]`` on an executor.

1. The driving process lists the reader's items (after ``offset``, ``name``, ``limit``) and
   groups them into shards of ``shard_size`` consecutive items (one shard if a step sees the whole
   stream, e.g. dedup).
2. The executor runs each shard — read, then every step — locally or on Ray, and returns the
   results in shard order.
3. The driver writes each shard's examples (and failed records) through the one writer, then
   appends a marker to the run record: an interrupted run, rerun with the same inputs and options,
   resumes after the last marked shard (:mod:`nextedit.pipeline.record`). A rerun with other
   inputs or options is refused (:class:`OutputInUse`) unless ``resume=False`` (start over) or
   ``restart_if_changed`` (start over only then).

Stats of every step are merged from the shards into the caller's stage objects, so after the run
``stage.stats`` describes the whole run wherever it ran.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Literal

from nextedit.errors import NexteditError
from nextedit.pipeline.executors import Executor, LocalExecutor
from nextedit.pipeline.progress import NoProgress, ProgressListener
from nextedit.pipeline.readers import ExampleReader, Item, Reader
from nextedit.pipeline.record import Progress, RunRecord, describe, run_hash
from nextedit.pipeline.shard import Job, Shard
from nextedit.pipeline.stage import Stage, StageStats, sees_whole_stream
from nextedit.pipeline.writers import ExampleWriter, Writer

FailedMode = Literal["keep", "skip"]
DEFAULT_SHARD_SIZE = 16  # items per shard: the most work an interruption can lose per worker


class OutputInUse(NexteditError):
    """The output exists and was not made by this run (other inputs or options)."""


@dataclass
class RunResult:
    """What a run did. ``stages`` is the pipeline (reader, steps, writer) with its stats."""

    stages: list[Stage]
    items: int = 0  # items done by this run
    resumed: int = 0  # items done by an earlier run of the same pipeline
    lines: int = 0  # output lines in total
    failed: int = 0  # failed examples/items in total (the failed file's lines)
    unreadable: int = 0  # input lines or files that could not be read (skipped)
    seconds: float = 0.0
    messages: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing was skipped and nothing failed."""
        return not self.failed and not self.unreadable


def run_pipeline(
    pipeline: list[Stage],
    executor: Executor | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
    name: str | None = None,
    failed: FailedMode = "keep",
    failfast: bool = False,
    resume: bool = True,
    restart_if_changed: bool = False,
    shard_size: int = DEFAULT_SHARD_SIZE,
    progress: ProgressListener | None = None,
    label: str | None = None,
) -> RunResult:
    """Run ``[reader, *steps, writer]`` (see module doc).

    ``limit``/``offset``/``name`` select the reader's items (``name``: substring of the label,
    e.g. the example name); ``failed="keep"`` writes a failed example to the output as it was
    when its step raised, ``"skip"`` leaves it out (both write it to the failed file);
    ``failfast`` stops at the first unreadable input or failed example instead.
    """
    reader, steps, writer = _parts(pipeline)
    executor = executor or LocalExecutor()
    progress = progress or NoProgress()
    label = label or " → ".join(s.name for s in steps) or reader.name
    whole = any(sees_whole_stream(s) for s in steps)
    size = None if whole else shard_size
    identity = {
        "inputs": reader.fingerprint(),
        "steps": [describe(s) for s in steps],
        "select": {"offset": offset, "limit": limit, "name": name},
        "shard_size": size,
        "failed": failed,
    }
    record = RunRecord(writer.path) if writer.path and not getattr(writer, "atomic", False) else None
    state = _prior_progress(record, identity, writer.path, resume, restart_if_changed)
    result = RunResult([reader, *steps, writer])
    t0 = time.perf_counter()

    if state and state.complete:
        _finish_resumed(result, state, steps, t0)
        progress.start(label, state.items)
        progress.advance(state.items)
        progress.finish(result)
        return result

    run = run_hash(identity)
    if record:
        record.start(run, identity, state)
    state = state or Progress()
    writer.open(state if state.shards else None)
    items = _select(reader.items(), offset, limit, name)
    progress.start(label, _total(reader, offset, limit, name))
    progress.advance(state.items)
    job = Job(reader, steps, keep_failed=failed == "keep", failfast=failfast)
    tally = _Tally([reader, *steps], progress)
    done = Progress(state.shards, state.items, state.lines, state.failed)
    try:
        for shard in executor.map(job, _shards(items, size, skip=state.shards)):
            for ex in shard.examples:
                writer.write(ex)
            for rec in shard.failed:
                writer.write_failed(rec)
            tally.add(shard.stats)
            n = shard.stats[0].seen
            done = Progress(
                shard.index + 1,
                done.items + n,
                done.lines + len(shard.examples),
                done.failed + len(shard.failed),
            )
            if record:
                record.mark(shard.index, done.items, done.lines, done.failed)
            result.items += n
            progress.advance(n)
    finally:  # finished or interrupted: what was done is written, counted and reported
        writer.close()
        for stage in (reader, *steps):
            stage.close()
        tally.finish()
        for step in steps:
            step.stats.skipped_resume += state.items
        result.resumed, result.lines, result.failed = state.items, done.lines, done.failed
        result.unreadable = reader.stats.counters.get("unreadable inputs", 0)
        result.seconds = time.perf_counter() - t0
        result.messages = [m for stage in result.stages for m in stage.stats.messages]
        progress.finish(result)
    if record:
        record.finish(Path(writer.path).stat().st_size, result.unreadable)
    return result


def run_stage(stage: Stage, inputs: list[str], output: str | None = None, **options) -> Stage:  # noqa: ANN003
    """Shorthand: ``run_pipeline([ExampleReader(inputs), stage, ExampleWriter(output)], **options)``;
    returns ``stage`` (its ``stats`` describe the run)."""
    run_pipeline([ExampleReader(inputs), stage, ExampleWriter(output)], **options)
    return stage


def _parts(pipeline: list[Stage]) -> tuple[Reader, list[Stage], Writer]:
    if len(pipeline) < 2 or not isinstance(pipeline[0], Reader) or not isinstance(pipeline[-1], Writer):
        raise TypeError("a pipeline is [reader, *steps, writer]")
    return pipeline[0], list(pipeline[1:-1]), pipeline[-1]


def _prior_progress(
    record: RunRecord | None, identity: dict, output: str | None, resume: bool, restart_if_changed: bool
) -> Progress | None:
    """Where an earlier run of this same pipeline stopped; None = start afresh. Refuses an
    output that another run made unless told to start over."""
    if record is None or output is None or not Path(output).exists():
        return None
    if not resume:
        return None
    state = record.load(run_hash(identity)) if identity["inputs"] is not None else None
    if state and state.complete and Path(output).stat().st_size != state.bytes:
        state = None  # changed since the run finished: not its output any more
    if state is None and not restart_if_changed:
        why = (
            "its input is stdin, which cannot be resumed"
            if identity["inputs"] is None
            else "it holds the output of another run (other inputs or options)"
        )
        raise OutputInUse(f"{output}: exists and {why}; pass --no-resume (or --force) to overwrite it")
    return state


def _finish_resumed(result: RunResult, state: Progress, steps: list[Stage], t0: float) -> None:
    for step in steps:
        step.stats.skipped_resume += state.items
    result.resumed, result.lines, result.failed = state.items, state.lines, state.failed
    result.unreadable = state.unreadable  # so a rerun exits as the run did
    result.seconds = time.perf_counter() - t0


def _select(items: Iterable[Item], offset: int, limit: int | None, name: str | None) -> Iterator[Item]:
    """Zed ``ep`` selection: skip the first ``offset`` items, keep labels containing ``name``,
    stop after ``limit``."""
    n = 0
    for i, item in enumerate(items):
        if i < offset or (name and name not in item.label):
            continue
        if limit is not None and n >= limit:
            return
        n += 1
        yield item


def _total(reader: Reader, offset: int, limit: int | None, name: str | None) -> int | None:
    count = None if name else reader.count()
    if count is None:
        return None
    count = max(0, count - offset)
    return count if limit is None else min(count, limit)


def _shards(items: Iterator[Item], size: int | None, skip: int) -> Iterator[Shard]:
    """Consecutive shards of ``size`` items (all in one if ``size`` is None); the first ``skip``
    are done already and only read past."""
    if size is None:
        if skip == 0:
            yield Shard(0, list(items))
        return
    index = 0
    while chunk := list(islice(items, size)):
        if index >= skip:
            yield Shard(index, chunk)
        index += 1


class _Tally:
    """Adds up the stages' stats shard by shard, passes each new message to the listener once,
    and leaves the totals on the stage objects at the end.

    A shard's stats are the counters its worker's copies of the stages gathered on it (run in
    this process, the stages hand theirs over and start afresh). What the driver's own objects
    gather meanwhile — the reader's notes on lines it could not list — is sent as it appears and
    added at the end.
    """

    def __init__(self, stages: list[Stage], progress: ProgressListener) -> None:
        self.stages, self.progress = stages, progress
        self.totals = [StageStats() for _ in stages]
        self.live: list[StageStats | None] = [None] * len(stages)
        self.sent = [0] * len(stages)

    def add(self, shard_stats: list[StageStats]) -> None:
        for total, stats in zip(self.totals, shard_stats, strict=True):
            total.merge(stats)
            for text in stats.messages:
                self.progress.message(text)
        self._send_live()

    def _send_live(self) -> None:
        for i, stage in enumerate(self.stages):
            if stage.stats is not self.live[i]:
                self.live[i], self.sent[i] = stage.stats, 0
            for text in stage.stats.messages[self.sent[i] :]:
                self.progress.message(text)
            self.sent[i] = len(stage.stats.messages)

    def finish(self) -> None:
        self._send_live()
        for stage, total in zip(self.stages, self.totals, strict=True):
            total.merge(stage.stats)
            stage.stats = total
