"""Provider registry: ``get_provider(spec)`` for the strings accepted by ``--provider``.

* ``none`` — always "no edit"
* ``oracle`` — the first expected patch (examples only)
* ``heuristic`` — rename propagation + identifier completion (:mod:`nextedit.predict.heuristic`)
* ``local`` / ``local:PATH`` — our model in-process (:class:`nextedit.predict.local.LocalProvider`)
* ``hybrid`` / ``hybrid:PATH`` — the heuristic's edit when it has one, else the local model's
  (:class:`nextedit.predict.hybrid.HybridProvider`)
* ``openai-compatible:URL`` — a completions server (:class:`nextedit.predict.openai_compatible.OpenAICompatibleProvider`)

Model-backed providers are imported lazily so that the cheap ones need no torch/httpx.
"""

from __future__ import annotations

from typing import Any

PROVIDER_SPECS = ("none", "oracle", "heuristic", "local[:PATH]", "hybrid[:PATH]", "openai-compatible:URL")


def get_provider(spec: str) -> Any:
    """Instantiate the provider named by ``spec``; ``ValueError`` lists the valid specs."""
    kind, _, arg = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "none" and not arg:
        from nextedit.predict.none import NoneProvider

        return NoneProvider()
    if kind == "oracle" and not arg:
        from nextedit.predict.oracle import OracleProvider

        return OracleProvider()
    if kind == "heuristic" and not arg:
        from nextedit.predict.heuristic import HeuristicProvider

        return HeuristicProvider()
    if kind == "local":
        from nextedit.predict.local import LocalProvider

        return LocalProvider(arg) if arg else LocalProvider()
    if kind == "hybrid":
        from nextedit.predict.hybrid import HybridProvider
        from nextedit.predict.local import LocalProvider

        return HybridProvider(LocalProvider(arg) if arg else LocalProvider())
    if kind == "openai-compatible":
        if not arg:
            raise ValueError("openai-compatible needs a URL: --provider openai-compatible:http://host:port/v1")
        from nextedit.predict.openai_compatible import OpenAICompatibleProvider

        return OpenAICompatibleProvider(arg)
    raise ValueError(f"unknown provider {spec!r}; expected one of: {', '.join(PROVIDER_SPECS)}")
