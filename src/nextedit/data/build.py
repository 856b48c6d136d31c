"""`dataset build`: a chain of pipelines — ingest → dedup → context → split → format-prompt → stats.

Everything lands in ``<data dir>/<name>/`` (not committed)::

    ingest-pypi.jsonl, ingest-git-<repo>.jsonl   1/6 raw split-commit examples
    dedup.jsonl                                   2/6 after §3.1 dedup
    context.jsonl                                 3/6 + prompt_inputs
    train.jsonl, valid.jsonl, test.jsonl          4/6 split (§3.9), 5/6 trimmed target + prompt
    stats.md, stats.json, stats.png, build.json   6/6 report and per-stage timings

Each file is written by :func:`~nextedit.pipeline.run_pipeline`, so each is resumable: an
interrupted build, rerun, resumes where it stopped (finished files are kept as they are, a
half-written one goes on after its last finished shard) and a file whose inputs or options
changed is made again. Same manifest + repositories + seed → byte-identical outputs.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nextedit.data.pypi import data_dir
from nextedit.pipeline import Executor, NoProgress, ProgressListener, Stage, run_pipeline

STAGES = ("ingest", "dedup", "context", "split", "format-prompt", "stats")


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


def build_dataset(
    cfg: BuildConfig, progress: ProgressListener | None = None, executor: Executor | None = None
) -> dict:
    """Run the whole build (see module doc); returns ``{"stats": …, "timings": …}`` (seconds per
    stage). ``progress`` hears every pipeline, labelled ``k/6 stage``; ``executor`` runs them."""
    from nextedit.context.stages import ContextStage
    from nextedit.data.dedup import DedupStage
    from nextedit.data.git_ingest import GitIngest
    from nextedit.data.pypi import PypiCache, pypi_sources
    from nextedit.data.pypi_ingest import PypiIngest
    from nextedit.data.split import SplitSpec, split_examples
    from nextedit.data.stats import dataset_stats, write_report
    from nextedit.data.target import FocusTargetStage
    from nextedit.io.inputs import read_examples
    from nextedit.pipeline import ExampleList, ExampleReader, ExampleWriter
    from nextedit.prompts.stages import FormatPromptStage

    progress = progress or NoProgress()
    out = cfg.directory()
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    skipped: list[str] = []

    def label(stage: str, what: str = "") -> str:
        return f"{STAGES.index(stage) + 1}/{len(STAGES)} {stage}" + (f" {what}" if what else "")

    def run(stage: str, what: str, pipeline: list[Stage]) -> None:
        t0 = time.perf_counter()
        result = run_pipeline(
            pipeline, executor, restart_if_changed=True, progress=progress, label=label(stage, what)
        )
        timings[stage] = round(timings.get(stage, 0.0) + time.perf_counter() - t0, 2)
        skipped.extend(result.messages)

    raw: list[str] = []
    if cfg.manifest != "":
        source = PypiIngest(
            cfg.manifest or None,
            cache=PypiCache(cfg.cache),
            seed=cfg.seed,
            max_samples=cfg.pypi_max_samples,
            packages=cfg.packages,
        )
        raw.append(str(out / "ingest-pypi.jsonl"))
        run("ingest", "pypi", [source, ExampleWriter(raw[-1])])
    for repo in cfg.repos:
        source = GitIngest(repo, samples=cfg.git_samples, seed=cfg.seed)
        raw.append(str(out / f"ingest-git-{source.repo.name}.jsonl"))
        run("ingest", f"git {source.repo.name}", [source, ExampleWriter(raw[-1])])
    dedup, context = out / "dedup.jsonl", out / "context.jsonl"
    run("dedup", "", [ExampleReader(raw), DedupStage(cfg.max_duplicates), ExampleWriter(dedup)])
    context_stage = ContextStage(  # the git repositories ingested above are trusted as local paths
        context_type=cfg.context, sources=pypi_sources(cfg.cache), local_repos=[Path(r).resolve() for r in cfg.repos]
    )
    run("context", "", [ExampleReader([dedup]), context_stage, ExampleWriter(context)])

    t0 = time.perf_counter()
    specs = [SplitSpec.parse(s) for s in cfg.splits]
    parts = split_examples(list(read_examples([context])), specs, seed=cfg.seed, stratify=cfg.stratify)
    names = [spec.path.removesuffix(".jsonl") for spec in specs]
    timings["split"] = round(time.perf_counter() - t0, 2)
    progress.message(
        f"{label('split')}: " + ", ".join(f"{n} {len(p)}" for n, p in zip(names, parts, strict=True))
    )
    final: dict[str, list] = {}
    for name, part in zip(names, parts, strict=True):
        steps = [FocusTargetStage(cfg.format, cfg.max_target_lines), FormatPromptStage(cfg.format)]
        run(
            "format-prompt",
            name,
            [ExampleList(part, name=f"split {name}"), *steps, ExampleWriter(out / f"{name}.jsonl")],
        )
        final[name] = list(read_examples([out / f"{name}.jsonl"]))

    t0 = time.perf_counter()
    stats = dataset_stats(final)
    notes = [f"{k}: {v:.1f} s" for k, v in timings.items()]
    notes.append(f"config: {json.dumps(asdict(cfg))}")
    md = write_report(stats, out, title=cfg.name, notes=notes)
    timings["stats"] = round(time.perf_counter() - t0, 2)
    (out / "build.json").write_text(
        json.dumps({"config": asdict(cfg), "timings": timings, "skipped": skipped}, indent=1) + "\n"
    )
    progress.message(f"{label('stats')}: report {md}")
    return {"stats": stats, "timings": timings}
