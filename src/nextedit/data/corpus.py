"""Raw-code pretraining corpus: one ``{"path", "text"}`` JSON line per ``.py`` file of the newest
release of each manifest package.

Order is deterministic: manifest package order, then file paths sorted as strings. ``path`` is
``<name>-<version>/<path inside the sdist>``. Files that are not valid UTF-8 or cannot be read are
reported by name and skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from nextedit.data.manifest import Manifest
from nextedit.data.pypi import DownloadError, PypiCache


def iter_corpus(
    manifest: Manifest,
    cache: PypiCache,
    on_error: Callable[[str], None] = print,
    suffixes: tuple[str, ...] = (".py",),
    max_bytes: int = 1_000_000,
) -> Iterator[dict[str, str]]:
    """Yield ``{"path", "text"}`` records for the newest release of each package."""
    for pkg in manifest.packages:
        if not pkg.releases:
            continue
        rel = pkg.releases[-1]
        try:
            tree = cache.extract(rel)
        except DownloadError as e:
            on_error(str(e))
            continue
        files = sorted(p for p in tree.rglob("*") if p.is_file() and p.suffix in suffixes)
        for f in sorted(files, key=lambda p: p.relative_to(tree).as_posix()):
            rel_path = f"{rel.name}-{rel.version}/{f.relative_to(tree).as_posix()}"
            try:
                data = f.read_bytes()
                if len(data) > max_bytes:
                    on_error(f"{rel_path}: skipped ({len(data)} bytes > {max_bytes})")
                    continue
                text = data.decode("utf-8")
            except (OSError, UnicodeDecodeError) as e:
                on_error(f"{rel_path}: unreadable: {e}")
                continue
            yield {"path": rel_path, "text": text}


def write_corpus(manifest: Manifest, cache: PypiCache, output: str | Path, on_error=print) -> tuple[int, int]:  # noqa: ANN001
    """Write the corpus JSONL atomically; returns (files, bytes of text)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    n = size = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for rec in iter_corpus(manifest, cache, on_error):
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
            size += len(rec["text"].encode())
    tmp.replace(output)
    return n, size
