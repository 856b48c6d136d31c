"""Download, verify and extract the sdists of a manifest — never running any package code.

Layout under the cache root (default ``<data dir>/cache/pypi``)::

    downloads/<filename>              the sdist, present only once its sha256 matched
    trees/<name>-<version>/           the extracted source tree (sdist top directory stripped)

Downloads go to a ``.part`` file and are renamed after the hash check; extraction goes to a
temporary directory that is renamed into place at the end, so an interrupted run never leaves a
half-written file or tree that a later run would trust. Tar members are extracted with
``filter="data"`` (no links outside the tree, no devices, no absolute paths); zip members with
unsafe names are refused.

``pypi:<name>==<version>`` repository urls resolve to ``trees/<name>-<version>``
(:func:`resolve_pypi_url`), the *old* release of a pair being the base tree of an example.

Before a command downloads, :func:`plan_downloads` says what it would fetch (how many sdists, how
many MB, from where) and, for ``--offline``, what is missing from the cache. Nothing here prints:
progress reaches the caller through callbacks.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from nextedit.data.manifest import SIMPLE_INDEX, SIMPLE_JSON, Release
from nextedit.paths import data_dir

PYPI_PREFIX = "pypi:"


class DownloadError(RuntimeError):
    """A release could not be fetched or did not match its sha256 (the message names the file)."""


def default_cache() -> Path:
    return data_dir() / "cache" / "pypi"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class PypiCache:
    """Local, hash-verified store of sdists and their extracted trees."""

    def __init__(self, root: str | Path | None = None, client=None, offline: bool = False):  # noqa: ANN001
        self.root = Path(root) if root else default_cache()
        self.downloads = self.root / "downloads"
        self.trees = self.root / "trees"
        self._client = client
        self.offline = offline

    # ------------------------------------------------------------------ download
    def archive_path(self, rel: Release) -> Path:
        return self.downloads / rel.filename

    def has(self, rel: Release) -> bool:
        """True when ``rel`` needs no download: its tree is extracted, or its archive is cached
        with the manifest's size (the sha256 is checked when it is used)."""
        if self.tree_path(rel).is_dir():
            return True
        path = self.archive_path(rel)
        return path.is_file() and (not rel.size or path.stat().st_size == rel.size)

    def _http(self):  # noqa: ANN202
        if self._client is None:
            import httpx

            self._client = httpx.Client(timeout=120, follow_redirects=True)
        return self._client

    def _resolve_url(self, rel: Release) -> str:
        """The file url: from the manifest, else looked up in the PEP 691 JSON simple index."""
        if rel.url:
            return rel.url
        r = self._http().get(f"{SIMPLE_INDEX}/{rel.name}/", headers={"Accept": SIMPLE_JSON})
        r.raise_for_status()
        for f in r.json().get("files", []):
            if f["filename"] == rel.filename:
                return f["url"]
        raise DownloadError(f"{rel.filename}: not listed in {SIMPLE_INDEX}/{rel.name}/")

    def fetch(self, rel: Release) -> Path:
        """Return the verified archive, downloading it if needed. Raises :class:`DownloadError`."""
        path = self.archive_path(rel)
        if path.exists():
            if sha256_file(path) == rel.sha256:
                return path
            path.unlink()  # corrupt cache entry: fetch again
        if self.offline:
            raise DownloadError(f"{rel.filename}: not in cache {self.downloads} (offline)")
        self.downloads.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        h = hashlib.sha256()
        try:
            url = self._resolve_url(rel)
            with self._http().stream("GET", url) as r, open(part, "wb") as f:
                r.raise_for_status()
                for chunk in r.iter_bytes(1 << 16):
                    h.update(chunk)
                    f.write(chunk)
        except Exception as e:  # network errors of any kind: report with the file name
            part.unlink(missing_ok=True)
            raise DownloadError(f"{rel.filename}: download failed: {e}") from e
        if h.hexdigest() != rel.sha256:
            part.unlink(missing_ok=True)
            raise DownloadError(
                f"{rel.filename}: sha256 mismatch (got {h.hexdigest()}, manifest {rel.sha256})"
            )
        os.replace(part, path)
        return path

    # ------------------------------------------------------------------ extract
    def tree_path(self, rel: Release) -> Path:
        return self.trees / f"{rel.name}-{rel.version}"

    def extract(self, rel: Release) -> Path:
        """Return the extracted tree of ``rel`` (fetching and extracting it if needed)."""
        dest = self.tree_path(rel)
        if dest.is_dir():
            return dest
        archive = self.fetch(rel)
        self.trees.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=self.trees))
        try:
            safe_extract(archive, tmp)
            entries = list(tmp.iterdir())
            top = entries[0] if len(entries) == 1 and entries[0].is_dir() else tmp
            os.replace(top, dest)
        except (tarfile.TarError, zipfile.BadZipFile, OSError, ValueError) as e:
            raise DownloadError(f"{rel.filename}: cannot extract: {e}") from e
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return dest

    def extract_all(
        self,
        releases: Iterable[Release],
        on_error: Callable[[str], None] | None = None,
        on_progress: Callable[[Release], None] | None = None,
    ) -> dict[str, Path]:
        """Fetch + extract many releases; failures are reported via ``on_error`` and skipped;
        ``on_progress(release)`` after each release, done or failed."""
        out: dict[str, Path] = {}
        for rel in releases:
            try:
                out[rel.key] = self.extract(rel)
            except DownloadError as e:
                if on_error is None:
                    raise
                on_error(str(e))
            if on_progress is not None:
                on_progress(rel)
        return out

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


