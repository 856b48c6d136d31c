"""Readers: the first step of a pipeline, turning inputs into examples.

A :class:`Reader` splits its work into :class:`Item`\\ s: the executor lists them in the driving
process (:meth:`Reader.items`, cheap), groups them into shards and calls :meth:`Reader.read` on
each item wherever the shard runs (a worker process, a Ray actor). For a file of examples an item
is one example; for a source (``ingest git``, ``ingest pypi``) it is one commit or release pair.
:meth:`Reader.fingerprint` identifies the inputs, so that a rerun resumes only the same run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nextedit.io.inputs import InputError, expand_inputs, read_examples
from nextedit.pipeline.record import describe
from nextedit.pipeline.stage import Stage
from nextedit.schema.example import Example


@dataclass(frozen=True)
class Item:
    """One unit of a reader's work. ``label`` is what ``--name`` matches and messages show."""

    key: str
    label: str
    data: Any = None


class Reader(Stage):
    """A stage that creates examples; its input stream is ignored. Subclasses define
    :meth:`items` and :meth:`read`; ``stats.seen`` counts items, ``stats.written`` examples."""

    name = "read"

    def items(self) -> Iterable[Item]:
        raise NotImplementedError

    def read(self, item: Item) -> list[Example]:
        raise NotImplementedError

    def count(self) -> int | None:
        """How many items :meth:`items` will list (for progress), or None if unknown."""
        return None

    def fingerprint(self) -> Any:
        """JSON-able identity of the inputs and options; None = cannot be resumed (e.g. stdin)."""
        return describe(self)

    def read_counted(self, item: Item) -> list[Example]:
        """:meth:`read` one item, counted and timed; its exceptions propagate."""
        import time

        self.stats.seen += 1
        t0 = time.perf_counter()
        try:
            out = self.read(item)
        finally:
            self.stats.seconds += time.perf_counter() - t0
        self.stats.written += len(out)
        return out

    def run(self, examples: Iterable[Example] = ()) -> Iterator[Example]:
        for item in self.items():
            yield from self.read_counted(item)


class ExampleReader(Reader):
    """Examples from files (``.jsonl``/``.json``/``.md``, directories of them, ``-`` = stdin).

    A line or file that cannot be read is reported by ``file:line`` in ``stats.messages``, counted
    as ``unreadable inputs`` and skipped; every good line is still read. With ``failfast`` the
    first one raises :class:`~nextedit.io.inputs.InputError` instead.
    """

    name = "read"

    def __init__(self, inputs: Iterable[str | Path], failfast: bool = False) -> None:
        super().__init__()
        self.paths = expand_inputs(inputs)
        self.failfast = failfast

    def _unreadable(self, message: str) -> None:
        if self.failfast:
            raise InputError(message)
        self.stats.count("unreadable inputs")
        self.stats.note(f"skipped: {message}")

    def items(self) -> Iterator[Item]:
        for i, ex in enumerate(read_examples(self.paths, on_error=self._unreadable)):
            yield Item(key=str(i), label=ex.name, data=ex)

    def read(self, item: Item) -> list[Example]:
        return [item.data]

    def count(self) -> int | None:
        total = 0
        for p in self.paths:
            if p == "-" or p.endswith((".gz", ".zst", ".zstd")):
                return None
            if p.endswith((".md", ".json")):
                total += 1
                continue
            with open(p, "rb") as f:
                total += sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        return total

    def fingerprint(self) -> Any:
        if "-" in self.paths:
            return None
        return [[p, (s := Path(p).stat()).st_size, s.st_mtime_ns] for p in self.paths]


class ExampleList(Reader):
    """Examples already in memory (e.g. one part of a split); fingerprinted by their content."""

    def __init__(self, examples: Iterable[Example], name: str = "examples") -> None:
        super().__init__()
        self.examples = list(examples)
        self.name = name

    def items(self) -> Iterator[Item]:
        for i, ex in enumerate(self.examples):
            yield Item(key=str(i), label=ex.name, data=ex)

    def read(self, item: Item) -> list[Example]:
        return [item.data]

    def count(self) -> int:
        return len(self.examples)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "examples": []}  # a worker only reads items, which carry the examples

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for ex in self.examples:
            h.update(ex.to_json().encode() + b"\n")
        return h.hexdigest()
