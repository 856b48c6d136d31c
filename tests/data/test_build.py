"""`dataset build` end to end on the two tiny sdists (cache pre-filled: no network); resumed after an interruption."""

from __future__ import annotations

import hashlib
import json

import pytest

from nextedit.data.build import BuildConfig, build_dataset
from tests.pipeline.helpers import InterruptAfter, Recorder


def _prefill(tiny) -> None:
    d = tiny["cache"] / "downloads"
    d.mkdir(parents=True, exist_ok=True)
    for name, blob in tiny["blobs"].items():
        (d / name).write_bytes(blob)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_build_twice_is_identical(tiny_manifest, tmp_path, small_repo):
    _prefill(tiny_manifest)
    digests = []
    for run in ("a", "b"):
        cfg = BuildConfig(
            name="t",
            manifest=str(tiny_manifest["manifest"]),
            repos=[str(small_repo["path"])],
            out_dir=str(tmp_path / run),
            cache=str(tiny_manifest["cache"]),
            context="none",
            splits=["train=50%", "valid=1", "test=rest"],
            stratify="repo-name",
        )
        result = build_dataset(cfg)
        out = tmp_path / run
        for f in ("train.jsonl", "valid.jsonl", "test.jsonl", "stats.md", "stats.json"):
            assert (out / f).exists(), f
        assert (out / "stats.png").stat().st_size > 1000
        digests.append([_digest(out / f) for f in ("train.jsonl", "valid.jsonl", "test.jsonl")])
        total = result["stats"]["total"]["examples"]
        assert total > 0
        lines = [
            json.loads(x)
            for f in ("train", "valid", "test")
            for x in (out / f"{f}.jsonl").read_text().splitlines()
        ]
        assert len(lines) == total
        assert all(x["prompt"]["input"] and x["prompt"]["provider"] for x in lines)
        # the two sources (pypi package, git repository) never share a split
        where = {}
        for f in ("train", "valid", "test"):
            for x in (out / f"{f}.jsonl").read_text().splitlines():
                where.setdefault(json.loads(x)["repository_url"].split("==")[0], set()).add(f)
        assert all(len(v) == 1 for v in where.values())
    assert digests[0] == digests[1]


def _config(tiny, repo, out) -> BuildConfig:
    return BuildConfig(
        name="t",
        manifest=str(tiny["manifest"]),
        repos=[str(repo["path"])],
        out_dir=str(out),
        cache=str(tiny["cache"]),
        context="none",
        splits=["train=50%", "valid=1", "test=rest"],
    )


def test_interrupted_build_resumes_where_it_stopped(tiny_manifest, tmp_path, small_repo):
    _prefill(tiny_manifest)
    build_dataset(_config(tiny_manifest, small_repo, tmp_path / "whole"))
    part = tmp_path / "part"
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C once context's first shard is written
        build_dataset(_config(tiny_manifest, small_repo, part), progress=InterruptAfter(1, label="3/6 context"))
    assert (part / "dedup.jsonl").exists() and not (part / "train.jsonl").exists()
    listener = Recorder()
    build_dataset(_config(tiny_manifest, small_repo, part), progress=listener)
    files = ("dedup.jsonl", "context.jsonl", "train.jsonl", "valid.jsonl", "test.jsonl")
    for f in files:
        assert (part / f).read_bytes() == (tmp_path / "whole" / f).read_bytes(), f
    labels = [label for label, _total in listener.started]
    assert labels == [
        "1/6 ingest pypi",
        "1/6 ingest git inventory",
        "2/6 dedup",
        "3/6 context",
        "5/6 format-prompt train",
        "5/6 format-prompt valid",
        "5/6 format-prompt test",
    ]
    done_before = {label: r.items for label, r in zip(labels, listener.results, strict=True)}
    assert done_before["1/6 ingest pypi"] == 0 and done_before["2/6 dedup"] == 0  # kept, not redone
    assert listener.results[0].resumed > 0
    assert [m.split(":")[0] for m in listener.messages if m[:1].isdigit()] == ["4/6 split", "6/6 stats"]
