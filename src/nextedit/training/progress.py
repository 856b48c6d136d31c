"""How a training run reports itself: a small listener protocol (the library never prints).

:func:`nextedit.training.train.train` calls, on the main process only, ``start`` once with the
global step range, ``logged`` with each record it appends to ``<out>/train_log.jsonl`` every
``log_every`` steps (step, phase, loss, lr, tokens_per_s, tokens, elapsed_s), ``message`` for a
one-line notice (a phase's missing input file, ``--resume`` without a checkpoint) and ``finish``
once the loop ends (also when it stops on an exception, which then propagates). The command line
renders this with rich (``nextedit train``); tests and Python callers pass their own listener or
none. The pipeline's :class:`nextedit.pipeline.ProgressListener` does not fit: a training run has
steps and losses, not inputs and a :class:`~nextedit.pipeline.RunResult`.
"""

from __future__ import annotations

from typing import Any, Protocol


class TrainProgress(Protocol):
    def start(self, total_steps: int, start_step: int) -> None:
        """The loop runs global steps ``start_step + 1`` … ``total_steps``."""

    def logged(self, record: dict[str, Any]) -> None:
        """One step record, exactly as written to ``train_log.jsonl``."""

    def message(self, text: str) -> None:
        """One line worth telling the user (not an error)."""

    def finish(self) -> None:
        """The loop is over (finished, or stopped by an exception that follows)."""


class NoTrainProgress:
    """A listener that ignores everything."""

    def start(self, total_steps: int, start_step: int) -> None:
        pass

    def logged(self, record: dict[str, Any]) -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def finish(self) -> None:
        pass
