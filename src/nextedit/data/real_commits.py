"""`dataset real-commits`: next-hunk and split-commit examples from real git histories, with whole
repositories held out as validation (the honest yardstick of issue 16).

Input: a directory of ``OWNER--NAME.bundle`` files (``git bundle``; the shared ones are starlette,
black, click, typer, ripgrep, fd, cobra, ky). Everything lands in ``<data dir>/real-commits/``
(``$NEXTEDIT_DATA_DIR``, not committed)::

    repos/OWNER/NAME/                      1/4 clone of each bundle (origin = https://github.com/OWNER/NAME)
    ingest-OWNER--NAME.jsonl               2/4 examples of the newest ``max_commits`` commits
    context-OWNER--NAME.jsonl              3/4 + prompt_inputs (repository at the parent revision)
    {train,valid}-{next-hunk,split-commit}.jsonl   4/4 held-out repositories → valid, the rest → train
    stats.md, stats.json, stats.png, build.json    counts per split, language, size; timings;
                                                   build.json: examples per kind:/lang:/repo: tag

Per commit (loaded and filtered by :func:`~nextedit.data.git_ingest.load_commit`, hunks in typing
order by :func:`~nextedit.data.commit.order_commit`):

* **next-hunk** cases (:func:`next_hunk_cases`): for ``next_hunk_samples`` seeded hunk indices
  ``k ≥ 1`` whose hunk is in the same file as hunk ``k − 1``, the edit history is hunks ``0..k−1``
  (no half-typed line), the expected patch is hunk ``k`` alone, the cursor sits at the end of the
  last history edit (80 %) or at the start of hunk ``k`` (20 %). Named ``<repo>-<sha8>-hunk-<k>``.
* **split-commit** cases: :func:`~nextedit.data.split_commit.split_commit` as ``ingest git`` makes
  them (``split_samples`` per commit), named ``<repo>-<sha8>-split[-n]``.

Every example is tagged ``source:git``, ``source:real-commit``, ``repo:OWNER/NAME``,
``case:next-hunk|split-commit``, ``kind:<edit kind of the expected patch in the cursor file>``
(:func:`~nextedit.data.edit_kind.edit_kind`) and ``lang:<language of the cursor file>``.
The validation files keep only what can be scored honestly: examples whose project loaded
(no ``context:error:*``/``context:excerpt-only``) and whose expected patch changes more than
whitespace (an empty or re-indenting one scores the ``none`` provider as perfect under delta
chrF's whitespace collapsing); train files keep everything.

Every file is written by :func:`~nextedit.pipeline.run_pipeline`, so a rerun resumes where it
stopped and redoes a file whose inputs or options changed; clones are kept. Same bundles + seed
→ byte-identical files.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nextedit.data.commit import OrderedCommit
from nextedit.data.edit_kind import edit_kind, file_sections
from nextedit.data.git_ingest import CommitFilter, GitError, GitIngest
from nextedit.data.ingest import IngestItem
from nextedit.data.split_commit import SplitConfig, make_sample, split_commit
from nextedit.data.stats import language
from nextedit.paths import data_dir
from nextedit.pipeline import Executor, NoProgress, ProgressListener, Stage, run_pipeline
from nextedit.schema.example import Example

STAGES = ("clone", "ingest", "context", "split")
CASES = ("next-hunk", "split-commit")
#: Held out by default: one Python, one Rust and one TypeScript project.
DEFAULT_VALID = ("encode/starlette", "sharkdp/fd", "sindresorhus/ky")
DEFAULT_MAX_COMMITS = 150
NEXT_HUNK_CONFIG = SplitConfig(max_target_hunks=1, half_typed=False)
#: Edit kinds validation drops: ``none`` would score them as perfect (nothing, or only whitespace, changes).
UNSCORABLE_KINDS = ("no-edit", "whitespace")


@dataclass
class RealCommitsConfig:
    """Options of :func:`build_real_commits`. ``max_commits``: the newest N commits walked per
    repository (merges, docs-only, renames, too small/large commits are then skipped);
    ``repos``: only these ``OWNER/NAME`` (None = every bundle)."""

    bundles_dir: str
    out_dir: str | None = None
    max_commits: int = DEFAULT_MAX_COMMITS
    next_hunk_samples: int = 2
    split_samples: int = 1
    seed: int = 0
    valid: list[str] = field(default_factory=lambda: list(DEFAULT_VALID))
    context: str = "lsp"
    repos: list[str] | None = None

    def directory(self) -> Path:
        return Path(self.out_dir) if self.out_dir else data_dir() / "real-commits"


# ------------------------------------------------------------------------------------ bundles


def find_bundles(bundles_dir: str | Path) -> dict[str, Path]:
    """``OWNER/NAME`` → bundle path for every ``OWNER--NAME.bundle`` in the directory (sorted)."""
    d = Path(bundles_dir)
    if not d.is_dir():
        raise GitError(f"{bundles_dir}: bundle directory not found")
    out = {}
    for p in sorted(d.glob("*.bundle")):
        owner, sep, name = p.name.removesuffix(".bundle").partition("--")
        if sep and owner and name:
            out[f"{owner}/{name}"] = p
    if not out:
        raise GitError(f"{bundles_dir}: no OWNER--NAME.bundle files")
    return out


def clone_bundle(bundle: Path, dest: Path, slug: str) -> Path:
    """A clone of ``bundle`` at ``dest`` whose ``remote.origin.url`` is ``https://github.com/<slug>``
    (so examples name the upstream repository). An existing clone is kept; a half-made one
    (``dest.partial``) is made again."""
    if (dest / ".git").is_dir():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    for args in (
        ["git", "clone", "-q", str(bundle), str(tmp)],
        ["git", "-C", str(tmp), "remote", "set-url", "origin", f"https://github.com/{slug}"],
    ):
        r = subprocess.run(args, capture_output=True)
        if r.returncode != 0:
            raise GitError(
                f"{bundle}: {' '.join(args[:2])} failed: {r.stderr.decode(errors='replace').strip()}"
            )
    tmp.rename(dest)
    return dest


# ------------------------------------------------------------------------------------ examples


def next_hunk_cases(
    commit: OrderedCommit,
    *,
    name: str,
    repository_url: str,
    revision: str,
    seed: int | str = 0,
    samples: int = 2,
    tags: Sequence[str] = (),
) -> list[Example]:
    """Up to ``samples`` next-hunk examples of one commit (see module doc), in hunk order; the
    hunk indices are drawn with ``random.Random(f"{seed}:{name}")``."""
    hunks = commit.hunks
    candidates = [k for k in range(1, len(hunks)) if hunks[k].file == hunks[k - 1].file]
    picked = sorted(random.Random(f"{seed}:{name}").sample(candidates, min(samples, len(candidates))))
    starts = [0]
    for h in hunks:
        starts.append(starts[-1] + len(h.units))
    out = []
    for k in picked:
        sample = make_sample(commit, starts[k], random.Random(f"{seed}:{name}:{k}"), NEXT_HUNK_CONFIG)
        out.append(sample.to_example(f"{name}-{k}", repository_url, revision, tags))
    return out


def kind_and_language_tags(example: Example) -> list[str]:
    """``kind:<edit kind of the first expected patch in the cursor file>`` (``no-edit`` when the
    next edit is in another file: in the cursor excerpt nothing changes) and ``lang:<language of
    the cursor file>``."""
    patch = example.expected_patches[0] if example.expected_patches else ""
    kind = edit_kind(file_sections(patch, example.cursor_path))
    return [f"kind:{kind}", f"lang:{language(example.cursor_path)}"]


def tag_value(example: Example, prefix: str) -> str | None:
    """The value of the first ``prefix:value`` tag (``tag_value(ex, "kind")``), else None."""
    head = prefix + ":"
    return next((t[len(head) :] for t in example.tags if t.startswith(head)), None)


class RealCommitIngest(GitIngest):
    """Source stage: next-hunk and split-commit examples of the newest commits of one clone."""

    name = "ingest-real-commits"

    def __init__(
        self,
        repo: str | Path,
        slug: str,
        *,
        max_commits: int | None = DEFAULT_MAX_COMMITS,
        next_hunk_samples: int = 2,
        split_samples: int = 1,
        seed: int = 0,
        flt: CommitFilter | None = None,
    ):
        super().__init__(repo, max_commits=max_commits, samples=split_samples, seed=seed, flt=flt)
        self.slug = slug
        self.next_hunk_samples = next_hunk_samples

    def examples_for(self, item: IngestItem) -> list[Example]:
        got = self.load(item)
        if got is None:
            return []
        sha = item.data[0]
        base = f"{self.repo.name}-{sha[:8]}"
        common = {"repository_url": self.repo.url, "revision": f"{sha}~1", "seed": self.seed}
        tags = ("source:git", "source:real-commit", f"repo:{self.slug}")
        examples = next_hunk_cases(
            got, name=f"{base}-hunk", samples=self.next_hunk_samples, tags=(*tags, "case:next-hunk"), **common
        )
        if self.samples > 0:
            examples += split_commit(
                got,
                name=f"{base}-split",
                samples=self.samples,
                cfg=self.cfg,
                tags=(*tags, "case:split-commit"),
                **common,
            )
        for ex in examples:
            ex.tags.extend(kind_and_language_tags(ex))
            self.stats.count(f"{tag_value(ex, 'case')} examples")
        return examples


class SelectCase(Stage):
    """Keeps the examples of one ``case``; with ``scorable_only`` (validation) also drops those whose
    project did not load and those whose expected patch is empty (counted as dropped, by reason)."""

    name = "select"

    def __init__(self, case: str, scorable_only: bool) -> None:
        super().__init__()
        self.case, self.scorable_only = case, scorable_only

    def process(self, example: Example) -> Example | None:
        if tag_value(example, "case") != self.case:
            return None
        if self.scorable_only:
            if any(t.startswith("context:error:") or t == "context:excerpt-only" for t in example.tags):
                self.stats.drop("project did not load (context:error / excerpt-only)")
                return None
            if tag_value(example, "kind") in UNSCORABLE_KINDS:
                self.stats.drop("empty or whitespace-only expected patch")
                return None
        return example


# ------------------------------------------------------------------------------------ build


def build_real_commits(
    cfg: RealCommitsConfig, progress: ProgressListener | None = None, executor: Executor | None = None
) -> dict:
    """Run the whole build (see module doc); returns ``{"files": {name: examples}, "timings": …}``
    (seconds per stage). Raises :class:`~nextedit.data.git_ingest.GitError` for a missing bundle
    directory, an unknown ``repos``/``valid`` name or a failed clone."""
    from nextedit.context.stages import ContextStage
    from nextedit.data.stats import dataset_stats, write_report
    from nextedit.io.inputs import read_examples
    from nextedit.pipeline import ExampleReader, ExampleWriter

    progress = progress or NoProgress()
    bundles = find_bundles(cfg.bundles_dir)
    for slug in [*(cfg.repos or []), *cfg.valid]:
        if slug not in bundles:
            raise GitError(f"{cfg.bundles_dir}: no bundle for {slug} (have {', '.join(bundles)})")
    slugs = [s for s in bundles if cfg.repos is None or s in cfg.repos]
    out = cfg.directory()
    out.mkdir(parents=True, exist_ok=True)
    repos_dir = out / "repos"
    timings: dict[str, float] = {}

    def label(stage: str, what: str = "") -> str:
        return f"{STAGES.index(stage) + 1}/{len(STAGES)} {stage}" + (f" {what}" if what else "")

    def run(stage: str, what: str, pipeline: list[Stage]) -> None:
        t0 = time.perf_counter()
        run_pipeline(pipeline, executor, restart_if_changed=True, progress=progress, label=label(stage, what))
        timings[stage] = round(timings.get(stage, 0.0) + time.perf_counter() - t0, 2)

    context_files: dict[str, Path] = {}
    for slug in slugs:
        t0 = time.perf_counter()
        clone = clone_bundle(bundles[slug], repos_dir / slug, slug)
        timings["clone"] = round(timings.get("clone", 0.0) + time.perf_counter() - t0, 2)
        stem = slug.replace("/", "--")
        ingest, context = out / f"ingest-{stem}.jsonl", out / f"context-{stem}.jsonl"
        source = RealCommitIngest(
            clone,
            slug,
            max_commits=cfg.max_commits,
            next_hunk_samples=cfg.next_hunk_samples,
            split_samples=cfg.split_samples,
            seed=cfg.seed,
        )
        run("ingest", slug, [source, ExampleWriter(ingest)])
        run(
            "context",
            slug,
            [ExampleReader([ingest]), ContextStage(repos_dir, cfg.context), ExampleWriter(context)],
        )
        context_files[slug] = context

    final: dict[str, list[Example]] = {}
    for role in ("train", "valid"):
        inputs = [p for s, p in context_files.items() if (s in cfg.valid) == (role == "valid")]
        for case in CASES:
            name = f"{role}-{case}"
            if not inputs:
                final[name] = []
                continue
            select = SelectCase(case, scorable_only=role == "valid")
            run("split", name, [ExampleReader(inputs), select, ExampleWriter(out / f"{name}.jsonl")])
            final[name] = list(read_examples([out / f"{name}.jsonl"]))
    progress.message(f"{label('split')}: " + ", ".join(f"{n} {len(v)}" for n, v in final.items()))
    counts = {n: len(v) for n, v in final.items()}
    breakdown = {
        n: {
            dim: dict(sorted(Counter(tag_value(ex, dim) for ex in v).items()))
            for dim in ("kind", "lang", "repo")
        }
        for n, v in final.items()
    }
    notes = [f"{k}: {v:.1f} s" for k, v in timings.items()]
    notes += [f"validation (held out): {', '.join(cfg.valid)}", f"config: {json.dumps(asdict(cfg))}"]
    md = write_report(dataset_stats(final), out, title="real-commits", notes=notes)
    (out / "build.json").write_text(
        json.dumps(
            {"config": asdict(cfg), "timings": timings, "files": counts, "breakdown": breakdown}, indent=1
        )
        + "\n"
    )
    progress.message(f"report {md}")
    return {"files": counts, "timings": timings}
