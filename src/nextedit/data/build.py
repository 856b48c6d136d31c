"""`dataset build`: ingest → dedup → context → split → focus-target → format-prompt → stats.

Everything lands in ``<data dir>/<name>/`` (not committed)::

    ingest-pypi.jsonl, ingest-git-<repo>.jsonl   raw split-commit examples (resumable, markers)
    dedup.jsonl                                   after §3.1 dedup
    context.jsonl                                 + prompt_inputs (resumable: run_stage)
    train.jsonl, valid.jsonl, test.jsonl          split (§3.9) then trimmed target + prompt
    stats.md, stats.json, stats.png, build.json   report and per-step timings

Every step is resumable or cheap and deterministic, so an interrupted build is simply rerun.
Same manifest + repositories + seed → byte-identical outputs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nextedit.data.pypi import data_dir


@dataclass
class BuildConfig:
    name: str = "default"
    manifest: str | None = None  # None = the committed default manifest; "" = no PyPI data
    repos: list[str] = field(default_factory=list)
    seed: int = 0
    git_samples: int = 3
    pypi_max_samples: int = 16
    max_duplicates: int = 4
    context: str = "lsp"
    format: str = "zeta2_1"
    splits: list[str] = field(default_factory=lambda: ["test=8%", "valid=4%", "train=rest"])
    stratify: str = "repo-name"
    max_target_lines: int = 40  # cut training targets to their first N changed lines (0 = keep whole)
    out_dir: str | None = None
    cache: str | None = None
    packages: list[str] | None = None

    def directory(self) -> Path:
        return Path(self.out_dir) if self.out_dir else data_dir() / self.name


def _write_atomic(path: Path, examples) -> int:  # noqa: ANN001
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for ex in examples:
            f.write(ex.to_json() + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def build_dataset(cfg: BuildConfig, progress: bool = True, log: Callable[[str], None] = print) -> dict:
    """Run the whole build (see module doc); returns ``{"stats": …, "timings": …}``."""
    from nextedit.context.stages import ContextStage
    from nextedit.data.dedup import DedupStage
    from nextedit.data.git_ingest import GitIngest
    from nextedit.data.ingest import run_ingest
    from nextedit.data.pypi import PypiCache, pypi_sources
    from nextedit.data.pypi_ingest import PypiIngest
    from nextedit.data.split import SplitSpec, split_examples
    from nextedit.data.stats import dataset_stats, write_report
    from nextedit.data.target import FocusTargetStage
    from nextedit.io.inputs import read_examples
    from nextedit.pipeline import run_stage
    from nextedit.prompts.stages import FormatPromptStage

    out = cfg.directory()
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    errors: list[str] = []

    def step(name: str):  # noqa: ANN202
        class _T:
            def __enter__(self):  # noqa: ANN204
                self.t = time.perf_counter()
                log(f"[{name}] …")

            def __exit__(self, *a):  # noqa: ANN002, ANN204
                timings[name] = round(time.perf_counter() - self.t, 2)
                log(f"[{name}] {timings[name]:.1f} s")

        return _T()

    raw: list[str] = []
    with step("ingest"):
        if cfg.manifest != "":
            path = out / "ingest-pypi.jsonl"
            stage = PypiIngest(
                cfg.manifest or None,
                cache=PypiCache(cfg.cache),
                seed=cfg.seed,
                max_samples=cfg.pypi_max_samples,
                packages=cfg.packages,
                on_error=errors.append,
            )
            run_ingest(stage, path, progress=progress)
            raw.append(str(path))
        for repo in cfg.repos:
            stage = GitIngest(repo, samples=cfg.git_samples, seed=cfg.seed, on_error=errors.append)
            path = out / f"ingest-git-{stage.repo.name}.jsonl"
            run_ingest(stage, path, progress=progress)
            raw.append(str(path))
    with step("dedup"):
        run_stage(
            DedupStage(cfg.max_duplicates), raw, str(out / "dedup.jsonl"), resume=False, progress=progress
        )
    with step("context"):
        run_stage(
            ContextStage(context_type=cfg.context, sources=pypi_sources(cfg.cache)),
            [str(out / "dedup.jsonl")],
            str(out / "context.jsonl"),
            progress=progress,
        )
    with step("split + format-prompt"):
        # keep exactly the deduplicated examples, in their order (the context file may hold lines
        # of an earlier run whose inputs changed)
        by_hash = {ex.spec_hash(): ex for ex in read_examples([str(out / "context.jsonl")])}
        examples = [
            by_hash[h]
            for h in (ex.spec_hash() for ex in read_examples([str(out / "dedup.jsonl")]))
            if h in by_hash
        ]
        specs = [SplitSpec.parse(s) for s in cfg.splits]
        parts = split_examples(examples, specs, seed=cfg.seed, stratify=cfg.stratify)
        final: dict[str, list] = {}
        for spec, part in zip(specs, parts, strict=True):
            name = spec.path.removesuffix(".jsonl")
            focus, fmt = FocusTargetStage(cfg.format, cfg.max_target_lines), FormatPromptStage(cfg.format)
            final[name] = list(fmt.run(focus.run(part)))
            _write_atomic(out / f"{name}.jsonl", final[name])
            log(
                f"  {name}.jsonl: {len(final[name])} examples (format-prompt dropped {sum(fmt.stats.dropped.values())})"
            )
    with step("stats"):
        stats = dataset_stats(final)
        notes = [f"{k}: {v:.1f} s" for k, v in timings.items()]
        notes.append(f"config: {json.dumps(asdict(cfg))}")
        md = write_report(stats, out, title=cfg.name, notes=notes)
    (out / "build.json").write_text(
        json.dumps({"config": asdict(cfg), "timings": timings, "skipped": errors}, indent=1) + "\n"
    )
    log(f"report: {md}")
    return {"stats": stats, "timings": timings}
