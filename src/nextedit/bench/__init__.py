"""Benchmarks: each ``nextedit bench …`` command's measuring code (figures, not tests).

* :mod:`~nextedit.bench.serve` — simulated typists against a server (``bench serve``)
* :mod:`~nextedit.bench.latency` — end-to-end prediction latency and passes per token (``bench latency``)
* :mod:`~nextedit.bench.context` — symbol-index build and ``build_request`` latency (``bench context``)
* :mod:`~nextedit.bench.text` — diff and patch utilities (``bench text``)
* :mod:`~nextedit.bench.eval` — request providers' and scoring latency (``bench eval``)
* :mod:`~nextedit.bench.ab` — power of the A/B analysis by simulation (``bench ab``)
* :mod:`~nextedit.bench.llm` — the LLM client layer's overhead and cache hits/s (``bench llm``)
* :mod:`~nextedit.bench.teacher` — the teacher stage against the local teacher (``bench teacher``)
* :mod:`~nextedit.bench.split_commit` — split-commit throughput on a release repository (``bench split-commit``)

Benchmarks sit above every library package: they may import anything, nothing imports them but
the CLI. They return figures (rows, dicts, dataclasses) and report progress through callbacks; the
CLI renders them. They never print, never use rich, and never exit: a benchmark that cannot run
raises :class:`nextedit.errors.NexteditError` (one line naming the bad input).
"""
