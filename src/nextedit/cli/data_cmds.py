"""Commands: data builders — `ingest git|pypi|pypi-manifest`, `dedup`, `split`, `dataset …`, `bench …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nextedit.cli import checks
from nextedit.cli.app import app, bench_app, dataset_app, ingest_app  # noqa: F401
from nextedit.cli.options import (
    ExecutorKind,
    ExecutorOpt,
    Failed,
    FailedHandling,
    Failfast,
    InPlace,
    Inputs,
    Limit,
    MaxParallelism,
    NameFilter,
    NoResume,
    Offset,
    Output,
    RunOptions,
    run_and_report,
    run_stage_command,
)
from nextedit.prompts.registry import DEFAULT_FORMAT

ManifestOpt = Annotated[
    Path | None,
    typer.Option("--manifest", "-m", help="Manifest JSON (default: the committed pypi-default.json)."),
]
CacheOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache", help="Download/extract cache (default: $NEXTEDIT_DATA_DIR/cache/pypi, else ./data/cache/pypi)."
    ),
]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="Use the cache only; fail naming what is missing from it.")
]


def _err(msg: str) -> None:
    typer.secho(f"skipped: {msg}", fg="yellow", err=True)


def _announce_downloads(releases, cache, offline: bool) -> None:  # noqa: ANN001
    """Say what will be downloaded (count, MB, host, cache) before any download; with ``offline``,
    exit 2 with one line naming what the cache lacks."""
    from nextedit.data.pypi import plan_downloads

    plan = plan_downloads(releases, cache)
    if offline and plan.missing:
        typer.secho(f"error: {plan.offline_error()}", fg="red", err=True)
        raise typer.Exit(2)
    typer.echo(plan.describe(), err=True)


def _load_manifest(manifest: Path | None):  # noqa: ANN202
    from nextedit.data.manifest import load_manifest

    try:
        return load_manifest(manifest)
    except ValueError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from e


@ingest_app.command("pypi-manifest")
def pypi_manifest(
    output: Annotated[Path, typer.Option("--output", "-o", help="Manifest file to write.")],
    packages: Annotated[
        list[str] | None, typer.Argument(help="Package names (default: the built-in list).")
    ] = None,
    releases: Annotated[int, typer.Option(help="Consecutive releases per package.")] = 5,
    max_sdist_mb: Annotated[float, typer.Option(help="Skip packages whose sdist is larger.")] = 3.0,
) -> None:
    """Generate a manifest from PyPI's JSON simple index (metadata only; nothing is downloaded)."""
    from nextedit.data.manifest import DEFAULT_PACKAGES, build_manifest

    m = build_manifest(
        packages or DEFAULT_PACKAGES, releases, int(max_sdist_mb * 1e6), log=lambda s: typer.echo(s, err=True)
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(m.to_json(), encoding="utf-8")
    size = sum(r.size for r in m.releases())
    typer.echo(f"{output}: {len(m.packages)} packages, {len(m.releases())} sdists, {size / 1e6:.1f} MB")


@dataset_app.command("fetch")
def dataset_fetch(manifest: ManifestOpt = None, cache: CacheOpt = None, offline: OfflineOpt = False) -> None:
    """Download (sha256-verified) and extract every sdist of the manifest into the cache."""
    from rich.console import Console
    from rich.progress import Progress

    from nextedit.data.pypi import PypiCache

    m = _load_manifest(manifest)
    c = PypiCache(cache, offline=offline)
    _announce_downloads(m.releases(), c, offline)
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("fetch+extract", total=len(m.releases()))
        trees = c.extract_all(m.releases(), on_error=_err, on_progress=lambda _rel: bar.advance(task))
    c.close()
    typer.echo(f"{len(trees)}/{len(m.releases())} release trees in {c.trees}")


@dataset_app.command("corpus")
def dataset_corpus(
    output: Annotated[Path, typer.Option("--output", "-o", help="Corpus JSONL.")] = Path("data/corpus.jsonl"),
    manifest: ManifestOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Raw-code pretraining corpus: one {"path","text"} line per .py file of each package's newest release."""
    from nextedit.data.corpus import write_corpus
    from nextedit.data.manifest import load_manifest
    from nextedit.data.pypi import PypiCache

    m = load_manifest(manifest)
    c = PypiCache(cache)
    n, size = write_corpus(m, c, output, on_error=_err)
    c.close()
    typer.echo(f"{output}: {n} files, {size / 1e6:.1f} MB of text")


@bench_app.command("fetch")
def bench_fetch(
    manifest: ManifestOpt = None,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="Cache dir (default: a fresh temporary one).")
    ] = None,
    offline: OfflineOpt = False,
) -> None:
    """Time fetching + extracting every sdist of the manifest (into a fresh cache by default)."""
    import tempfile

    from nextedit.data.pypi import PypiCache, timed_fetch

    m = _load_manifest(manifest)
    if offline and cache is None:
        typer.secho(
            "error: --offline needs --cache DIR (the default cache is a fresh, empty one)", fg="red", err=True
        )
        raise typer.Exit(2)
    with tempfile.TemporaryDirectory() as tmp:
        c = PypiCache(cache or tmp, offline=offline)
        _announce_downloads(m.releases(), c, offline)
        fetch_s, extract_s, nbytes = timed_fetch(m.releases(), c, on_error=_err)
        c.close()
    typer.echo(
        f"{len(m.releases())} sdists, {nbytes / 1e6:.1f} MB: fetch {fetch_s:.1f} s "
        f"({nbytes / 1e6 / max(fetch_s, 1e-9):.1f} MB/s), extract {extract_s:.1f} s, total {fetch_s + extract_s:.1f} s"
    )


