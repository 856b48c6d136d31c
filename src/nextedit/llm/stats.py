"""Per-run figures of one client: requests, retries, cache, tokens, cost.

Counted by the client as it works (thread-safe); a pipeline step reads :meth:`LLMStats.as_dict`
into its own stats, or prints :meth:`LLMStats.summary`. Tokens and cost count the answers received in
this run; answers served from the cache are counted apart (``cache_hits``) and cost nothing.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LLMStats:
    """``http_attempts``: model requests sent (each retry is one more). ``retries``: by reason.
    ``answers``: ok answers received. ``failures``: requests given up. ``truncated``: answers cut at
    ``max_tokens``. ``cost_usd``: answers with a price; ``unpriced``: answers whose model has none.
    ``batches_submitted`` / ``batch_requests``: provider batches created and the requests in them;
    ``batches_resubmitted``: lost batches whose requests went out again; ``pending``: requests
    still waiting in a batch when the call returned."""

    http_attempts: int = 0
    answers: int = 0
    failures: int = 0
    truncated: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unpriced: int = 0
    batches_submitted: int = 0
    batch_requests: int = 0
    batches_resubmitted: int = 0
    pending: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int | float) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def retried(self, reason: str) -> None:
        with self._lock:
            self.retries[reason] += 1

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            d = {k: v for k, v in self.__dict__.items() if not k.startswith("_") and k != "retries"}
            d["retries"] = sum(self.retries.values())
            d["retries_by_reason"] = dict(self.retries)
            d["cost_usd"] = round(self.cost_usd, 6)
        return d

    def counters(self, prefix: str = "llm.") -> dict[str, int | float]:
        """Flat numeric counters (``llm.answers``, ``llm.retries.429``, ``llm.cost_usd`` …) that add up
        across workers, for a pipeline stage's ``stats.count(key, n)``."""
        d = self.as_dict()
        by_reason = d.pop("retries_by_reason")
        flat = {f"{prefix}{k}": v for k, v in d.items()}
        flat.update({f"{prefix}retries.{reason}": n for reason, n in by_reason.items()})
        return flat

    def summary(self) -> str:
        """One line: ``12 answers (3 cached), 2 retries (429: 2), 0 failed, 10,240+1,024 tokens, $0.0461``."""
        d = self.as_dict()
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(d["retries_by_reason"].items()))
        cost = f"${d['cost_usd']:.4f}" + (f" (+{d['unpriced']} unpriced)" if d["unpriced"] else "")
        parts = [
            f"{d['answers'] + d['cache_hits']} answers ({d['cache_hits']} cached)",
            f"{d['retries']} retries" + (f" ({reasons})" if reasons else ""),
            f"{d['failures']} failed",
            f"{d['prompt_tokens']:,}+{d['completion_tokens']:,} tokens",
            cost,
        ]
        if d["truncated"]:
            parts.append(f"{d['truncated']} truncated")
        if d["batches_submitted"]:
            parts.append(f"{d['batches_submitted']} batches ({d['batch_requests']} requests)")
        if d["pending"]:
            parts.append(f"{d['pending']} pending")
        return ", ".join(parts)
