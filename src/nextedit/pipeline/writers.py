"""Writers: the last step of a pipeline.

The executor hands a writer the examples of each shard, in order, in the driving process (one
writer, one file, deterministic order). :class:`ExampleWriter` writes JSONL (plain, ``.gz``,
``.zst``, ``-`` = stdout) and the examples that failed to ``<output stem>.failed.jsonl`` beside
it, each with its ``error`` (to stdout, failed examples are only named in the run's messages);
:class:`MemoryWriter` keeps them in lists.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from nextedit.errors import NexteditError
from nextedit.io.jsonl import JsonlWriter, read_valid_prefix
from nextedit.pipeline.record import Progress
from nextedit.pipeline.stage import Stage
from nextedit.schema.example import Example


def failed_path(output: str | Path) -> Path:
    """``out.jsonl`` → ``out.failed.jsonl`` (``out.jsonl.gz`` → ``out.failed.jsonl.gz``)."""
    p = Path(output)
    name = p.name
    i = name.find(".jsonl")
    return p.with_name(name[:i] + ".failed" + name[i:] if i > 0 else name + ".failed.jsonl")


class Writer(Stage):
    """Base writer. ``path`` is the file it writes (None: not a file, so nothing to resume)."""

    name = "write"
    path: str | None = None

    def open(self, resume: Progress | None = None) -> None:
        """Start writing; with ``resume``, keep the first ``resume.lines`` lines (and failed lines)."""

    def write(self, example: Example) -> None:
        raise NotImplementedError

    def write_failed(self, record: dict) -> None:
        """Keep one failed example (its JSON plus ``error``) or failed item (``name``, ``error``)."""

    def close(self) -> None:
        pass

    def run(self, examples: Iterable[Example]) -> Iterator[Example]:
        self.open()
        try:
            for ex in examples:
                self.write(ex)
                yield ex
        finally:
            self.close()


class ExampleWriter(Writer):
    """JSONL output (see module doc). ``atomic``: write ``<path>.tmp`` and rename it at the end
    (``--in-place``), never resumed."""

    def __init__(self, path: str | Path | None, atomic: bool = False) -> None:
        super().__init__()
        self.path = None if path in (None, "-") else str(path)
        self.atomic = atomic and self.path is not None
        self.failed_path = failed_path(self.path) if self.path else None
        self._out: JsonlWriter | None = None
        self._failed: JsonlWriter | None = None

    def open(self, resume: Progress | None = None) -> None:
        if self.path is None:
            self._out = JsonlWriter("-")
            return
        target = self.path + ".tmp" if self.atomic else self.path
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        if resume and not self.atomic:
            _keep_lines(Path(self.path), resume.lines)
            _keep_lines(self.failed_path, resume.failed)
            self._out = JsonlWriter(target, append=True)
        else:
            self._out = JsonlWriter(target)
            self.failed_path.unlink(missing_ok=True)

    def write(self, example: Example) -> None:
        self._out.write(example)
        self.stats.written += 1

    def write_failed(self, record: dict) -> None:
        if self.failed_path is None:
            return
        if self._failed is None:
            self._failed = JsonlWriter(self.failed_path, append=True)
        self._failed.write(record)

    def close(self) -> None:
        for w in (self._out, self._failed):
            if w is not None:
                w.close()
        self._out = self._failed = None
        if self.atomic and Path(self.path + ".tmp").exists():
            os.replace(self.path + ".tmp", self.path)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_out": None, "_failed": None}


class MemoryWriter(Writer):
    """Keeps the output in ``examples`` and the failed records in ``failed`` (no file, no resume)."""

    def __init__(self) -> None:
        super().__init__()
        self.examples: list[Example] = []
        self.failed: list[dict] = []

    def write(self, example: Example) -> None:
        self.examples.append(example)
        self.stats.written += 1

    def write_failed(self, record: dict) -> None:
        self.failed.append(record)


def _keep_lines(path: Path, n: int) -> None:
    """Cut ``path`` to its first ``n`` complete lines (a torn or unrecorded tail goes)."""
    if not path.exists():
        if n:
            raise NexteditError(f"{path}: missing, but its run record counts {n} lines; pass --no-resume")
        return
    kept = []
    for line in read_valid_prefix(path):
        if len(kept) == n:
            break
        kept.append(line)
    if len(kept) < n:
        raise NexteditError(
            f"{path}: has {len(kept)} lines, its run record counts {n}; pass --no-resume to start over"
        )
    tmp = path.with_name(path.name + ".tmp")
    with JsonlWriter(tmp) as w:
        for line in kept:
            w.write_line(line)
    os.replace(tmp, path)