def _split_value(split: str | None):  # noqa: ANN202
    """``0.3`` → fraction, ``12`` → index, a kind name → that kind, None → uniform."""
    if split is None:
        return None
    from nextedit.data.split_commit import KINDS

    if split in KINDS:
        return split
    if "." in split:
        return float(split)
    return int(split)


SplitOpt = Annotated[
    str | None,
    typer.Option(
        "--split", "-s", help="Split point: fraction (0.3), index (12) or kind (fim, same-file-near, ...)."
    ),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (same inputs + seed → same output).")]


@ingest_app.command("git")
def ingest_git(
    repo: Annotated[Path, typer.Option("--repo", help="Local git repository.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Examples JSONL (resumable).")],
    rev: Annotated[str, typer.Option(help="Revision to walk back from.")] = "HEAD",
    max_commits: Annotated[int | None, typer.Option(help="Walk at most N commits.")] = None,
    samples: Annotated[int, typer.Option("--samples", "-n", help="Examples per commit.")] = 3,
    seed: SeedOpt = 0,
    split: SplitOpt = None,
    min_lines: Annotated[int, typer.Option(help="Skip commits with fewer edited lines.")] = 2,
    max_lines: Annotated[int, typer.Option(help="Skip commits with more edited lines.")] = 1000,
    no_resume: NoResume = False,
    failed: Failed = FailedHandling.keep,
    executor: ExecutorOpt = ExecutorKind.local,
    max_parallelism: MaxParallelism = 1,
) -> None:
    """Synthetic examples from the non-merge commits of a local repository (split-commit, §3.10)."""
    from nextedit.data.git_ingest import CommitFilter, GitError, GitIngest
    from nextedit.data.split_commit import SplitConfig
    from nextedit.pipeline import ExampleWriter

    checks.writable_output(output, "--output")

    try:
        stage = GitIngest(
            repo,
            rev=rev,
            max_commits=max_commits,
            samples=samples,
            seed=seed,
            cfg=SplitConfig(split=_split_value(split)),
            flt=CommitFilter(min_lines, max_lines),
        )
    except GitError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from e
    opts = RunOptions(
        str(output), no_resume=no_resume, failed=failed, executor=executor, max_parallelism=max_parallelism
    )
    run_and_report([stage, ExampleWriter(output)], opts)


@ingest_app.command("pypi")
def ingest_pypi(
    output: Annotated[Path, typer.Option("--output", "-o", help="Examples JSONL (resumable).")],
    manifest: ManifestOpt = None,
    cache: CacheOpt = None,
    seed: SeedOpt = 0,
    split: SplitOpt = None,
    lines_per_sample: Annotated[int, typer.Option(help="One sample per this many edited lines.")] = 10,
    max_samples: Annotated[
        int, typer.Option(help="At most this many samples per chunk of a release pair.")
    ] = 16,
    package: Annotated[list[str] | None, typer.Option("--package", help="Only these packages.")] = None,
    no_resume: NoResume = False,
    failed: Failed = FailedHandling.keep,
    executor: ExecutorOpt = ExecutorKind.local,
    max_parallelism: MaxParallelism = 1,
    offline: OfflineOpt = False,
) -> None:
    """Synthetic examples from consecutive PyPI releases (each pair = one commit; old release = base tree)."""
    from nextedit.data.pypi import PypiCache
    from nextedit.data.pypi_ingest import PypiIngest
    from nextedit.data.split_commit import SplitConfig
    from nextedit.pipeline import ExampleWriter

    checks.writable_output(output, "--output")
    m = _load_manifest(manifest)
    pypi_cache = PypiCache(cache, offline=offline)
    _announce_downloads(
        [r for p in m.packages if not package or p.name in package for r in p.releases], pypi_cache, offline
    )
    try:
        stage = PypiIngest(
            m,
            cache=pypi_cache,
            seed=seed,
            lines_per_sample=lines_per_sample,
            max_samples=max_samples,
            cfg=SplitConfig(split=_split_value(split)),
            packages=package,
        )
    except ValueError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from e
    opts = RunOptions(
        str(output), no_resume=no_resume, failed=failed, executor=executor, max_parallelism=max_parallelism
    )
    run_and_report([stage, ExampleWriter(output)], opts)


@app.command("focus-target")
def focus_target_cmd(
    inputs: Inputs,
    format: Annotated[
        str, typer.Option("--format", "-f", help="Prompt format the target must fit.")
    ] = DEFAULT_FORMAT,
    max_changed_lines: Annotated[
        int,
        typer.Option("--max-changed-lines", help="Cut targets to their first N changed lines (0 = no cut)."),
    ] = 0,
    output: Output = None,
    in_place: InPlace = False,
    limit: Limit = None,
    offset: Offset = 0,
    name: NameFilter = None,
    no_resume: NoResume = False,
    failfast: Failfast = False,
    failed: Failed = FailedHandling.keep,
    executor: ExecutorOpt = ExecutorKind.local,
    max_parallelism: MaxParallelism = 1,
) -> None:
    """Trim each expected patch to the cursor-file hunks the format can encode, then to its first N
    changed lines (the original goes to `commit_remainder_patch`). Run `format-prompt` after it."""
    from nextedit.data.target import FocusTargetStage

    try:
        stage = FocusTargetStage(format, max_changed_lines)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--format") from e
    run_stage_command(
        stage,
        inputs,
        RunOptions(output, in_place, limit, offset, name, no_resume, failfast, failed, executor, max_parallelism),
    )


@app.command("dedup")
def dedup_cmd(
    inputs: Inputs,
    output: Output = None,
    max_duplicates: Annotated[
        int, typer.Option("--max-duplicates", "-k", help="Keep at most K per cluster.")
    ] = 4,
    threshold: Annotated[float, typer.Option(help="Jaccard similarity that joins two examples.")] = 0.5,
    no_resume: NoResume = False,
) -> None:
    """Remove exact duplicates and keep ≤ K near duplicates per MinHash-LSH cluster (§3.1)."""
    from nextedit.data.dedup import DedupStage

    run_stage_command(DedupStage(max_duplicates, threshold), inputs, RunOptions(output, no_resume=no_resume))


@app.command("split")
def split_cmd(
    input: Annotated[str, typer.Argument(help="Input JSONL.")],
    outputs: Annotated[
        list[str], typer.Argument(help="PATH=SIZE, SIZE = N% | N | rest (e.g. train.jsonl=80%).")
    ],
    seed: SeedOpt = 0,
    stratify: Annotated[
        str,
        typer.Option(help="Group by cursor-path, project, repo, repo-name or none (groups never straddle)."),
    ] = "cursor-path",
) -> None:
    """Split a dataset into files that never share a group (§3.9)."""
    from nextedit.data.split import SplitSpec, split_examples, write_parts
    from nextedit.io.inputs import read_examples

    try:
        specs = [SplitSpec.parse(o) for o in outputs]
        examples = list(read_examples([input]))
        parts = split_examples(examples, specs, seed=seed, stratify=stratify)
    except ValueError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from e
    write_parts(specs, parts)
    for spec, part in zip(specs, parts, strict=True):
        typer.echo(f"{spec.path}: {len(part)}", err=True)


@dataset_app.command("build")
def dataset_build(
    name: Annotated[str, typer.Option(help="Dataset name: output goes to data/<name>/.")] = "default",
    manifest: Annotated[
        str | None, typer.Option(help="PyPI manifest (default: committed one; '' = none).")
    ] = None,
    repo: Annotated[
        list[str] | None, typer.Option("--repo", help="Local git repositories to ingest too.")
    ] = None,
    seed: SeedOpt = 0,
    format: Annotated[str, typer.Option("--format", help="Prompt format for format-prompt.")] = DEFAULT_FORMAT,
    context: Annotated[str, typer.Option(help="Context type: lsp, bm25, all, none.")] = "lsp",
    max_duplicates: Annotated[int, typer.Option(help="Dedup: keep ≤ K per near-duplicate cluster.")] = 4,
    split: Annotated[
        list[str] | None,
        typer.Option(
            "--split",
            help="NAME=SIZE (repeat); default test=8% valid=4% train=rest (rest last: the fixed-size splits take whole groups first).",
        ),
    ] = None,
    stratify: Annotated[
        str, typer.Option(help="Split groups: repo-name, repo, cursor-path, project, none.")
    ] = "repo-name",
    max_target_lines: Annotated[
        int, typer.Option(help="Cut training targets to their first N changed lines (0 = whole remainder).")
    ] = 40,
    out_dir: Annotated[str | None, typer.Option(help="Output directory (default: data/<name>).")] = None,
    cache: CacheOpt = None,
    package: Annotated[
        list[str] | None, typer.Option("--package", help="Only these manifest packages.")
    ] = None,
    executor: ExecutorOpt = ExecutorKind.local,
    max_parallelism: MaxParallelism = 1,
) -> None:
    """ingest → dedup → context → split → format-prompt, plus a stats report (stats.md + stats.png).
    Rerun after an interruption to resume where it stopped; a stage whose inputs changed is redone."""
    from nextedit.cli.progress import RichProgress
    from nextedit.data.build import BuildConfig, build_dataset
    from nextedit.pipeline import make_executor

    cfg = BuildConfig(
        name=name,
        manifest=manifest,
        repos=repo or [],
        seed=seed,
        format=format,
        context=context,
        max_duplicates=max_duplicates,
        splits=split or ["test=8%", "valid=4%", "train=rest"],
        stratify=stratify,
        max_target_lines=max_target_lines,
        out_dir=out_dir,
        cache=str(cache) if cache else None,
        packages=package,
    )
    build_dataset(cfg, progress=RichProgress(), executor=make_executor(executor.value, max_parallelism))


@dataset_app.command("real-commits")
def dataset_real_commits(
    repos_dir: Annotated[
        Path, typer.Option("--repos-dir", help="Directory of OWNER--NAME.bundle git bundles.")
    ] = Path("../shared/repos"),
    out_dir: Annotated[
        str | None, typer.Option("--out", help="Output directory (default: data/real-commits).")
    ] = None,
    max_commits: Annotated[int, typer.Option(help="Newest N commits walked per repository.", min=1)] = 150,
    next_hunk_samples: Annotated[int, typer.Option(help="Next-hunk cases per commit.", min=0)] = 2,
    split_samples: Annotated[int, typer.Option(help="Split-commit cases per commit.", min=0)] = 1,
    valid: Annotated[
        list[str] | None,
        typer.Option("--valid", help="Held-out OWNER/NAME (repeat; default starlette, fd, ky)."),
    ] = None,
    repo: Annotated[list[str] | None, typer.Option("--repo", help="Only these OWNER/NAME (repeat).")] = None,
    context: Annotated[str, typer.Option(help="Context type: lsp, bm25, all, none.")] = "lsp",
    seed: SeedOpt = 0,
    executor: ExecutorOpt = ExecutorKind.local,
    max_parallelism: MaxParallelism = 1,
) -> None:
    """Next-hunk and split-commit examples from real commits, whole repositories held out as validation
    (train-*.jsonl / valid-*.jsonl, tagged kind:/lang:). Rerun to resume; changed inputs are redone."""
    from nextedit.cli.progress import RichProgress
    from nextedit.data.git_ingest import GitError
    from nextedit.data.real_commits import DEFAULT_VALID, RealCommitsConfig, build_real_commits
    from nextedit.pipeline import make_executor

    cfg = RealCommitsConfig(
        bundles_dir=str(repos_dir),
        out_dir=out_dir,
        max_commits=max_commits,
        next_hunk_samples=next_hunk_samples,
        split_samples=split_samples,
        seed=seed,
        valid=valid or list(DEFAULT_VALID),
        context=context,
        repos=repo,
    )
    try:
        build_real_commits(cfg, progress=RichProgress(), executor=make_executor(executor.value, max_parallelism))
    except GitError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from e


@dataset_app.command("check")
def dataset_check(
    inputs: Annotated[list[str], typer.Argument(help="Example files to check.")],
    every: Annotated[int, typer.Option(help="Check every N-th example.")] = 1,
    cache: CacheOpt = None,
) -> None:
    """Replay uncommitted diff + history on each example's project and apply its expected patch."""
    import itertools

    from nextedit.data.validate import check_examples
    from nextedit.io.inputs import read_examples

    rep = check_examples(itertools.islice(read_examples(inputs), 0, None, every), cache)
    for name, why in rep.failures[:20]:
        typer.echo(f"FAIL {name}: {why}", err=True)
    typer.echo(f"{rep.ok}/{rep.total} examples consistent ({100 * rep.rate:.2f}%)")


@dataset_app.command("release-repo")
def dataset_release_repo(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Directory of the git repository to create.")
    ],
    manifest: ManifestOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Build a local git repository whose commits are the manifest's successive release trees."""
    from nextedit.bench.split_commit import make_release_repo
    from nextedit.data.manifest import load_manifest
    from nextedit.data.pypi import PypiCache

    make_release_repo(load_manifest(manifest), PypiCache(cache), output, on_error=_err)
    typer.echo(str(output))


@bench_app.command("split-commit")
def bench_split_commit_cmd(
    repo: Annotated[
        Path | None, typer.Option("--repo", help="Git repository (default: build data/bench/release-repo).")
    ] = None,
    samples: Annotated[int, typer.Option("--samples", "-n", help="Examples per commit.")] = 8,
    max_commits: Annotated[int | None, typer.Option(help="At most N commits.")] = None,
    manifest: ManifestOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Print examples/s of split-commit on a large repository (target ≥ 1,000/s)."""
    from nextedit.bench.split_commit import bench_split_commit, make_release_repo
    from nextedit.data.manifest import load_manifest
    from nextedit.data.pypi import PypiCache, data_dir

    if repo is None:
        repo = data_dir() / "bench" / "release-repo"
        if not (repo / ".git").exists():
            typer.echo(f"building {repo} from the manifest's release trees …", err=True)
            make_release_repo(load_manifest(manifest), PypiCache(cache), repo, on_error=_err)
    r = bench_split_commit(repo, samples=samples, max_commits=max_commits)
    typer.echo(
        f"{r['examples']} examples from {r['commits']} commits (chunks): split-commit {r['split_seconds']:.2f} s "
        f"= {r['examples_per_second']:.0f} examples/s wall, {r['examples_per_cpu_second']:.0f} examples per CPU-second "
        f"(loading commits: {r['load_seconds']:.1f} s)"
    )
