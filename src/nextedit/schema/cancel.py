"""Cooperative cancellation shared by the server, the providers and the engine.

The server sets a :class:`CancelToken` when a newer request of the same client supersedes a
running one (or its deadline passes); whoever does the work checks it between steps (the engine
between forward passes) and raises :class:`Canceled`.
"""

from __future__ import annotations

import threading


class Canceled(Exception):
    """Raised by the work whose :class:`CancelToken` fired (checked between forward passes)."""


class CancelToken:
    """A one-way flag: :meth:`cancel` sets it (from any thread), :meth:`check` raises once set."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def canceled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Canceled` if the token was canceled."""
        if self._event.is_set():
            raise Canceled()
