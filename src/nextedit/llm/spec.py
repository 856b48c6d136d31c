"""Backend specs: the one string that names an LLM (``--llm``).

* ``anthropic:MODEL`` — Anthropic Messages API (key ``$ANTHROPIC_API_KEY``);
* ``openai:MODEL`` — OpenAI Chat Completions (key ``$OPENAI_API_KEY``);
* ``openai-compatible:URL#MODEL`` — any Chat Completions server (vLLM, llama-server, Ollama's
  ``/v1``, ``nextedit serve``); URL is the API base (``http://127.0.0.1:8000/v1``), key
  ``$NEXTEDIT_LLM_API_KEY`` if the server wants one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlparse

from nextedit.errors import NexteditError

Kind = Literal["anthropic", "openai", "openai-compatible"]
KINDS: tuple[Kind, ...] = ("anthropic", "openai", "openai-compatible")
USAGE = "expected anthropic:MODEL, openai:MODEL or openai-compatible:URL#MODEL"


@dataclass(frozen=True)
class BackendSpec:
    """A parsed spec. ``base_url``: only for ``openai-compatible`` (without a trailing ``/``)."""

    kind: Kind
    model: str
    base_url: str | None = None

    @property
    def identity(self) -> str:
        """What the cache key holds for the backend: the kind, plus the URL for openai-compatible (two
        servers that name their models alike may answer differently)."""
        return f"{self.kind}:{self.base_url}" if self.base_url else self.kind

    def __str__(self) -> str:
        return f"{self.kind}:{self.base_url}#{self.model}" if self.base_url else f"{self.kind}:{self.model}"


def parse_backend(spec: str) -> BackendSpec:
    """Parse ``spec``; a bad one raises :class:`NexteditError` naming it and the accepted forms."""
    kind, sep, rest = spec.strip().partition(":")
    if not sep or kind not in KINDS or not rest:
        raise NexteditError(f"LLM backend {spec!r}: {USAGE}")
    if kind != "openai-compatible":
        if "#" in rest or rest.startswith(("http:", "https:")):
            raise NexteditError(f"LLM backend {spec!r}: {kind}:MODEL takes a model name, not a URL")
        return BackendSpec(kind, rest)  # type: ignore[arg-type]
    url, sep, model = rest.rpartition("#")
    parsed = urlparse(url)
    if not sep or not model or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise NexteditError(
            f"LLM backend {spec!r}: expected openai-compatible:URL#MODEL, URL the API base "
            "(e.g. http://127.0.0.1:8000/v1)"
        )
    return BackendSpec("openai-compatible", model, url.rstrip("/"))
