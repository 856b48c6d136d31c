"""Edit-history events (§1.9): from text snapshots, from an example's ``edit_history`` string, and
from a live stream of buffer edits (:class:`EditHistoryTracker`, Zed's grouping rules).

An event's ``diff`` is hunks only (``@@`` headers with real 1-based line numbers, 3 context lines,
no ``---``/``+++`` lines); ``old_range``/``new_range`` are the changed byte ranges in the old and
new buffer. An event whose diff region exceeds :data:`EDIT_HISTORY_DIFF_SIZE_LIMIT` bytes on
either side is dropped, as Zed does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from nextedit.schema.request import ByteRange, Event
from nextedit.text.diff import unified_diff

EVENT_COUNT_MAX = 10
CHANGE_GROUPING_LINE_SPAN = 8
LAST_CHANGE_GROUPING_TIME = 1.0  # seconds
EDIT_HISTORY_DIFF_SIZE_LIMIT = 6144  # bytes
DIFF_CONTEXT_LINES = 3
PREDICTED_MARKER = "// User accepted prediction:"


def _changed_byte_range(old: bytes, new: bytes) -> tuple[int, int, int]:
    """``(start, old_end, new_end)``: the bytes between the common prefix and suffix."""
    n = min(len(old), len(new))
    start = 0
    while start < n and old[start] == new[start]:
        start += 1
    # Do not split a UTF-8 sequence.
    while start > 0 and start < len(old) and (old[start] & 0xC0) == 0x80:
        start -= 1
    o, e = len(old), len(new)
    while o > start and e > start and old[o - 1] == new[e - 1]:
        o -= 1
        e -= 1
    while o < len(old) and (old[o] & 0xC0) == 0x80:
        o += 1
        e += 1
    return start, o, e


def _line_window(data: bytes, start: int, end: int, context: int) -> tuple[int, int, int]:
    """Byte window of whole lines covering ``start..end`` plus ``context`` lines either side:
    ``(window_start, window_end, first_row)``; ``window_end`` includes the last line's newline."""
    first_row = data.count(b"\n", 0, start)
    ws = data.rfind(b"\n", 0, start) + 1
    for _ in range(context):
        if ws == 0:
            break
        ws = data.rfind(b"\n", 0, ws - 1) + 1
        first_row -= 1
    # The end line: the line containing ``end`` (or the one before, if ``end`` is a line start
    # right after a deleted/inserted newline and the range is non-empty).
    probe = end - 1 if end > start and data[end - 1 : end] == b"\n" else end
    we = data.find(b"\n", probe)
    we = len(data) if we < 0 else we + 1
    for _ in range(context):
        if we >= len(data):
            break
        nxt = data.find(b"\n", we)
        we = len(data) if nxt < 0 else nxt + 1
    return ws, we, first_row


def event_from_snapshots(
    old_text: str,
    new_text: str,
    path: str,
    *,
    old_path: str | None = None,
    predicted: bool = False,
    in_open_source_repo: bool = False,
    size_limit: int = EDIT_HISTORY_DIFF_SIZE_LIMIT,
) -> Event | None:
    """One ``BufferChange`` event for ``old_text`` → ``new_text`` (None if equal or too large).

    The diff covers the changed byte range ±3 lines with the buffer's real line numbers.
    """
    if old_text == new_text:
        return None
    old, new = old_text.encode("utf-8"), new_text.encode("utf-8")
    start, old_end, new_end = _changed_byte_range(old, new)
    os_, oe, orow = _line_window(old, start, old_end, DIFF_CONTEXT_LINES)
    # old and new share the prefix before ``start`` and the suffix after the change: the same
    # window boundaries (same rows, same suffix) delimit the new side.
    ns, nrow = os_, orow
    ne = new_end + (oe - old_end)
    if oe - os_ > size_limit or ne - ns > size_limit:
        return None
    diff = unified_diff(
        old[os_:oe].decode("utf-8"),
        new[ns:ne].decode("utf-8"),
        path,
        context=DIFF_CONTEXT_LINES,
        old_start_row=orow,
        new_start_row=nrow,
        headers=False,
    )
    if not diff:
        return None
    return Event(
        path=path,
        old_path=old_path if old_path is not None else path,
        diff=diff,
        old_range=ByteRange(start=start, end=old_end),
        new_range=ByteRange(start=start, end=new_end),
        predicted=predicted,
        in_open_source_repo=in_open_source_repo,
    )


# ----------------------------------------------------------------------------- edit_history text


@dataclass
class HistorySection:
    """One file's diff in an example's ``edit_history`` (paths as written, ``a/``/``b/`` removed)."""

    old_path: str
    path: str
    hunks: str  # from the first ``@@`` line on, newline-terminated
    predicted: bool = False

    @property
    def patch(self) -> str:
        """The section as a standalone unified diff (headers + hunks)."""
        return f"--- a/{self.old_path}\n+++ b/{self.path}\n{self.hunks}"


def _strip_prefix(p: str, prefix: str) -> str:
    p = p.split("\t", 1)[0].strip()
    if p == "/dev/null":
        return p
    return p[len(prefix) :] if p.startswith(prefix) else p


