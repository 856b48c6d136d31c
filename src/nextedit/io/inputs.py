"""Turn command-line inputs (files, directories, ``-``) into a stream of :class:`Example`.

Accepted: ``.jsonl`` (optionally ``.gz``/``.zst``), ``.json`` (one example), ``.md`` (one Zed eval
case), a directory (its ``.md``/``.jsonl``/``.json`` files, sorted, recursively), ``-`` (stdin JSONL).
Unnamed examples get ``<file stem>`` or ``<stem>-<line>`` as name, as Zed does.
A file or line that cannot be read is reported through ``on_error`` (``file:line: why``) and
skipped; the rest of the file and the other inputs still load.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from nextedit.errors import NexteditError
from nextedit.io.jsonl import iter_json_lines
from nextedit.schema.example import Example

ErrorHandler = Callable[[str], None]

_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".jsonl.zstd", ".ndjson")


class InputError(NexteditError, ValueError):
    """An input that could not be read; the message names the file (and line)."""


def _raise(message: str) -> None:
    raise InputError(message)


def expand_inputs(inputs: Iterable[str | Path]) -> list[str]:
    """Expand directories into their example files (sorted); keep files and ``-`` as given."""
    out: list[str] = []
    for item in inputs:
        p = Path(item)
        if str(item) == "-":
            out.append("-")
        elif p.is_dir():
            for child in sorted(p.rglob("*")):
                if child.is_file() and (child.suffix in (".md", ".json") or child.name.endswith(_JSONL_SUFFIXES)):
                    out.append(str(child))
        elif p.exists():
            out.append(str(p))
        else:
            raise InputError(f"{item}: no such file or directory")
    return out


def _stem(path: str) -> str:
    name = Path(path).name
    for suffix in (*_JSONL_SUFFIXES, ".json", ".md"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return Path(path).stem


def read_examples(inputs: Iterable[str | Path], on_error: ErrorHandler | None = None) -> Iterator[Example]:
    """Stream examples from all inputs. ``on_error`` receives a message per unreadable file/line;
    by default the first error raises :class:`InputError`."""
    handle = on_error or _raise
    for path in expand_inputs(inputs):
        if path.endswith(".md"):
            from nextedit.io.markdown import MarkdownError, parse_markdown

            try:
                text = Path(path).read_text(encoding="utf-8")
                ex = parse_markdown(text, path=path)
            except (MarkdownError, UnicodeDecodeError, OSError) as e:
                handle(str(e) if isinstance(e, MarkdownError) else f"{path}: {e}")
                continue
            if not ex.name:
                ex.name = _stem(path)
            yield ex
        elif path.endswith(".json"):
            try:
                ex = Example.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
            except (ValidationError, json.JSONDecodeError, OSError, UnicodeDecodeError) as e:
                handle(f"{path}: {_short(e)}")
                continue
            if not ex.name:
                ex.name = _stem(path)
            yield ex
        else:
            stem = _stem(path)
            try:
                for line_no, obj in iter_json_lines(path, on_error=lambda e: handle(str(e))):
                    try:
                        ex = Example.model_validate(obj)
                    except ValidationError as e:
                        handle(f"{path}:{line_no}: {_short(e)}")
                        continue
                    if not ex.name:
                        ex.name = f"{stem}-{line_no}"
                    yield ex
            except (OSError, UnicodeDecodeError, EOFError) as e:
                handle(f"{path}: {e}")


def _short(e: Exception) -> str:
    if isinstance(e, ValidationError):
        first = e.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        return f"invalid example: {loc}: {first['msg']}" + (
            f" (+{e.error_count() - 1} more)" if e.error_count() > 1 else ""
        )
    return str(e)
