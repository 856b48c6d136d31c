"""Streaming JSONL reader/writer with transparent gzip/zstd.

Nothing here loads a whole file: readers yield one record per line, writers append and flush.
Compression is chosen by suffix: ``.gz`` → gzip, ``.zst``/``.zstd`` → zstandard, else plain.
``-`` means stdin (reading) or stdout (writing).
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import zstandard


class JsonlError(ValueError):
    """A line that is not valid JSON, with the file and line number it came from."""

    def __init__(self, path: str, line_no: int, message: str):
        super().__init__(f"{path}:{line_no}: {message}")
        self.path = path
        self.line_no = line_no


def _compression(path: str | Path) -> str:
    name = str(path)
    if name.endswith(".gz"):
        return "gzip"
    if name.endswith((".zst", ".zstd")):
        return "zstd"
    return "plain"


@contextmanager
def open_text(path: str | Path, mode: str = "r") -> Iterator[IO[str]]:
    """Open a (possibly compressed) text file for reading ``r``, writing ``w`` or appending ``a``."""
    if str(path) == "-":
        yield sys.stdin if mode == "r" else sys.stdout
        return
    kind = _compression(path)
    if kind == "gzip":
        with gzip.open(path, mode + "t", encoding="utf-8", newline="") as f:
            yield f
    elif kind == "zstd":
        raw = open(path, mode + "b")  # noqa: SIM115 - closed below
        try:
            if mode == "r":
                stream = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
            else:
                # each session of appends writes its own frame; concatenated frames are valid zstd
                stream = zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False)
            text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
            try:
                yield text
            finally:
                text.close()
        finally:
            raw.close()
    else:
        with open(path, mode, encoding="utf-8", newline="") as f:
            yield f


def iter_json_lines(
    path: str | Path, on_error: Callable[[JsonlError], None] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_no, object)`` for each non-blank line. A line that is not a JSON object raises
    :class:`JsonlError`, or with ``on_error`` is passed to it and skipped (the rest is still read)."""
    with open_text(path, "r") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                error = JsonlError(str(path), line_no, f"invalid JSON ({e.msg} at column {e.colno})")
            else:
                if isinstance(obj, dict):
                    yield line_no, obj
                    continue
                error = JsonlError(str(path), line_no, f"expected a JSON object, got {type(obj).__name__}")
            if on_error is None:
                raise error
            on_error(error)


def read_valid_prefix(path: str | Path) -> Iterator[str]:
    """Yield the complete, parseable lines of a file that may end in a torn write (resume support)."""
    try:
        with open_text(path, "r") as f:
            for line in f:
                if not line.endswith("\n"):
                    return  # torn last line: the writer was interrupted
                try:
                    json.loads(line)
                except json.JSONDecodeError:
                    return
                yield line
    except (EOFError, zstandard.ZstdError, OSError):
        return  # truncated compressed stream: keep what decoded


class JsonlWriter:
    """Append JSON objects one per line, flushing after each so an interruption loses at most one."""

    def __init__(self, path: str | Path, append: bool = False):
        self.path = str(path)
        self._cm = open_text(path, "a" if append else "w")
        self._f = self._cm.__enter__()
        self.count = 0

    def write_line(self, line: str) -> None:
        self._f.write(line if line.endswith("\n") else line + "\n")
        self._f.flush()
        self.count += 1

    def write(self, obj: Any) -> None:
        if hasattr(obj, "to_json"):
            self.write_line(obj.to_json())
        else:
            self.write_line(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))

    def close(self) -> None:
        if self._f is not None and self.path != "-":
            self._cm.__exit__(None, None, None)
        self._f = None

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
