"""The time window of an A/B report: the experiment period and the pre-period before it.

Times on the command line are ISO 8601 dates or datetimes (``2026-12-01``, ``2026-12-01T09:30``,
``…Z`` or with an offset; naive ones are UTC), unix seconds (``1764547200``), or a span before now
(``7d``, ``36h``, ``90m``). The store keeps ``created_at`` as unix seconds.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from nextedit.errors import NexteditError

_SPAN = re.compile(r"^(\d+(?:\.\d+)?)([dhm])$")
_SPAN_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0}


def parse_time(text: str, option: str = "--since", *, now: float | None = None) -> float:
    """Unix seconds of ``text`` (see the module docstring); a bad value is a one-line error naming
    ``option``."""
    s = text.strip()
    now = time.time() if now is None else now
    if m := _SPAN.match(s):
        return now - float(m.group(1)) * _SPAN_SECONDS[m.group(2)]
    try:
        return float(s)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise NexteditError(
            f"{option} {text!r}: expected an ISO date/datetime, unix seconds, or a span like 7d / 36h"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def iso(ts: float | None) -> str | None:
    """``2026-12-01T09:30:00Z`` (seconds precision) or None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Window:
    """The experiment period ``[since, until)`` and the pre-period ``[pre_since, since)`` (unix
    seconds; ``pre_since = None``: no pre-period). ``since = None`` means "from the experiment's
    first request" and is resolved against the store."""

    since: float | None
    until: float
    pre_since: float | None = None

    def check(self) -> None:
        if self.since is not None and self.since >= self.until:
            raise NexteditError(f"--since {iso(self.since)} is not before --until {iso(self.until)}")
        if self.pre_since is not None and self.since is not None and self.pre_since >= self.since:
            raise NexteditError(f"--pre-since {iso(self.pre_since)} is not before --since {iso(self.since)}")
