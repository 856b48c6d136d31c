"""The teacher stage against the local teacher (``nextedit bench teacher``).

``nextedit serve`` (``heuristic`` by default, or ``hybrid``) is started on a free loopback port in a
child process with a generous deadline; the example set is repeated up to ``examples`` copies, each
with its own name and its cursor file moved under ``bench-copy-NNN/`` so that every copy asks its own
question (the name is not part of the teacher prompt; the path is). Then, for each ``--max-parallelism``
N, the ``teacher`` stage runs over the copies exactly as ``nextedit teacher --max-parallelism N``
does (N worker processes, shards of the pipeline's default size, each worker's client up to N
requests in flight) with a fresh response cache, and a second time over the same input with that
cache. Figures of one parallelism (a row):

* ``examples``, ``requests`` (HTTP requests sent, counted by the client), ``edits`` (answers with
  an edit; the rest are ``NO_EDITS``), ``seconds``, ``examples_per_s`` and ``requests_per_s`` of the
  fresh run (wall clock of the whole run, worker start-up included); a failed or unparseable answer
  stops the benchmark (a bug, not a figure);
* ``cached_requests`` (0 unless the cache misses), ``cached_examples_per_s`` and
  ``cache_hits_per_s`` of the second run.

Besides the rows, :func:`bench_teacher` returns the client layer's own cost per request
(``raw_http_ms``, ``client_ms``, ``overhead_ms``, ``layer_ms``; :func:`nextedit.bench.llm.bench_llm`,
against the loopback replay server so the server's time does not hide it).

Not a test: figures depend on the machine (two shared cores here). No key is used.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nextedit.errors import NexteditError
from nextedit.schema.example import Example

PROVIDERS = ("heuristic", "hybrid")
SERVED_MODEL = "teacher"
DEADLINE_MS = 600_000  # the server's per-request deadline: a queue of 16 workers on 2 cores is no error
REQUEST_TIMEOUT_S = 600.0
MAX_ATTEMPTS = 3  # the local teacher is not rate limited: a request failing three times is a bug


@dataclass
class TeacherBench:
    """What :func:`bench_teacher` measured: one row per parallelism and the client layer's cost."""

    provider: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    client_layer: dict[str, float | int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "rows": self.rows, "client_layer": self.client_layer}


def load_examples(path: str | Path) -> list[Example]:
    """The examples under ``path`` (a directory of ``.md``/``.jsonl`` files, or one file). Raises
    :class:`NexteditError` naming ``path`` when it holds none or one cannot be read."""
    from nextedit.io.inputs import InputError, read_examples

    try:
        examples = list(read_examples([str(path)]))
    except (InputError, OSError) as e:
        raise NexteditError(f"{path}: {e}") from None
    if not examples:
        raise NexteditError(f"{path}: no examples")
    return examples


def distinct_copies(examples: Sequence[Example], n: int) -> list[Example]:
    """``n`` copies of ``examples`` (cycled), copy ``i`` named ``NAME#i`` with its cursor path (and
    every mention of it: edit history, patches, request) moved under ``bench-copy-i/``, so no two
    copies share a teacher prompt or a cache entry."""
    copies = []
    for i in range(n):
        ex = examples[i % len(examples)]
        text = ex.to_json()
        if ex.cursor_path:
            text = text.replace(ex.cursor_path, f"bench-copy-{i:03d}/{ex.cursor_path}")
        copy = Example.from_json(text)
        copy.name = f"{ex.name}#{i:03d}"
        copies.append(copy)
    return copies


def _server_config(tmp: Path, provider: str) -> Path:
    path = tmp / "teacher.toml"
    path.write_text(
        f'[server]\nstore = "sqlite:///{tmp / "telemetry.db"}"\ndeadline_ms = {DEADLINE_MS}\n\n'
        f'[models.{SERVED_MODEL}]\nprovider = "{provider}"\nworkers = 2\n'
    )
    return path


