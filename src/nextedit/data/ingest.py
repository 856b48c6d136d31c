"""Source stages: readers that make examples from commits or release pairs.

A :class:`SourceStage` lists work items (:meth:`items`, one per commit or release pair, cheap)
and turns one item into examples (:meth:`examples_for`). From Python, ``stage.run()`` yields
every example; written to a file, it is a pipeline like any other (resumable, sharded, local or
Ray)::

    run_pipeline([GitIngest("repo"), ExampleWriter("a.jsonl")], executor=make_executor("ray"))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from nextedit.pipeline.readers import Item, Reader
from nextedit.schema.example import Example

IngestItem = Item  # the name sources have used for their work items


def decode_source(data: bytes, label: str) -> str:
    """UTF-8 text of a source file's bytes (a git blob, a file of a release); ``ValueError`` naming
    ``label`` for binary (a NUL in the first 8 KiB) or undecodable data."""
    if b"\0" in data[:8192]:
        raise ValueError(f"{label}: binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{label}: not UTF-8 ({e.reason} at byte {e.start})") from e


class SourceStage(Reader):
    """A reader whose items are commits or release pairs; skipped inputs go to ``stats.messages``."""

    name = "ingest"

    def __init__(self, on_error: Callable[[str], None] | None = None):
        super().__init__()
        self._on_error = on_error

    @property
    def errors(self) -> list[str]:
        """The skipped inputs so far, one line each (``stats.messages``: ``skipped: <why>``)."""
        return self.stats.messages

    def report(self, msg: str) -> None:
        """Record a skipped input (named in ``msg``)."""
        self.stats.note(f"skipped: {msg}")
        self.stats.count("skipped inputs")
        if self._on_error:
            self._on_error(msg)

    def items(self) -> Iterable[Item]:
        raise NotImplementedError

    def examples_for(self, item: Item) -> list[Example]:
        raise NotImplementedError

    def read(self, item: Item) -> list[Example]:
        return self.examples_for(item)

    def count(self) -> int:
        return sum(1 for _ in self.items())
