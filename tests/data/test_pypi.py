"""PyPI builder on two tiny sdists built by the tests, served by a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nextedit.data.corpus import iter_corpus
from nextedit.data.manifest import choose_releases, load_manifest
from nextedit.data.pypi import DownloadError, PypiCache, resolve_pypi_url, safe_extract
from nextedit.data.pypi_ingest import PypiIngest
from nextedit.io.markdown import cursor_excerpt
from nextedit.pipeline import ExampleWriter, NoProgress, run_pipeline

from .conftest import PKG_V1, PKG_V2


@pytest.fixture()
def tiny_manifest(tiny_manifest):
    """The conftest's two sdists served over HTTP on 127.0.0.1; the manifest's urls point there.
    ``requests`` lists the paths asked for, in order."""
    blobs, requests = tiny_manifest["blobs"], []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            requests.append(self.path)
            body = blobs.get(self.path.rsplit("/", 1)[-1])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    path = tiny_manifest["manifest"]
    path.write_text(path.read_text().replace("https://files.example", base))
    yield {**tiny_manifest, "requests": requests, "base": base}
    server.shutdown()
    server.server_close()
    thread.join()


def _cache(tiny, **kw) -> PypiCache:
    return PypiCache(tiny["cache"], **kw)


def test_fetch_verify_extract_and_cache(tiny_manifest):
    m = load_manifest(tiny_manifest["manifest"])
    requests = tiny_manifest["requests"]
    cache = _cache(tiny_manifest)
    old, new = m.releases()
    tree = cache.extract(old)
    assert (tree / "tinypkg" / "core.py").read_text() == PKG_V1["tinypkg/core.py"]
    assert cache.archive_path(old).exists()
    cache.extract(old)  # cached: no second request
    assert requests == ["/tinypkg-1.0.tar.gz"]
    assert resolve_pypi_url("pypi:tinypkg==1.0", cache_root=tiny_manifest["cache"]) == tree
    with pytest.raises(FileNotFoundError, match="tinypkg==1.1"):
        resolve_pypi_url("pypi:tinypkg==1.1", cache_root=tiny_manifest["cache"])
    assert cache.extract(new).name == "tinypkg-1.1"


def test_hash_mismatch_is_reported_and_skipped(tiny_manifest):
    data = json.loads(tiny_manifest["manifest"].read_text())
    data["packages"][0]["releases"][1]["sha256"] = "0" * 64
    tiny_manifest["manifest"].write_text(json.dumps(data))
    m = load_manifest(tiny_manifest["manifest"])
    cache = _cache(tiny_manifest)
    with pytest.raises(DownloadError, match=r"tinypkg-1.1.tar.gz: sha256 mismatch"):
        cache.fetch(m.releases()[1])
    assert not cache.archive_path(m.releases()[1]).exists()
    assert not list(cache.downloads.glob("*.part"))
    errors: list[str] = []
    stage = PypiIngest(m, cache=_cache(tiny_manifest), on_error=errors.append)
    assert list(stage.run()) == []
    assert stage.stats.dropped["download failed"] == 1
    assert any("sha256 mismatch" in e for e in errors)


def test_corrupt_cached_archive_is_refetched(tiny_manifest):
    m = load_manifest(tiny_manifest["manifest"])
    cache = _cache(tiny_manifest)
    rel = m.releases()[0]
    cache.downloads.mkdir(parents=True)
    cache.archive_path(rel).write_bytes(b"garbage")
    assert hashlib.sha256(cache.fetch(rel).read_bytes()).hexdigest() == rel.sha256


def test_unsafe_archive_member_is_not_written_outside(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("../evil.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    arc = tmp_path / "evil-1.0.tar.gz"
    arc.write_bytes(buf.getvalue())
    (tmp_path / "out").mkdir()
    with pytest.raises(tarfile.TarError):
        safe_extract(arc, tmp_path / "out")
    assert not (tmp_path / "evil.py").exists()


def test_release_pair_examples(tiny_manifest):
    m = load_manifest(tiny_manifest["manifest"])
    stage = PypiIngest(m, cache=_cache(tiny_manifest), seed=0)
    exs = list(stage.run())
    assert exs, stage.stats
    for ex in exs:
        assert ex.repository_url == "pypi:tinypkg==1.0"
        assert ex.revision == "1.0"
        assert ex.name.startswith("tinypkg-1.0-1.1")
        assert "source:pypi" in ex.tags
        assert "README.md" not in ex.edit_history + ex.expected_patches[0]  # non-code dropped
    # history + expected patch lead from the old tree toward the new one
    from nextedit.text import patch as P

    old_root = stage.cache.tree_path(m.releases()[0])
    for ex in exs:
        files = {p: (old_root / p).read_text() if (old_root / p).exists() else "" for p in PKG_V2}
        for blob in (ex.uncommitted_diff, ex.edit_history, ex.expected_patches[0]):
            for path in P.patch_files(blob) if blob else []:
                files[path] = P.apply_patch(files[path], blob, path)
        excerpt, _ = cursor_excerpt(ex.cursor_position, ex.cursor_path)
        assert excerpt.rstrip("\n") in files[ex.cursor_path] or not excerpt.strip()
    # the dependency order: core.py defines `sub` used by __init__.py and the test → core first
    first = min(exs, key=lambda e: len(e.edit_history))
    assert "tinypkg/core.py" in (first.edit_history or first.expected_patches[0])


def test_exact_example_for_fixed_seed(tiny_manifest):
    from nextedit.data.split_commit import SplitConfig

    m = load_manifest(tiny_manifest["manifest"])
    stage = PypiIngest(m, cache=_cache(tiny_manifest), seed=0, cfg=SplitConfig(split=1))
    ex = next(iter(stage.run()))
    assert ex.name == "tinypkg-1.0-1.1"
    assert ex.cursor_path == "tinypkg/core.py"
    assert ex.edit_history == (
        "--- a/tinypkg/core.py\n+++ b/tinypkg/core.py\n@@ -1,2 +1,3 @@\n def add(a, b):\n     return a + b\n+\n"
    )
    assert ex.expected_patches[0].startswith(
        "--- a/tinypkg/core.py\n+++ b/tinypkg/core.py\n@@ -1,3 +1,6 @@\n def add(a, b):\n     return a + b\n \n+\n"
        "+def sub(a, b):\n+    return a - b\n"
    )
    assert "--- a/tinypkg/__init__.py" in ex.expected_patches[0]


def test_resume_and_determinism(tiny_manifest, tmp_path):
    m = load_manifest(tiny_manifest["manifest"])
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    run_pipeline([PypiIngest(m, cache=_cache(tiny_manifest), seed=4), ExampleWriter(a)])
    run_pipeline([PypiIngest(m, cache=_cache(tiny_manifest), seed=4), ExampleWriter(b)])
    assert a.read_bytes() == b.read_bytes() and a.read_bytes()
    # interrupted before its shard was marked done: the partial output is discarded and redone
    full = a.read_text()
    a.unlink()
    Path(str(a) + ".run.jsonl").unlink()
    with pytest.raises(KeyboardInterrupt):
        run_pipeline([PypiIngest(m, cache=_cache(tiny_manifest), seed=4), ExampleWriter(a)], progress=_Interrupt())
    a.write_text(full[: len(full) // 2])
    run_pipeline([PypiIngest(m, cache=_cache(tiny_manifest), seed=4), ExampleWriter(a)])
    assert a.read_text() == full


class _Interrupt(NoProgress):
    """Ctrl-C as the run starts, before any shard is done."""

    def start(self, label: str, total: int | None) -> None:
        raise KeyboardInterrupt


def test_corpus_is_newest_release_py_files(tiny_manifest):
    m = load_manifest(tiny_manifest["manifest"])
    recs = list(iter_corpus(m, _cache(tiny_manifest)))
    assert [r["path"] for r in recs] == [
        "tinypkg-1.1/tests/test_core.py",
        "tinypkg-1.1/tinypkg/__init__.py",
        "tinypkg-1.1/tinypkg/core.py",
    ]
    assert recs[2]["text"] == PKG_V2["tinypkg/core.py"]


def test_choose_releases_pure_python_only():
    def f(name, size=10):
        return {"filename": name, "url": "u/" + name, "hashes": {"sha256": "ab"}, "size": size}

    index = {"files": [f(f"p-1.{i}.tar.gz") for i in range(7)] + [f("p-2.0rc1.tar.gz")]}
    rels = choose_releases("p", index, count=5)
    assert [r.version for r in rels] == ["1.2", "1.3", "1.4", "1.5", "1.6"]
    index["files"].append(f("p-1.5-cp311-cp311-manylinux_2_17_x86_64.whl"))
    assert "platform wheels" in choose_releases("p", index, count=5)


def test_default_manifest_shape():
    m = load_manifest()
    assert len(m.packages) >= 30
    for p in m.packages:
        assert len(p.releases) == 5
        assert all(len(r.sha256) == 64 and r.filename and r.url.startswith("https://") for r in p.releases)
    assert sum(r.size for r in m.releases()) < 150e6


# ------------------------------------------------------------------ CLI: say what is downloaded; --offline


def _cli(*args: str):
    from typer.testing import CliRunner

    from nextedit.cli import app

    return CliRunner().invoke(app, list(args))


def test_dataset_fetch_says_what_it_downloads_then_offline_uses_the_cache(tiny_manifest):
    m = load_manifest(tiny_manifest["manifest"])
    size = sum(r.size for r in m.releases())
    cache, manifest = str(tiny_manifest["cache"]), str(tiny_manifest["manifest"])
    res = _cli("dataset", "fetch", "--manifest", manifest, "--cache", cache)
    assert res.exit_code == 0, res.output
    host = tiny_manifest["base"].removeprefix("http://")
    assert f"downloading 2 of 2 sdists ({size / 1e6:.1f} MB) from {host} into {cache}" in res.output
    assert res.output.index("downloading") < res.output.index("2/2 release trees")
    assert len(tiny_manifest["requests"]) == 2
    res = _cli("dataset", "fetch", "--manifest", manifest, "--cache", cache, "--offline")
    assert res.exit_code == 0, res.output
    assert "all 2 sdists are in the cache" in res.output and len(tiny_manifest["requests"]) == 2


def test_offline_names_what_is_missing_and_downloads_nothing(tiny_manifest, tmp_path):
    manifest, out = str(tiny_manifest["manifest"]), tmp_path / "pypi.jsonl"
    cache = _cache(tiny_manifest)
    cache.fetch(load_manifest(manifest).releases()[0])  # 1.0 cached, 1.1 not
    n = len(tiny_manifest["requests"])
    res = _cli("ingest", "pypi", "-o", str(out), "--manifest", manifest, "--cache", str(cache.root), "--offline")
    assert res.exit_code == 2
    (line,) = [ln for ln in res.output.splitlines() if ln.strip()]
    assert line.startswith("error: --offline: 1 of 2 sdists are not in the cache") and "tinypkg-1.1.tar.gz" in line
    assert "tinypkg-1.0.tar.gz" not in line
    assert len(tiny_manifest["requests"]) == n and not out.exists()
    res = _cli("bench", "fetch", "--manifest", manifest, "--offline")
    assert res.exit_code == 2 and "--offline needs --cache" in res.output


def test_ingest_pypi_and_bench_fetch_announce_downloads(tiny_manifest, tmp_path):
    manifest, out = str(tiny_manifest["manifest"]), tmp_path / "pypi.jsonl"
    res = _cli("ingest", "pypi", "-o", str(out), "--manifest", manifest, "--cache", str(tiny_manifest["cache"]))
    assert res.exit_code == 0, res.output
    assert "downloading 2 of 2 sdists" in res.output and out.read_text().strip()
    res = _cli("bench", "fetch", "--manifest", manifest)  # a fresh temporary cache: both again
    assert res.exit_code == 0, res.output
    assert "downloading 2 of 2 sdists" in res.output and "2 sdists" in res.output.splitlines()[-1]
    assert len(tiny_manifest["requests"]) == 4
