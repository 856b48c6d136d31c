"""Errors of the client layer.

Raised to the caller (they stop a run; one line each, never holding a key):

* :class:`ErrorBudgetExceeded` — K requests in a row failed after their retries;
* :class:`LLMFatalError` — a failure every further request would repeat (a rejected key, an
  unknown model), raised at once.

Raised by a backend for one HTTP attempt and handled by the client (never seen by callers):

* :class:`TransientError` — worth retrying (429, 5xx, a reset connection, a timeout), with the
  server's ``Retry-After`` when it sent one;
* :class:`RequestError` — this request will not succeed however often it is sent (400, 413, 422…).
"""

from __future__ import annotations

from nextedit.errors import NexteditError


class ErrorBudgetExceeded(NexteditError):
    """The run stopped: too many consecutive requests failed."""


class LLMFatalError(NexteditError):
    """A failure every further request would repeat (authentication, permission, unknown model).

    ``status``: the HTTP status that said so (401, 403, 404), when one did."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientError(Exception):
    """One attempt failed in a way worth retrying.

    ``reason``: a short word for the stats (``"429"``, ``"500"``, ``"timeout"``, ``"connection"``).
    ``retry_after``: seconds the server asked us to wait (``Retry-After`` / ``retry-after-ms``), or None.
    """

    def __init__(self, reason: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after = retry_after


class RequestError(Exception):
    """This request failed for good (the server refused it as it is)."""
