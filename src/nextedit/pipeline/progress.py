"""How a run reports itself: a small listener protocol (the library never prints).

:func:`~nextedit.pipeline.run_pipeline` calls ``start`` once, ``advance`` as shards finish (items
done by an earlier run count at once), ``message`` for each skipped input or failed example
(one line naming it) and ``finish`` with the result, whose stages carry their stats (also when
the run stops on an exception, which then propagates). The command
line renders this with rich (:mod:`nextedit.cli.progress`); tests and Python callers pass their
own listener or none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from nextedit.pipeline.run import RunResult


class ProgressListener(Protocol):
    def start(self, label: str, total: int | None) -> None:
        """A run of ``label`` starts; ``total`` items to do (None: unknown)."""

    def advance(self, items: int) -> None:
        """``items`` more items are done."""

    def message(self, text: str) -> None:
        """One line about one input: a skipped line (``file:line: …``) or a failed example."""

    def finish(self, result: RunResult) -> None:
        """The run is over (finished, or stopped by an exception that follows); ``result.stages``
        hold the per-step stats."""


class NoProgress:
    """A listener that ignores everything."""

    def start(self, label: str, total: int | None) -> None:
        pass

    def advance(self, items: int) -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def finish(self, result: RunResult) -> None:
        pass
