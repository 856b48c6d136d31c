"""Fixtures: a small git repository with real commits, and two tiny sdists with a manifest."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

STOCK_V1 = """import os


def restock(item, qty):
    if qty <= 0:
        raise ValueError("qty must be positive")
    item.count += qty
    return item
"""
STOCK_V2 = """import os


def restock(item, quantity):
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    item.count += quantity
    return item
"""
USE_V2 = """from stock import restock


def refill(item):
    return restock(item, 10)
"""


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    r = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env=env, check=True)
    return r.stdout.decode()


def commit_files(repo: Path, files: dict[str, str | bytes | None], msg: str) -> str:
    for path, content in files.items():
        p = repo / path
        if content is None:
            p.unlink()
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", msg)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture()
def small_repo(tmp_path: Path) -> dict[str, str | Path]:
    """Commits (oldest first): root, rename-param (+ new user file), docs-only, rename, undecodable."""
    repo = tmp_path / "inventory"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shas = {"root": commit_files(repo, {"stock.py": STOCK_V1, "README.md": "# inv\n"}, "root")}
    shas["rename_param"] = commit_files(repo, {"stock.py": STOCK_V2, "use.py": USE_V2}, "rename qty")
    shas["docs"] = commit_files(repo, {"README.md": "# inventory\n\nDocs.\n", "poetry.lock": "x\n"}, "docs")
    shas["rename"] = commit_files(repo, {"use.py": None, "refill.py": USE_V2}, "move")
    shas["latin1"] = commit_files(
        repo,
        {
            "latin.py": "x = 'caf\xe9'\n".encode("latin-1"),
            "use.py": USE_V2 + "\n\ndef two(item):\n    return refill(item)\n",
        },
        "latin1 + code",
    )
    return {"path": repo, **shas}


# ------------------------------------------------------------------------------------- sdists

PKG_V1 = {
    "tinypkg/__init__.py": 'from tinypkg.core import add\n\n__all__ = ["add"]\n',
    "tinypkg/core.py": "def add(a, b):\n    return a + b\n",
    "README.md": "tiny\n",
}
PKG_V2 = {
    "tinypkg/__init__.py": 'from tinypkg.core import add, sub\n\n__all__ = ["add", "sub"]\n',
    "tinypkg/core.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
    "README.md": "tiny package\n",
    "tests/test_core.py": "from tinypkg import sub\n\n\ndef test_sub():\n    assert sub(3, 1) == 2\n",
}


def make_sdist(path: Path, top: str, files: dict[str, str]) -> bytes:
    """A deterministic .tar.gz with everything under ``top/``."""
    buf = io.BytesIO()
    import gzip

    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name in sorted(files):
            data = files[name].encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


@pytest.fixture()
def tiny_manifest(tmp_path: Path) -> dict[str, Path | dict[str, bytes]]:
    """Two sdists of ``tinypkg`` (1.0 → 1.1) served from a dict, and a manifest naming them."""
    src = tmp_path / "sdists"
    src.mkdir()
    blobs = {
        "tinypkg-1.0.tar.gz": make_sdist(src / "tinypkg-1.0.tar.gz", "tinypkg-1.0", PKG_V1),
        "tinypkg-1.1.tar.gz": make_sdist(src / "tinypkg-1.1.tar.gz", "tinypkg-1.1", PKG_V2),
    }
    manifest = {
        "format": 1,
        "releases_per_package": 2,
        "packages": [
            {
                "name": "tinypkg",
                "releases": [
                    {
                        "version": v,
                        "filename": f"tinypkg-{v}.tar.gz",
                        "url": f"https://files.example/tinypkg-{v}.tar.gz",
                        "sha256": hashlib.sha256(blobs[f"tinypkg-{v}.tar.gz"]).hexdigest(),
                        "size": len(blobs[f"tinypkg-{v}.tar.gz"]),
                    }
                    for v in ("1.0", "1.1")
                ],
            }
        ],
    }
    mpath = tmp_path / "manifest.json"
    mpath.write_text(json.dumps(manifest))
    return {"manifest": mpath, "blobs": blobs, "cache": tmp_path / "cache"}


def mock_client(blobs: dict[str, bytes], requests: list[str] | None = None):  # noqa: ANN201
    """An httpx client answering ``https://files.example/<filename>`` from ``blobs`` (no network)."""
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        if requests is not None:
            requests.append(str(request.url))
        name = request.url.path.rsplit("/", 1)[-1]
        if name in blobs:
            return httpx.Response(200, content=blobs[name])
        return httpx.Response(404)

    return httpx.Client(transport=httpx.MockTransport(handler))
