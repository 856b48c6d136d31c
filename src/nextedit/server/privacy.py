"""What the server may answer and store, from the config's ``[privacy]`` table (zeta.md §6.3).

.. code-block:: toml

    [privacy]
    disabled_globs = ["**/.env*", "**/*secret*", "**/*.pem", "**/*.key"]   # the defaults
    collect = "opt-in"        # "opt-in" | "all" | "none"
    retention_days = 30       # `nextedit telemetry purge` deletes older rows (unset: keep)

* ``disabled_globs``: a request whose cursor path matches one (any API; raw prompts carry the path
  in the prompt, read back by the format's parser) is answered "no edit" without running a model,
  and its telemetry row holds counters only (no code, prompt, answer or error text). Globs match
  the whole ``/``-separated path, case-insensitively: ``*`` and ``?`` stay within one path
  component, ``**/`` matches any number of leading directories (none included).
* ``collect``: ``opt-in`` stores code, prompts and regions only for requests and reports that say
  ``can_collect_data`` (so never for stock Zed's raw prompts); ``all`` stores them for every
  request (an operator collecting from its own team); ``none`` never stores them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

DEFAULT_DISABLED_GLOBS = ("**/.env*", "**/*secret*", "**/*.pem", "**/*.key")
COLLECT_MODES = ("opt-in", "all", "none")
Collect = Literal["opt-in", "all", "none"]


def glob_regex(glob: str) -> str:
    """The regular expression (full match) of one path glob, as documented in the module."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class PrivacyPolicy:
    disabled_globs: tuple[str, ...] = DEFAULT_DISABLED_GLOBS
    collect: Collect = "opt-in"
    retention_days: float | None = None  # days; None keeps rows forever

    @cached_property
    def _disabled(self) -> re.Pattern[str] | None:
        if not self.disabled_globs:
            return None
        return re.compile("|".join(f"(?:{glob_regex(g)})" for g in self.disabled_globs), re.IGNORECASE)

    def is_disabled(self, path: str | None) -> bool:
        """Whether requests for ``path`` (as the client names it) get "no edit" and no storage."""
        if not path or self._disabled is None:
            return False
        norm = path.replace("\\", "/")
        while norm.startswith("./"):
            norm = norm[2:]
        return self._disabled.fullmatch(norm) is not None

    def may_store(self, can_collect_data: bool) -> bool:
        """Whether code (excerpts, prompts, answers, regions, sample data) may be stored."""
        if self.collect == "all":
            return True
        return self.collect == "opt-in" and bool(can_collect_data)


def parse_privacy(table: Any, where: str) -> PrivacyPolicy:
    """The ``[privacy]`` table (missing = defaults); ``ValueError`` naming the bad key."""
    if table is None:
        return PrivacyPolicy()
    if not isinstance(table, dict):
        raise ValueError(f"{where}: [privacy] must be a table")
    unknown = set(table) - {"disabled_globs", "collect", "retention_days"}
    if unknown:
        raise ValueError(f"{where}: privacy: unknown keys {sorted(unknown)}")
    globs = table.get("disabled_globs", list(DEFAULT_DISABLED_GLOBS))
    if not isinstance(globs, list) or not all(isinstance(g, str) and g for g in globs):
        raise ValueError(f"{where}: privacy.disabled_globs must be a list of non-empty strings")
    collect = table.get("collect", "opt-in")
    if collect not in COLLECT_MODES:
        raise ValueError(
            f"{where}: privacy.collect must be one of {', '.join(COLLECT_MODES)}, not {collect!r}"
        )
    days = table.get("retention_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int | float) or not days > 0):
        raise ValueError(f"{where}: privacy.retention_days must be a number of days > 0")
    return PrivacyPolicy(tuple(globs), collect, None if days is None else float(days))
