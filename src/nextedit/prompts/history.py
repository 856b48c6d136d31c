"""Edit-history rendering (zeta.md §2.4) and its inverse.

Token counts are the ``bytes // 3`` estimate. Events are oldest → newest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from nextedit.context.excerpt_ranges import estimate_tokens
from nextedit.schema.request import Event

ACCEPTED_PREDICTION_HEADER = "// User accepted prediction:\n"
#: ``max_edit_event_count_for_format``: every format shows at most the newest 6 events.
MAX_EDIT_EVENTS = 6


def diff_path(path: str) -> str:
    """A path as written after ``a/``/``b/``: components joined by ``/`` (``\\`` counts as a separator)."""
    return "/".join(c for c in re.split(r"[\\/]", path) if c)


def write_event(event: Event) -> str:
    """``[// User accepted prediction:\\n]--- a/<old_path>\\n+++ b/<path>\\n<diff>`` (diff newline-terminated)."""
    out = ACCEPTED_PREDICTION_HEADER if event.predicted else ""
    out += f"--- a/{diff_path(event.old_path or event.path)}\n+++ b/{diff_path(event.path)}\n"
    diff = event.diff
    if diff and not diff.endswith("\n"):
        diff += "\n"
    return out + diff


def format_edit_history_within_budget(
    events: Sequence[Event], file_marker: str, name: str, budget: int, max_count: int = MAX_EDIT_EVENTS
) -> str:
    """``{file_marker}{name}\\n`` + the newest events (≤ ``max_count``) that fit ``budget`` tokens,
    chosen newest → oldest (stop at the first misfit), rendered oldest → newest. "" if none fit."""
    header = f"{file_marker}{name}\n"
    total = estimate_tokens(header)
    chosen: list[str] = []
    for event in list(events)[::-1][:max_count]:
        text = write_event(event)
        cost = estimate_tokens(text)
        if total + cost > budget:
            break
        total += cost
        chosen.append(text)
    if not chosen:
        return ""
    return header + "".join(reversed(chosen))


def write_events(events: Sequence[Event]) -> str:
    """All events rendered with :func:`write_event`, concatenated (teacher prompt history)."""
    return "".join(write_event(e) for e in events)


_HEADER_RE = re.compile(r"^--- a/(.*)\n\+\+\+ b/(.*)\n", re.M)


def parse_history_text(text: str) -> list[Event]:
    """Inverse of concatenated :func:`write_event` output (a leading ``<marker>name`` line is ignored)."""
    events: list[Event] = []
    matches = list(_HEADER_RE.finditer(text))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        diff = text[m.end() : end]
        predicted = False
        if diff.endswith(ACCEPTED_PREDICTION_HEADER) and i + 1 < len(matches):
            diff = diff[: -len(ACCEPTED_PREDICTION_HEADER)]
        if text[: m.start()].endswith(ACCEPTED_PREDICTION_HEADER):
            predicted = True
        events.append(Event(path=m.group(2), old_path=m.group(1), diff=diff, predicted=predicted))
    return events


# ---------------------------------------------------------------------- zeta1


def format_zeta1_event(event: Event) -> str:
    """``[User renamed <old> to <new>\\n\\n]User edited <path>:\\n```diff\\n<diff>\\n```"""
    out = ""
    if event.old_path and event.old_path != event.path:
        out += f"User renamed {event.old_path} to {event.path}\n\n"
    return out + f"User edited {event.path}:\n```diff\n{event.diff}\n```"


def format_zeta1_events(events: Sequence[Event], max_count: int = MAX_EDIT_EVENTS) -> str:
    """The newest ``max_count`` events, oldest first, joined by a blank line."""
    chosen = list(events)[-max_count:] if max_count else []
    return "\n\n".join(format_zeta1_event(e) for e in chosen)


_ZETA1_RE = re.compile(
    r"(?:User renamed ([^\n]*) to [^\n]*\n\n)?User edited ([^\n]*):\n```diff\n(.*?)\n```(?=\n\n|$)", re.S
)


def parse_zeta1_events(text: str) -> list[Event]:
    """Inverse of :func:`format_zeta1_events` (best effort: a diff containing a fence line may split)."""
    events = []
    for m in _ZETA1_RE.finditer(text):
        path = m.group(2)
        events.append(Event(path=path, old_path=m.group(1) or path, diff=m.group(3)))
    return events
