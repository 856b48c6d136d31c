"""Deterministic test providers (no model): replace the first ``TODO`` with ``DONE``.

A test that needs a prediction to be *still running* when something else happens never races a
sleep against it: it gives the provider a ``hold`` event, waits until the prediction has started
(:meth:`TodoProvider.wait_started`), acts, and releases the hold when it wants the answer.
"""

from __future__ import annotations

import threading

from nextedit.predict.registry import Backend
from nextedit.schema.cancel import CancelToken
from nextedit.schema.prediction import EditPrediction
from nextedit.schema.provider import Provider


class TodoProvider(Provider):
    """Edit = the line holding the first ``TODO`` with it replaced by ``DONE``; no TODO → no edit.

    ``hold``: each prediction waits until this event is set, checking its cancel token every
    5 ms like a model between forward passes (a canceled one raises ``Canceled``)."""

    def __init__(self, name: str = "todo", *, hold: threading.Event | None = None) -> None:
        self.name = name
        self.hold = hold
        self.calls = 0
        self.canceled = 0
        self._started = threading.Condition()

    def wait_started(self, n: int = 1, timeout: float = 10.0) -> None:
        """Block until ``n`` predictions have started (AssertionError after ``timeout`` s)."""
        with self._started:
            assert self._started.wait_for(lambda: self.calls >= n, timeout), f"{self.calls} of {n} started"

    def predict(
        self, request, *, cancel: CancelToken | None = None, cache_key: str | None = None
    ) -> EditPrediction:  # noqa: ANN001
        with self._started:
            self.calls += 1
            self._started.notify_all()
        while self.hold is not None and not self.hold.wait(0.005):
            if cancel is not None and cancel.canceled:
                self.canceled += 1
                cancel.check()
        data = request.cursor_excerpt.encode()
        i = data.find(b"TODO")
        if i < 0:
            return EditPrediction.no_edit()
        s = data.rfind(b"\n", 0, i) + 1
        e = data.find(b"\n", i)
        e = len(data) if e < 0 else e
        old = data[s:e].decode()
        new = old.replace("TODO", "DONE", 1)
        return EditPrediction(output=new, editable_range=(s, e), cursor_offset=len(new.encode()))


def todo_backend(name: str = "todo", *, hold: threading.Event | None = None) -> Backend:
    """A served :class:`TodoProvider` (for ``create_app(providers=...)``)."""
    return Backend(TodoProvider(name, hold=hold))