def split_edit_history(edit_history: str) -> list[HistorySection]:
    """Split a concatenated ``edit_history`` into per-file sections, oldest first.

    A line ``// User accepted prediction:`` marks the next section as predicted. Text before the
    first ``---``/``+++`` header pair (and headerless hunks) is attributed to the previous file,
    or dropped if there is none.
    """
    sections: list[HistorySection] = []
    lines = edit_history.splitlines(keepends=True)
    pending_predicted = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip("\r\n").strip() == PREDICTED_MARKER:
            pending_predicted = True
            i += 1
            continue
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old_path = _strip_prefix(line[4:], "a/")
            path = _strip_prefix(lines[i + 1][4:], "b/")
            if path == "/dev/null":
                path = old_path
            if old_path == "/dev/null":
                old_path = path
            sections.append(HistorySection(old_path, path, "", pending_predicted))
            pending_predicted = False
            i += 2
            continue
        if sections and (sections[-1].hunks or line.startswith("@@")):
            if line.startswith("diff --git ") or line.startswith("index "):
                i += 1
                continue
            sections[-1].hunks += line if line.endswith("\n") else line + "\n"
        i += 1
    return [s for s in sections if s.hunks.strip()]


def events_from_edit_history(
    edit_history: str, *, root_name: str | None = None, in_open_source_repo: bool = False
) -> list[Event]:
    """Events straight from the ``edit_history`` text (diffs as written; byte ranges unknown =
    0..0). ``root_name`` prefixes paths (Zed's ``worktree/relative`` full paths). For events
    recomputed against the real files, see :func:`nextedit.context.project.load_project`."""
    out = []
    for s in split_edit_history(edit_history):
        out.append(
            Event(
                path=_join(root_name, s.path),
                old_path=_join(root_name, s.old_path),
                diff=s.hunks,
                predicted=s.predicted,
                in_open_source_repo=in_open_source_repo,
            )
        )
    return out


def _join(root_name: str | None, path: str) -> str:
    return f"{root_name}/{path}" if root_name else path


# ----------------------------------------------------------------------------- live tracking


@dataclass
class _Pending:
    path: str
    base: str  # buffer before the first coalesced edit
    current: str  # buffer after the latest edit
    predicted: bool
    last_rows: tuple[int, int]  # rows of the latest edit in ``current``
    last_time: float
    splits: list[str] = field(default_factory=list)  # snapshots at ≥1 s pauses
    in_open_source_repo: bool = False


def _edit_rows(old: str, new: str) -> tuple[int, int]:
    """Rows (in ``new``) spanned by the change ``old`` → ``new``."""
    o, n = old.encode("utf-8"), new.encode("utf-8")
    start, _oe, ne = _changed_byte_range(o, n)
    return n.count(b"\n", 0, start), n.count(b"\n", 0, ne)


class EditHistoryTracker:
    """Zed's client-side event grouping (§1.9) for a live editing session.

    Call :meth:`record` after each buffer change with the buffer text before and after it.
    An edit extends the last event when it is in the same buffer, continues from its snapshot,
    has the same ``predicted`` flag and lies within 8 lines of the previous edit; a pause of
    ≥1 s inside a coalesced event splits it in two at finalisation. At most 10 events are kept.
    ``clock`` (seconds) is injectable for tests.
    """

    def __init__(
        self,
        *,
        max_events: int = EVENT_COUNT_MAX,
        grouping_lines: int = CHANGE_GROUPING_LINE_SPAN,
        pause_seconds: float = LAST_CHANGE_GROUPING_TIME,
        size_limit: int = EDIT_HISTORY_DIFF_SIZE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_events = max_events
        self.grouping_lines = grouping_lines
        self.pause_seconds = pause_seconds
        self.size_limit = size_limit
        self.clock = clock
        self._events: list[Event] = []
        self._pending: _Pending | None = None

    def record(
        self,
        path: str,
        old_text: str,
        new_text: str,
        *,
        predicted: bool = False,
        in_open_source_repo: bool = False,
        now: float | None = None,
    ) -> None:
        """Record one buffer edit (``old_text`` → ``new_text``) of ``path``."""
        if old_text == new_text:
            return
        now = self.clock() if now is None else now
        rows = _edit_rows(old_text, new_text)
        p = self._pending
        if (
            p is not None
            and p.path == path
            and p.current == old_text
            and p.predicted == predicted
            and rows[0] <= p.last_rows[1] + self.grouping_lines
            and rows[1] + self.grouping_lines >= p.last_rows[0]
        ):
            if now - p.last_time >= self.pause_seconds:
                p.splits.append(p.current)
            p.current = new_text
            p.last_rows = rows
            p.last_time = now
            return
        self.finalize()
        self._pending = _Pending(path, old_text, new_text, predicted, rows, now, [], in_open_source_repo)

    def finalize(self) -> None:
        """Turn the pending (coalesced) edit into event(s)."""
        p = self._pending
        self._pending = None
        if p is None:
            return
        snapshots = [p.base, *p.splits, p.current]
        for old, new in zip(snapshots, snapshots[1:], strict=False):
            ev = event_from_snapshots(
                old,
                new,
                p.path,
                predicted=p.predicted,
                in_open_source_repo=p.in_open_source_repo,
                size_limit=self.size_limit,
            )
            if ev is not None:
                self._events.append(ev)
        del self._events[: max(0, len(self._events) - self.max_events)]

    def events(self) -> list[Event]:
        """Events oldest → newest, including the pending one (not finalised), ≤ ``max_events``."""
        out = list(self._events)
        p = self._pending
        if p is not None:
            snapshots = [p.base, *p.splits, p.current]
            for old, new in zip(snapshots, snapshots[1:], strict=False):
                ev = event_from_snapshots(
                    old, new, p.path, predicted=p.predicted, in_open_source_repo=p.in_open_source_repo,
                    size_limit=self.size_limit,
                )
                if ev is not None:
                    out.append(ev)
        return out[-self.max_events :]

    def clear(self) -> None:
        self._events.clear()
        self._pending = None