@dataclass(frozen=True)
class DownloadPlan:
    """What fetching ``total`` releases into ``cache`` would download (``missing``; sizes in bytes
    as the manifest states them)."""

    cache: Path
    total: int
    missing: tuple[Release, ...]

    @property
    def nbytes(self) -> int:
        return sum(r.size for r in self.missing)

    def describe(self) -> str:
        """One line, said before downloading: how many sdists, how many MB, from where, into where."""
        if not self.missing:
            return f"all {self.total} sdists are in the cache {self.cache}: nothing to download"
        hosts = sorted({urlsplit(r.url).netloc or urlsplit(SIMPLE_INDEX).netloc for r in self.missing})
        cached = self.total - len(self.missing)
        return (
            f"downloading {len(self.missing)} of {self.total} sdists ({self.nbytes / 1e6:.1f} MB) from "
            f"{', '.join(hosts)} into {self.cache}" + (f" ({cached} already cached)" if cached else "")
        )

    def offline_error(self) -> str:
        """One line naming what ``--offline`` lacks (empty when nothing is missing)."""
        if not self.missing:
            return ""
        names = [r.filename for r in self.missing[:8]]
        more = f", … {len(self.missing) - 8} more" if len(self.missing) > 8 else ""
        return (
            f"--offline: {len(self.missing)} of {self.total} sdists are not in the cache {self.cache}: "
            f"{', '.join(names)}{more} (run without --offline to download {self.nbytes / 1e6:.1f} MB)"
        )


def plan_downloads(releases: Iterable[Release], cache: PypiCache) -> DownloadPlan:
    """Which of ``releases`` ``cache`` lacks (no network, no hashing)."""
    releases = list(releases)
    return DownloadPlan(cache.root, len(releases), tuple(r for r in releases if not cache.has(r)))


def safe_extract(archive: Path, dest: Path) -> None:
    """Extract a .tar.gz / .tar.bz2 / .zip into ``dest`` without trusting member names."""
    name = archive.name
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            root = dest.resolve()
            for info in z.infolist():
                target = (dest / info.filename).resolve()
                if info.filename.startswith(("/", "\\")) or ".." in Path(info.filename).parts:
                    raise ValueError(f"unsafe zip member {info.filename!r}")
                if not target.is_relative_to(root):
                    raise ValueError(f"unsafe zip member {info.filename!r}")
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    continue  # symlink: skip
                z.extract(info, dest)
        return
    with tarfile.open(archive) as t:
        t.extractall(dest, filter="data")


# ---------------------------------------------------------------------------- pypi: urls


def pypi_url(name: str, version: str) -> str:
    return f"{PYPI_PREFIX}{name}=={version}"


def parse_pypi_url(url: str) -> tuple[str, str]:
    """``pypi:attrs==23.2.0`` → ``("attrs", "23.2.0")``; ``ValueError`` otherwise."""
    if not url.startswith(PYPI_PREFIX) or "==" not in url:
        raise ValueError(f"not a pypi: url: {url!r}")
    name, version = url[len(PYPI_PREFIX) :].split("==", 1)
    return name.strip(), version.strip()


def resolve_pypi_url(url: str, revision: str | None = None, cache_root: str | Path | None = None) -> Path:
    """Map ``pypi:name==version`` to its extracted tree in the cache (extracting from a cached
    archive if the tree is missing; no network). ``revision`` is accepted for the loader's
    resolver signature and must equal the version when given."""
    name, version = parse_pypi_url(url)
    cache = PypiCache(cache_root, offline=True)
    tree = cache.trees / f"{name}-{version}"
    if tree.is_dir():
        return tree
    for f in sorted(cache.downloads.glob(f"*{version}*")) if cache.downloads.is_dir() else []:
        if f.name.endswith((".tar.gz", ".zip", ".tar.bz2")) and not f.name.endswith(".part"):
            rel = Release(name, version, f.name, "", sha256_file(f), f.stat().st_size)
            return cache.extract(rel)
    raise FileNotFoundError(
        f"{url}: no extracted tree at {tree} (run `nextedit ingest pypi` or `dataset fetch`)"
    )


def timed_fetch(releases: list[Release], cache: PypiCache, on_error=None) -> tuple[float, float, int]:  # noqa: ANN001
    """Fetch all, then extract all: returns (fetch seconds, extract seconds, bytes downloaded)."""
    t0 = time.perf_counter()
    nbytes = 0
    ok = []
    for rel in releases:
        try:
            nbytes += cache.fetch(rel).stat().st_size
            ok.append(rel)
        except DownloadError as e:
            if on_error is None:
                raise
            on_error(str(e))
    t1 = time.perf_counter()
    for rel in ok:
        cache.extract(rel)
    return t1 - t0, time.perf_counter() - t1, nbytes


@dataclass(frozen=True)
class PypiResolver:
    """A ``(repository_url, revision) -> directory | None`` resolver for the project loader (a
    picklable value, so that stages holding it can run in other processes)."""

    cache_root: str | Path | None = None

    def __call__(self, url: str, revision: str) -> Path | None:
        try:
            return resolve_pypi_url(url, revision, self.cache_root)
        except (FileNotFoundError, ValueError, DownloadError):
            return None


def pypi_sources(cache_root: str | Path | None = None) -> dict[str, PypiResolver]:
    """The ``sources`` argument of :func:`nextedit.context.project.load_project` (and of the
    load-project / context stages) that resolves ``pypi:`` urls from the cache (offline)."""
    return {PYPI_PREFIX: PypiResolver(cache_root)}
