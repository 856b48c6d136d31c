"""`dataset build` end to end on the two tiny sdists (cache pre-filled: no network)."""

from __future__ import annotations

import hashlib
import json

from nextedit.data.build import BuildConfig, build_dataset


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
        result = build_dataset(cfg, progress=False, log=lambda _s: None)
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
