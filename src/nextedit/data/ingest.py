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
