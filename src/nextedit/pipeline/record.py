"""The run record: what makes an output resumable, and by which run only.

Beside an output ``out.jsonl`` the pipeline keeps ``out.jsonl.run.jsonl``, append-only:

    {"run": "<sha256>", "identity": {...}}        inputs (paths, sizes, mtimes / content hash),
                                                   step options, selection, shard size
    {"shard":0,"items":16,"lines":48,"failed":0}  after shard 0's lines are flushed: totals so far
    {"shard":1,"items":32,"lines":97,"failed":1}
    {"complete":true,"bytes":5120,"unreadable":0} the run finished: the output's size, input lines skipped

Shards are written in order, so the finished ones are always a prefix: a rerun with the same
identity keeps the first ``lines`` output lines (and ``failed`` lines of the failed file) of the
last marker, drops anything after it (a torn or partial shard) and goes on with the next shard.
A rerun with another identity is refused, so that two datasets never mix in one file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def describe(value: Any, depth: int = 0) -> Any:
    """A JSON-able, deterministic description of a stage's options (its public attributes).

    Plain values are kept; containers and dataclasses are described item by item; functions by
    qualified name; other objects (a prompt format, a provider) by class name, ``name``/``provider``
    and their plain public attributes. Private attributes (``_x``) and ``stats`` are left out.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Path):
        return str(value)
    if depth > 4:
        return type(value).__qualname__
    if isinstance(value, list | tuple):
        return [describe(v, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(str(describe(v, depth + 1)) for v in value)
    if isinstance(value, dict):
        return {str(k): describe(v, depth + 1) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: describe(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
        return {"type": type(value).__qualname__, **fields}
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    if depth == 0:  # a stage: its public attributes are its options
        options = {k: v for k, v in vars(value).items() if not k.startswith("_") and k != "stats"}
        return {"type": type(value).__qualname__, **describe(options, depth + 1)}
    out: dict[str, Any] = {"type": type(value).__qualname__}
    for attr in ("name", "provider"):
        v = getattr(value, attr, None)
        if isinstance(v, str):
            out[attr] = v
    for k, v in sorted(getattr(value, "__dict__", {}).items()):  # its plain settings (a model path)
        if not k.startswith("_") and (v is None or isinstance(v, bool | int | float | str | Path)):
            out[k] = describe(v)
    return out


def run_hash(identity: Any) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Progress:
    """Where an unfinished (or finished) run stands: shards done, items done, output/failed lines."""

    shards: int = 0
    items: int = 0
    lines: int = 0
    failed: int = 0
    complete: bool = False
    bytes: int | None = None  # the output's size when the run finished
    unreadable: int = 0  # input lines or files the finished run could not read


class RunRecord:
    """The ``<output>.run.jsonl`` file of one output (see module doc)."""

    def __init__(self, output: str | Path) -> None:
        self.path = Path(str(output) + ".run.jsonl")

    def load(self, run: str) -> Progress | None:
        """The progress of run ``run`` if the record belongs to it; None if there is no record or
        it belongs to another run. A torn last line is ignored."""
        if not self.path.exists():
            return None
        progress, header = Progress(), None
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                break
            if header is None:
                header = entry.get("run")
                if header != run:
                    return None
            elif "shard" in entry:
                progress = Progress(entry["shard"] + 1, entry["items"], entry["lines"], entry["failed"])
            elif entry.get("complete"):
                progress.complete, progress.bytes = True, entry.get("bytes")
                progress.unreadable = entry.get("unreadable", 0)
        return progress if header == run else None

    def start(self, run: str, identity: Any, progress: Progress | None = None) -> None:
        """(Re)write the record: the header, plus the last marker of ``progress`` when resuming."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps({"run": run, "identity": identity}, default=str)]
        if progress and progress.shards:
            lines.append(self._marker(progress.shards - 1, progress.items, progress.lines, progress.failed))
        self.path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")

    def mark(self, shard: int, items: int, lines: int, failed: int) -> None:
        """Shard ``shard`` is flushed; ``items``/``lines``/``failed`` are the totals so far."""
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(self._marker(shard, items, lines, failed) + "\n")

    def finish(self, output_bytes: int, unreadable: int) -> None:
        entry = {"complete": True, "bytes": output_bytes, "unreadable": unreadable}
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, separators=(",", ":")) + "\n")

    @staticmethod
    def _marker(shard: int, items: int, lines: int, failed: int) -> str:
        entry = {"shard": shard, "items": items, "lines": lines, "failed": failed}
        return json.dumps(entry, separators=(",", ":"))
