"""Deterministic test providers (no model): replace the first ``TODO`` with ``DONE``."""

from __future__ import annotations

import time

from nextedit.predict.base import CancelToken, EditPrediction


class TodoProvider:
    """Edit = the line holding the first ``TODO`` with it replaced by ``DONE``; no TODO → no edit.
    ``delay_s`` simulates model time in 5 ms "forward passes" that check the cancel token."""

    def __init__(self, name: str = "todo", delay_s: float = 0.0) -> None:
        self.name = name
        self.delay_s = delay_s
        self.calls = 0
        self.canceled = 0

    def predict_request(self, request, *, cancel: CancelToken | None = None) -> EditPrediction:  # noqa: ANN001
        self.calls += 1
        end = time.monotonic() + self.delay_s
        while time.monotonic() < end:
            if cancel is not None and cancel.canceled:
                self.canceled += 1
                cancel.check()
            time.sleep(0.005)
        data = request.cursor_excerpt.encode()
        i = data.find(b"TODO")
        if i < 0:
            return EditPrediction(output="", editable_range=(0, 0))
        s = data.rfind(b"\n", 0, i) + 1
        e = data.find(b"\n", i)
        e = len(data) if e < 0 else e
        old = data[s:e].decode()
        new = old.replace("TODO", "DONE", 1)
        return EditPrediction(output=new, editable_range=(s, e), cursor_offset=len(new.encode()))
