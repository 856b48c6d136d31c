"""Experiment assignment: sticky by a hash of the client id, pinnable by header or model name.

A client (device, API key, or IP when nothing else identifies it) always lands in the same
experiment for a given config: ``u = sha256(salt:client) / 2**64`` picks an experiment by
cumulative weight. ``x-zed-preferred-experiment: NAME`` pins an experiment; the ``model`` field of
OpenAI/Ollama requests pins one when it names an experiment or a configured model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from nextedit.server.config import Experiment, ServerConfig

PIN_HEADER = "x-zed-preferred-experiment"


@dataclass(frozen=True)
class Assignment:
    experiment: str
    model: str  # key into ServerConfig.models
    pinned: bool


def bucket(salt: str, client_id: str) -> float:
    """Uniform value in [0, 1) determined by (salt, client_id)."""
    digest = hashlib.sha256(f"{salt}:{client_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


class ExperimentRouter:
    """Maps requests to (experiment, model) for one config snapshot."""

    def __init__(self, config: ServerConfig) -> None:
        self.salt = config.assignment_salt
        self.experiments: tuple[Experiment, ...] = config.experiments
        self.by_name = {e.name: e for e in self.experiments}
        self.models = set(config.models)
        self.total = sum(e.weight for e in self.experiments)

    def assign(self, client_id: str, *, pin: str | None = None, model_hint: str | None = None) -> Assignment:
        """Header pin > model-name pin > sticky weighted hash."""
        for name in (pin, model_hint):
            if not name:
                continue
            if name in self.by_name:
                e = self.by_name[name]
                return Assignment(e.name, e.model, True)
            if name in self.models:
                return Assignment(name, name, True)
        u = bucket(self.salt, client_id) * self.total
        acc = 0.0
        live = [e for e in self.experiments if e.weight > 0]
        for e in live:
            acc += e.weight
            if u < acc:
                return Assignment(e.name, e.model, False)
        e = live[-1]
        return Assignment(e.name, e.model, False)
