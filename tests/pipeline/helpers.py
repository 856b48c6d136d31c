"""Test helpers: progress listeners (one records what it hears, one interrupts a run) and a step
that fails on purpose."""

from __future__ import annotations

from nextedit.pipeline import RunResult, Stage


class Fussy(Stage):
    """Raises on the examples whose name contains ``word``."""

    name = "fussy"

    def __init__(self, word: str = "dashboard") -> None:
        super().__init__()
        self.word = word

    def process(self, example):  # noqa: ANN001, ANN201
        if self.word in example.name:
            raise ValueError(f"no {self.word}s")
        example.add_tag("fussy:ok")
        return example


class Recorder:
    """Keeps every call: ``started`` labels and totals, ``done`` items, ``messages``, ``results``."""

    def __init__(self) -> None:
        self.started: list[tuple[str, int | None]] = []
        self.done = 0
        self.messages: list[str] = []
        self.results: list[RunResult] = []

    def start(self, label: str, total: int | None) -> None:
        self.started.append((label, total))

    def advance(self, items: int) -> None:
        self.done += items

    def message(self, text: str) -> None:
        self.messages.append(text)

    def finish(self, result: RunResult) -> None:
        self.results.append(result)


class InterruptAfter(Recorder):
    """Raises ``KeyboardInterrupt`` (as Ctrl-C would) once ``shards`` shards of a run whose label
    starts with ``label`` are done — after their lines and markers are written, as a real
    interruption between two shards."""

    def __init__(self, shards: int = 1, label: str = "") -> None:
        super().__init__()
        self.shards, self.label, self._current, self._seen = shards, label, "", 0

    def start(self, label: str, total: int | None) -> None:
        super().start(label, total)
        self._current = label

    def advance(self, items: int) -> None:
        super().advance(items)
        if items and self._current.startswith(self.label):
            self._seen += 1
            if self._seen >= self.shards:
                raise KeyboardInterrupt
