"""Line tables of UTF-8 text held as bytes."""

from __future__ import annotations


def line_starts(data: bytes) -> list[int]:
    """Byte offset where each line of ``data`` starts: ``[0]`` then one past every ``\\n`` (so text
    ending in ``\\n`` has an empty last line starting at ``len(data)``)."""
    starts = [0]
    i = data.find(b"\n")
    while i >= 0:
        starts.append(i + 1)
        i = data.find(b"\n", i + 1)
    return starts
