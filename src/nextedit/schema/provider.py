"""The two interfaces of the prediction path, typed (callers never probe with ``getattr``).

* :class:`Provider`: an editor request in, an :class:`~nextedit.schema.prediction.EditPrediction`
  out. The heuristic, the generic model provider (request → prompt → text model → parse → edit), a
  first-then-model pair (``hybrid``) and the baselines all implement it; the server, ``nextedit
  predict``/``eval``, the benchmarks and the training hook only call :meth:`Provider.predict`.
* :class:`TextModel`: a prompt in, a :class:`~nextedit.schema.completion.Completion` out (the
  local engine, a remote OpenAI-compatible server). The server sends raw prompts straight to one.
* :class:`ExampleAware`: a provider whose answer needs the example itself, not only the request
  (the ``oracle`` reads the expected patch). The ``predict`` stage binds each example with
  :meth:`ExampleAware.for_example` and asks the bound provider; nothing else may use it.

Concrete classes subclass these protocols explicitly, which gives them the default :meth:`close`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from nextedit.errors import NexteditError

if TYPE_CHECKING:
    from nextedit.schema.cancel import CancelToken
    from nextedit.schema.completion import Completion, GenerationParams
    from nextedit.schema.example import Example
    from nextedit.schema.prediction import EditPrediction
    from nextedit.schema.request import Zeta2PromptInput


class ProviderUnavailable(NexteditError):
    """A provider that cannot answer any request (its backend is unreachable): callers stop and
    say so in one line instead of recording the same failure for every example."""


class Provider(Protocol):
    """Anything that predicts an edit for an editor request."""

    name: str  # the spec it was built from, e.g. "heuristic", "local:nextedit-tiny"

    def predict(
        self, request: Zeta2PromptInput, *, cancel: CancelToken | None = None, cache_key: str | None = None
    ) -> EditPrediction:
        """The edit for ``request``. ``cancel`` is checked between steps (raises
        :class:`~nextedit.schema.cancel.Canceled`); ``cache_key`` (e.g. the client id) lets a model
        reuse that client's prefix cache, others ignore it. Raises :class:`ProviderUnavailable`
        when the backend cannot be reached; any other failure is this request's."""
        ...

    def check(self) -> None:
        """Raise :class:`ProviderUnavailable` when the provider cannot answer at all (its backend
        does not answer); a command calls it before the work. Default: nothing to check."""
        return None

    def close(self) -> None:
        """Release what the provider holds (HTTP clients, models); default: nothing."""
        return None


class TextModel(Protocol):
    """Anything that turns a prompt into text. ``prompt_format`` names the format its prompts are
    written in (:mod:`nextedit.prompts`); ``model_version`` is what answers report."""

    name: str
    model_version: str
    prompt_format: str

    def complete(
        self,
        prompt: str,
        params: GenerationParams,
        *,
        cancel: CancelToken | None = None,
        cache_key: str | None = None,
    ) -> Completion:
        """Continue ``prompt`` (see :class:`Provider.predict` for ``cancel``, ``cache_key`` and
        :class:`ProviderUnavailable`)."""
        ...

    def check(self) -> None:
        """As :meth:`Provider.check`; default: nothing to check."""
        return None

    def close(self) -> None:
        """Release what the model holds; default: nothing."""
        return None


@runtime_checkable
class ExampleAware(Protocol):
    """A provider that needs the example behind the request (see the module docstring)."""

    name: str

    def for_example(self, example: Example) -> Provider:
        """A provider that answers the request of ``example`` (and only that one)."""
        ...

    def check(self) -> None:
        """As :meth:`Provider.check`; default: nothing to check."""
        return None

    def close(self) -> None:
        """As :meth:`Provider.close`; default: nothing."""
        return None
