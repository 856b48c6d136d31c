"""The PyPI release manifest: which sdists the data builders download, pinned by sha256.

A manifest is a committed JSON file::

    {"format": 1, "releases_per_package": 5,
     "packages": [{"name": "attrs", "releases": [
         {"version": "23.1.0", "filename": "attrs-23.1.0.tar.gz", "url": "https://files...",
          "sha256": "…", "size": 123456}, …]}, …]}

Releases are listed oldest → newest and are *consecutive* final releases (pre-releases, yanked
releases and releases without an sdist are not counted). Consecutive pairs ``(r[i], r[i+1])`` are
the "commits" that :mod:`nextedit.data.pypi_ingest` turns into examples.

:func:`build_manifest` generates one from a package list by querying PyPI's JSON simple index
(PEP 691); it only reads metadata, it never downloads or runs package code. A package qualifies
only if every wheel of each chosen release is pure Python (``*-none-any.whl``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

SIMPLE_INDEX = "https://pypi.org/simple"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
DEFAULT_MANIFEST = Path(__file__).parent / "manifests" / "pypi-default.json"

# Popular pure-Python projects with small-to-medium sdists (the default manifest's candidates).
DEFAULT_PACKAGES = [
    "attrs", "click", "six", "idna", "packaging", "pluggy", "itsdangerous", "toolz", "tomli",
    "humanize", "python-dateutil", "jmespath", "tabulate", "more-itertools", "cachetools",
    "pyparsing", "decorator", "colorama", "platformdirs", "filelock", "typing-extensions", "zipp",
    "iniconfig", "sortedcontainers", "isort", "mccabe", "pycodestyle", "pyflakes", "parso",
    "sniffio", "h11", "anyio", "tenacity", "backoff", "jinja2", "markdown", "blinker",
    "pathspec", "tomlkit", "sqlparse", "boltons", "inflection", "structlog", "arrow",
    "httpcore", "wcwidth", "cattrs", "marshmallow",
]  # fmt: skip


@dataclass(frozen=True)
class Release:
    """One sdist of one release. ``size`` is in bytes."""

    name: str
    version: str
    filename: str
    url: str
    sha256: str
    size: int

    @property
    def key(self) -> str:
        """``name==version``: the id used in ``pypi:`` repository urls."""
        return f"{self.name}=={self.version}"


@dataclass
class PackageEntry:
    name: str
    releases: list[Release] = field(default_factory=list)

    def pairs(self) -> list[tuple[Release, Release]]:
        """Consecutive (old, new) release pairs, oldest first."""
        return list(zip(self.releases, self.releases[1:], strict=False))


@dataclass
class Manifest:
    packages: list[PackageEntry]
    releases_per_package: int = 5

    def releases(self) -> list[Release]:
        return [r for p in self.packages for r in p.releases]

    def pairs(self) -> list[tuple[Release, Release]]:
        return [pair for p in self.packages for pair in p.pairs()]

    def to_json(self) -> str:
        data = {
            "format": 1,
            "releases_per_package": self.releases_per_package,
            "packages": [
                {
                    "name": p.name,
                    "releases": [{k: v for k, v in asdict(r).items() if k != "name"} for r in p.releases],
                }
                for p in self.packages
            ],
        }
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def load_manifest(path: str | Path | None = None) -> Manifest:
    """Read a manifest file (default: the committed ``pypi-default.json``).

    Raises ``ValueError`` naming the file and the entry when a field is missing.
    """
    path = Path(path) if path else DEFAULT_MANIFEST
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: cannot read manifest: {e}") from e
    packages = []
    for i, p in enumerate(data.get("packages", [])):
        try:
            rels = [
                Release(
                    name=p["name"],
                    version=r["version"],
                    filename=r["filename"],
                    url=r["url"],
                    sha256=r["sha256"].lower(),
                    size=int(r.get("size", 0)),
                )
                for r in p["releases"]
            ]
        except (KeyError, TypeError) as e:
            raise ValueError(f"{path}: package #{i} ({p.get('name', '?')}): missing field {e}") from e
        packages.append(PackageEntry(p["name"], rels))
    return Manifest(packages, int(data.get("releases_per_package", 5)))


# ---------------------------------------------------------------------------------------- builder


def fetch_simple_json(name: str, client=None) -> dict:  # noqa: ANN001
    """GET ``/simple/<name>/`` as PEP 691 JSON (metadata only)."""
    import httpx

    own = client is None
    client = client or httpx.Client(timeout=60, follow_redirects=True)
    try:
        r = client.get(f"{SIMPLE_INDEX}/{name}/", headers={"Accept": SIMPLE_JSON})
        r.raise_for_status()
        return r.json()
    finally:
        if own:
            client.close()


def choose_releases(
    name: str, index: dict, count: int = 5, max_sdist_bytes: int = 3_000_000
) -> list[Release] | str:
    """Pick the newest ``count`` consecutive pure-Python final releases from a PEP 691 page.

    Returns the releases oldest → newest, or a string explaining why the package does not qualify.
    """
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import Version

    sdists: dict[Version, dict] = {}
    wheels: dict[Version, list[str]] = {}
    for f in index.get("files", []):
        fn = f["filename"]
        if f.get("yanked"):
            continue
        try:
            if fn.endswith(".whl"):
                _, ver, _, tags = parse_wheel_filename(fn)
                wheels.setdefault(ver, []).extend(str(t) for t in tags)
            elif fn.endswith((".tar.gz", ".zip")):
                _, ver = parse_sdist_filename(fn)
                if ver not in sdists or fn.endswith(".tar.gz"):
                    sdists[ver] = f
        except (InvalidSdistFilename, InvalidWheelFilename):
            continue
    versions = sorted(v for v in sdists if not v.is_prerelease and not v.is_devrelease)
    chosen = versions[-count:]
    if len(chosen) < count:
        return f"only {len(chosen)} final releases with an sdist"
    for v in chosen:
        tags = wheels.get(v, [])
        if any(not t.endswith("-none-any") for t in tags):
            return f"{v} has platform wheels (not pure Python)"
        if sdists[v].get("size", 0) > max_sdist_bytes:
            return f"{v} sdist is {sdists[v].get('size')} bytes > {max_sdist_bytes}"
    return [
        Release(
            name=name,
            version=str(v),
            filename=sdists[v]["filename"],
            url=sdists[v]["url"],
            sha256=sdists[v]["hashes"]["sha256"],
            size=int(sdists[v].get("size", 0)),
        )
        for v in chosen
    ]


def build_manifest(
    packages: Iterable[str] = DEFAULT_PACKAGES,
    count: int = 5,
    max_sdist_bytes: int = 3_000_000,
    log: Callable[[str], None] | None = None,
) -> Manifest:
    """Query PyPI for each package and keep those that qualify (see :func:`choose_releases`);
    ``log`` gets one line per package (kept or skipped, and why)."""
    log = log or (lambda _line: None)
    import httpx

    entries = []
    with httpx.Client(timeout=60, follow_redirects=True) as client:
        for name in packages:
            try:
                index = fetch_simple_json(name, client)
            except httpx.HTTPError as e:
                log(f"{name}: skipped: {e}")
                continue
            rels = choose_releases(name, index, count, max_sdist_bytes)
            if isinstance(rels, str):
                log(f"{name}: skipped: {rels}")
                continue
            entries.append(PackageEntry(name, rels))
            log(f"{name}: {', '.join(r.version for r in rels)}")
    return Manifest(entries, count)
