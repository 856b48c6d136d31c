"""Which files and commits the data builders keep (zeta.md §3.10 step 2, §3.11).

* *service files* (lock files, package manifests, CI configs, minified/bundled/generated code,
  build/vendor directories) are never the "next edit" and are dropped from commits;
* *non-code files* (docs, data, images, fonts) are dropped too; a commit left with no code
  change is "docs-only" and skipped;
* a commit is skipped when it is too small or too large (changed lines after dropping files),
  touches a submodule (gitlink, mode 160000) or renames a file.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

LOCK_FILES = frozenset({
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "Cargo.lock", "poetry.lock", "Pipfile.lock",
    "uv.lock", "pdm.lock", "composer.lock", "Gemfile.lock", "go.sum", "flake.lock", "mix.lock",
    "package.json", "npm-shrinkwrap.json", "bun.lockb",
})  # fmt: skip
CI_FILES = frozenset({
    ".travis.yml", ".gitlab-ci.yml", "azure-pipelines.yml", "appveyor.yml", ".appveyor.yml",
    "Jenkinsfile", ".cirrus.yml", "bitbucket-pipelines.yml", ".pre-commit-config.yaml", "codecov.yml",
    ".readthedocs.yml", ".readthedocs.yaml",
})  # fmt: skip
SERVICE_DIRS = frozenset({
    "dist", "build", "coverage", "node_modules", "vendor", "_vendor", "vendored", "third_party",
    "__pycache__", ".github", ".circleci", ".git",
})  # fmt: skip
_GENERATED = re.compile(
    r"(\.min\.(js|css)$|\.bundle\.js$|\.generated\.|\.pb\.go$|_pb2(_grpc)?\.pyi?$|\.pb\.(h|cc)$|"
    r"\.egg-info/|(^|/)PKG-INFO$|\.map$|(^|/)_version\.py$)"
)

CODE_EXTENSIONS = frozenset({
    "py", "pyi", "pyx", "pxd", "js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx", "rs", "go", "java",
    "c", "h", "cc", "cpp", "cxx", "hh", "hpp", "hxx", "cs", "rb", "php", "kt", "kts", "swift", "scala",
    "lua", "sh", "bash", "zsh", "hs", "ex", "exs", "zig", "css", "scss", "html", "htm", "vue", "svelte",
    "sql", "erl", "hrl", "clj", "cljs", "el", "lisp", "ml", "mli", "fs", "dart", "jl", "r", "pl", "pm",
    "nim", "v", "sv", "vhd", "proto", "graphql", "m", "mm",
})  # fmt: skip
CODE_FILENAMES = frozenset({"Makefile", "Dockerfile", "Rakefile", "CMakeLists.txt"})


def is_service_file(path: str) -> bool:
    """Lock files, package manifests, CI configs, generated/minified code, build/vendor directories."""
    p = PurePosixPath(path)
    if p.name in LOCK_FILES or p.name in CI_FILES:
        return True
    if any(part in SERVICE_DIRS for part in p.parts[:-1]):
        return True
    return bool(_GENERATED.search(path))


def is_code_file(path: str) -> bool:
    p = PurePosixPath(path)
    if p.name in CODE_FILENAMES:
        return True
    return p.suffix[1:].lower() in CODE_EXTENSIONS if p.suffix else False


def keep_file(path: str) -> bool:
    """A file whose changes can become training edits: code, and not a service file."""
    return is_code_file(path) and not is_service_file(path)


def is_test_file(path: str) -> bool:
    p = PurePosixPath(path)
    return (
        any(part in ("test", "tests", "testing") for part in p.parts[:-1])
        or p.name.startswith("test_")
        or (p.stem.endswith(("_test", "_spec", ".test", ".spec")))
    )


# Strings that mean something to our parsers and prompt formats; files containing them are dropped.
MARKER_STRINGS = ("[CURSOR_POSITION]", "<|user_cursor|>", "<|editable_region", "<|fim_", "<|file_sep|>")


def has_marker(text: str) -> bool:
    return any(m in text for m in MARKER_STRINGS)
