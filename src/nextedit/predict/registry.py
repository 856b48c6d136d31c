"""The one provider registry: the spec strings of ``--provider`` and of a served model's
``provider``, built into typed objects for the CLI (:func:`get_provider`) and the server
(:func:`build_backend`).

* ``none`` — always "no edit"
* ``oracle`` — the first expected patch (examples only: :class:`~nextedit.schema.provider.ExampleAware`)
* ``heuristic`` — rename propagation + identifier completion (:mod:`nextedit.predict.heuristic`)
* ``local`` / ``local:PATH`` — our model in-process (:class:`nextedit.predict.local.LocalModel`)
* ``hybrid`` / ``hybrid:PATH`` — shorthand for ``first = "heuristic"`` and ``local[:PATH]``: the
  heuristic's edit when it has one, else the model's (:mod:`nextedit.predict.hybrid`)
* ``openai-compatible:URL`` — a completions server
  (:class:`nextedit.predict.openai_compatible.OpenAICompatibleModel`)

A model (local or remote) is a :class:`~nextedit.schema.provider.TextModel` behind the one
:class:`~nextedit.predict.model_provider.ModelProvider`. Model-backed providers are imported
lazily so that the cheap ones need no torch/httpx.
"""

from __future__ import annotations

from dataclasses import dataclass

from nextedit.schema.provider import ExampleAware, Provider, TextModel

PROVIDER_SPECS = ("none", "oracle", "heuristic", "local[:PATH]", "hybrid[:PATH]", "openai-compatible:URL")
FIRST_SPECS = ("heuristic", "none")  # cheap providers that may answer before a model


@dataclass(frozen=True)
class ProviderOptions:
    """How a model-backed spec is built: the ``prompt_format`` its prompts are written in, the
    editable-region output budget ``max_output_tokens`` (the format's unit, see
    :meth:`nextedit.prompts.base.PromptFormat.max_tokens`), and for ``openai-compatible`` the
    request ``timeout_s`` (seconds) and the ``remote_model`` name sent."""

    prompt_format: str = "zeta2_1"
    max_output_tokens: int | None = 64
    timeout_s: float = 30.0
    remote_model: str = "default"


@dataclass(frozen=True)
class Backend:
    """What a served model answers with: ``provider`` answers editor requests; ``model`` (set for
    a model-backed provider) completes raw prompts, which are already in its format; ``first``
    (optional, cheap) is asked before either and answers when it has an edit."""

    provider: Provider
    model: TextModel | None = None
    first: Provider | None = None

    @classmethod
    def of_model(
        cls, model: TextModel, max_output_tokens: int | None = 64, first: Provider | None = None
    ) -> Backend:
        """``model`` behind the generic model provider."""
        from nextedit.predict.model_provider import ModelProvider

        return cls(ModelProvider(model, max_output_tokens), model, first)

    def close(self) -> None:
        self.provider.close()
        if self.first is not None:
            self.first.close()


def _split(spec: str) -> tuple[str, str]:
    kind, _, arg = spec.strip().partition(":")
    return kind.lower(), arg


def _unknown(spec: str) -> ValueError:
    return ValueError(f"unknown provider {spec!r}; expected one of: {', '.join(PROVIDER_SPECS)}")


def check_first_spec(spec: object) -> None:
    """Raise ValueError unless ``spec`` names a cheap first provider (one of :data:`FIRST_SPECS`)."""
    kind, arg = _split(spec) if isinstance(spec, str) else ("", "")
    if kind not in FIRST_SPECS or arg:
        raise ValueError(f"first provider {spec!r}: expected one of: {', '.join(FIRST_SPECS)} (no model)")


def first_provider(spec: str) -> Provider:
    """The cheap provider named by ``spec`` (one of :data:`FIRST_SPECS`)."""
    check_first_spec(spec)
    kind, _ = _split(spec)
    if kind == "heuristic":
        from nextedit.predict.heuristic import HeuristicProvider

        return HeuristicProvider()
    from nextedit.predict.none import NoneProvider

    return NoneProvider()


def text_model(spec: str, options: ProviderOptions = ProviderOptions()) -> TextModel:
    """The model of a ``local[:PATH]``/``hybrid[:PATH]``/``openai-compatible:URL`` spec (loaded)."""
    kind, arg = _split(spec)
    if kind in ("local", "hybrid"):
        from nextedit.predict.local import LocalModel

        return LocalModel(arg or None, options.prompt_format)
    if kind == "openai-compatible":
        if not arg:
            raise ValueError(
                "openai-compatible needs a URL: --provider openai-compatible:http://host:port/v1"
            )
        from nextedit.predict.openai_compatible import OpenAICompatibleModel

        return OpenAICompatibleModel(
            arg, options.prompt_format, model=options.remote_model, timeout_s=options.timeout_s
        )
    raise _unknown(spec)


def build_backend(
    spec: str, options: ProviderOptions = ProviderOptions(), *, first: str | None = None
) -> Backend:
    """What ``spec`` serves; ``first`` names a cheap provider asked first (``hybrid`` implies
    ``heuristic``). ``ValueError`` for an unknown spec, and for ``oracle`` (it needs examples)."""
    kind, arg = _split(spec)
    if kind == "hybrid" and first is None:
        first = "heuristic"
    cheap = first_provider(first) if first is not None else None
    if kind in FIRST_SPECS and not arg:
        return Backend(first_provider(kind), None, cheap)
    if kind == "oracle" and not arg:
        raise ValueError(
            "provider 'oracle' answers examples (it reads their expected patch), not editor requests"
        )
    return Backend.of_model(text_model(spec, options), options.max_output_tokens, cheap)


def get_provider(spec: str, options: ProviderOptions = ProviderOptions()) -> Provider | ExampleAware:
    """The provider ``nextedit predict``/``eval`` run for ``spec`` (a first provider and a model
    combined as :class:`~nextedit.predict.hybrid.HybridProvider`); ``ValueError`` lists the specs."""
    kind, arg = _split(spec)
    if kind == "oracle" and not arg:
        from nextedit.predict.oracle import OracleProvider

        return OracleProvider()
    backend = build_backend(spec, options)
    if backend.first is None:
        return backend.provider
    from nextedit.predict.hybrid import HybridProvider

    return HybridProvider(backend.first, backend.provider)
