"""Admission control: a bounded number of prediction requests inside the server at once.

:class:`AdmissionLimit` is the outermost ASGI layer (installed by :mod:`nextedit.server.launch`).
A prediction request (:data:`PREDICTION_PATHS`) that arrives while ``limit()`` of them are being
handled is answered ``429`` with ``Retry-After`` at once, before its body is read, instead of
waiting unseen in front of the handler; an admitted one gets its arrival time
(:data:`nextedit.server.service.ARRIVED`), from which its deadline and ``total`` timing count.
Outcome reports, health and metrics are never shed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from nextedit.server.service import ARRIVED

log = logging.getLogger("nextedit.server")

PREDICTION_PATHS = frozenset({"/predict_edits/v3", "/v1/completions", "/api/generate"})
RETRY_AFTER_S = 1


class AdmissionLimit:
    """ASGI middleware: at most ``limit()`` prediction requests in flight (read per request, so a
    config reload applies); the next is a fast 429 ``overloaded`` with ``Retry-After``."""

    def __init__(
        self, app: Any, *, limit: Callable[[], int], paths: frozenset[str] = PREDICTION_PATHS
    ) -> None:
        self.app = app
        self.limit = limit
        self.paths = paths
        self.inflight = 0
        self.shed = 0  # requests answered 429 here

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        limit = self.limit()
        if self.inflight >= limit:
            self.shed += 1
            await _overloaded(send, limit)
            return
        self.inflight += 1
        token = ARRIVED.set(arrived)
        try:
            await self.app(scope, receive, send)
        finally:
            ARRIVED.reset(token)
            self.inflight -= 1


async def _overloaded(send: Callable, limit: int) -> None:
    body = json.dumps(
        {"error": {"type": "overloaded", "message": f"server busy ({limit} prediction requests in flight)"}}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def with_admission(app: Any) -> Any:
    """``app`` behind :class:`AdmissionLimit` when it is a nextedit app (``app.state.service``,
    whose config's ``max_inflight`` is the limit); any other ASGI app as it is."""
    service = getattr(getattr(app, "state", None), "service", None)
    if service is None:
        return app
    return AdmissionLimit(app, limit=lambda: service.config.max_inflight)
