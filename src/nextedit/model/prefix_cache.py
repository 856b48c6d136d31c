"""Per-client KV-cache reuse across consecutive requests.

Consecutive prompts of one client share a long stable start (suffix section, related files, history
come first in the zeta2 layouts), so the engine keeps, per ``cache_key``, the token ids it last ran
and their KV cache. A new prompt reuses the cache up to the longest common token prefix and only
prefills the rest. Entries are evicted least-recently-used.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


@dataclass
class CacheEntry:
    """Token ids whose keys/values are in ``cache`` (a transformers ``DynamicCache``)."""

    token_ids: list[int]
    cache: Any


def common_prefix_len(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class PrefixCache:
    """LRU map ``cache_key -> CacheEntry``; thread-safe for take/put."""

    def __init__(self, max_entries: int = 16) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.reused_tokens = 0

    def take(self, key: str) -> CacheEntry | None:
        """Remove and return the entry for ``key`` (the caller owns it while generating)."""
        with self._lock:
            entry = self._entries.pop(key, None)
        return entry

    def put(self, key: str, entry: CacheEntry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
