"""The provider interface shared by `nextedit predict`, the server and the benchmarks.

A provider turns an editor request (``Zeta2PromptInput``, see :mod:`nextedit.schema.request`) into
an :class:`EditPrediction`: the new text of a byte range of ``cursor_excerpt``. Everything is in
UTF-8 **bytes** offsets of the request's ``cursor_excerpt``.

"No edit" is ``output == cursor_excerpt[editable_range]`` or ``editable_range == (0, 0)`` with
``output == ""`` (Zed's convention, §1.3).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from nextedit.schema.request import Zeta2PromptInput


class Canceled(Exception):
    """Raised inside a provider when its :class:`CancelToken` fires (checked between forward passes)."""


class CancelToken:
    """Cooperative cancellation: the server sets it when a newer request supersedes this one."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def canceled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Canceled()


@dataclass
class EditPrediction:
    """A provider's answer for one request.

    ``editable_range`` is a byte range in the request's ``cursor_excerpt``; ``output`` replaces it.
    ``cursor_offset`` is a byte offset inside ``output`` (or ``None``).
    ``raw_output`` is the model's text before parsing (``None`` for non-model providers).
    ``error`` is set when the output could not be parsed (then ``output`` is the old region).
    ``stats`` carries token counts, forward passes, speculative acceptance, per-stage timings.
    """

    output: str
    editable_range: tuple[int, int]
    cursor_offset: int | None = None
    raw_output: str | None = None
    error: str | None = None
    model_version: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    def is_no_edit(self, cursor_excerpt: str) -> bool:
        s, e = self.editable_range
        if (s, e) == (0, 0) and self.output == "":
            return True
        return cursor_excerpt.encode()[s:e].decode(errors="replace") == self.output


@runtime_checkable
class Provider(Protocol):
    """Anything that predicts an edit for a request."""

    name: str

    def predict_request(
        self, request: Zeta2PromptInput, *, cancel: CancelToken | None = None, cache_key: str | None = None
    ) -> EditPrediction:
        """``cache_key`` (e.g. the client id) lets a model provider reuse its KV cache; others ignore it."""
        ...