def _run_teacher(src: Path, out: Path, spec: str, cache: Path, parallelism: int) -> tuple[float, dict]:
    """One ``teacher`` run as the CLI makes it; returns (seconds, the stage's counters). Raises
    :class:`NexteditError` quoting the first failed prediction when any failed."""
    from nextedit.llm import LLMConfig
    from nextedit.pipeline import ExampleReader, ExampleWriter, make_executor, run_pipeline
    from nextedit.teacher import TeacherStage

    config = LLMConfig(
        spec,
        cache=str(cache),
        timeout=REQUEST_TIMEOUT_S,
        max_attempts=MAX_ATTEMPTS,
        max_parallelism=parallelism,
    )
    stage = TeacherStage(config)
    result = run_pipeline(
        [ExampleReader([str(src)]), stage, ExampleWriter(str(out))],
        make_executor("local", parallelism),
        resume=False,
    )
    if result.failed or result.unreadable:
        raise NexteditError(f"teacher run at parallelism {parallelism}: {result.failed} examples failed")
    errors = stage.stats.counters.get("predictions with error", 0)
    if errors:
        from nextedit.io.inputs import read_examples

        first = next(p.error for ex in read_examples([str(out)]) for p in ex.predictions if p.error)
        raise NexteditError(
            f"teacher run at parallelism {parallelism}: {errors} predictions failed ({first})"
        )
    return result.seconds, dict(stage.stats.counters)


def bench_teacher(
    examples_path: str | Path,
    *,
    examples: int = 200,
    parallelism: Sequence[int] = (1, 4, 16),
    provider: str = "heuristic",
    client_requests: int = 200,
    log: Callable[[str], None] = lambda _msg: None,
) -> TeacherBench:
    """Measure the teacher stage (module doc) over ``examples`` copies of the examples at
    ``examples_path``, at each of ``parallelism``; ``client_requests`` requests measure the client
    layer (0: skip). ``log`` receives progress lines. Raises :class:`NexteditError` (one line) on a
    bad argument, unreadable examples or a server that does not come up."""
    from nextedit.bench.llm import bench_llm
    from nextedit.bench.serve import spawn_server

    if provider not in PROVIDERS:
        raise NexteditError(f"provider {provider!r}: expected one of {', '.join(PROVIDERS)}")
    if examples < 1 or not parallelism or min(parallelism) < 1:
        raise NexteditError("examples and every parallelism must be at least 1")
    base = load_examples(examples_path)
    bench = TeacherBench(provider)
    with tempfile.TemporaryDirectory(prefix="nextedit-bench-teacher-") as name:
        tmp = Path(name)
        src = tmp / "examples.jsonl"
        src.write_text("".join(ex.to_json() + "\n" for ex in distinct_copies(base, examples)))
        proc, url, logs = spawn_server(provider, str(_server_config(tmp, provider)))
        log(f"local teacher ({provider}) at {url}; server log in {logs / 'server.log'}")
        spec = f"openai-compatible:{url}/v1#{SERVED_MODEL}"
        try:
            for p in parallelism:
                cache = tmp / f"cache-p{p}.sqlite"
                seconds, fresh = _run_teacher(src, tmp / f"fresh-p{p}.jsonl", spec, cache, p)
                cached_s, again = _run_teacher(src, tmp / f"cached-p{p}.jsonl", spec, cache, p)
                requests = int(fresh.get("llm.http_attempts", 0))
                bench.rows.append(
                    {
                        "parallelism": p,
                        "examples": examples,
                        "requests": requests,
                        "edits": int(fresh.get("predictions with an edit", 0)),
                        "seconds": round(seconds, 2),
                        "examples_per_s": round(examples / seconds, 1),
                        "requests_per_s": round(requests / seconds, 1),
                        "cached_requests": int(again.get("llm.http_attempts", 0)),
                        "cached_examples_per_s": round(examples / cached_s, 1),
                        "cache_hits_per_s": round(int(again.get("llm.cache_hits", 0)) / cached_s),
                    }
                )
                log(f"parallelism {p}: {bench.rows[-1]['examples_per_s']} examples/s")
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    if client_requests:
        bench.client_layer = bench_llm(client_requests, parallelism=())
    return bench
