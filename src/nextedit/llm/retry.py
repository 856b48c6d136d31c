"""Retries with exponential backoff and full jitter, and the run-level error budget.

A failed attempt that is worth retrying (:class:`~nextedit.llm.errors.TransientError`) waits
``uniform(0, min(max_delay, base_delay * 2**attempt))`` seconds, but never less than the server's
``Retry-After`` (capped at ``max_retry_after``), then tries again, up to ``max_attempts`` attempts in
all. ``sleep`` is injectable so tests can see the delays without waiting them out; by default a
client waits on its error budget, so a run that stops wakes every worker at once.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from nextedit.llm.errors import ErrorBudgetExceeded


@dataclass
class RetryPolicy:
    """``max_attempts``: attempts per request (1 = no retry). Delays in seconds. ``sleep``: None = wait
    for real (interrupted when the run stops)."""

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 300.0
    sleep: Callable[[float], None] | None = None
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        backoff = self.rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))
        if retry_after is not None:
            return max(backoff, min(retry_after, self.max_retry_after))
        return backoff


def parse_retry_after(headers: object) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date); None if absent or bad."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    ms = get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class ErrorBudget:
    """Stops a run after ``limit`` consecutive failed requests (a success resets the count).

    Thread-safe. Once spent, :meth:`check` raises for every caller, so parallel workers stop too.
    """

    def __init__(self, limit: int, backend: str) -> None:
        self.limit = limit
        self.backend = backend
        self._consecutive = 0
        self._spent: str | None = None
        self._fatal: Exception | None = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    def check(self) -> None:
        if self._fatal is not None:
            raise type(self._fatal)(self._spent)
        if self._spent is not None:
            raise ErrorBudgetExceeded(self._spent)

    def stop(self, error: Exception) -> None:
        """Spend the budget at once with ``error`` (a fatal failure): every later check raises it."""
        with self._lock:
            if self._spent is None:
                self._spent = str(error)
                self._fatal = error
        self._stopped.set()

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the budget is spent meanwhile."""
        self._stopped.wait(seconds)

    def success(self) -> None:
        with self._lock:
            self._consecutive = 0

    def failure(self, error: str) -> None:
        """Count a failed request; raise :class:`ErrorBudgetExceeded` when it spends the budget."""
        with self._lock:
            self._consecutive += 1
            if self._spent is None and self._consecutive >= self.limit:
                self._spent = (
                    f"stopped after {self._consecutive} consecutive failed requests to {self.backend} "
                    f"(error budget {self.limit}); last: {error}"
                )
                self._stopped.set()
        self.check()
