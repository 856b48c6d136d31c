"""File extension → language: the tree-sitter grammar name (tree-sitter-language-pack) and the
line-comment prefix.

Parsers and languages are created once per process and cached. A language whose grammar cannot be
loaded (missing from the installed language pack) behaves like an unknown language: callers get
``None`` and fall back to line-based logic.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath
from typing import Any


@dataclass(frozen=True)
class Language:
    """A language we know: ``name`` is our id (also the queries file name), ``grammar`` the
    tree-sitter-language-pack name (``None`` = no parser, comment prefix only)."""

    name: str
    grammar: str | None
    extensions: tuple[str, ...]
    comment_prefix: str
    filenames: tuple[str, ...] = ()


LANGUAGES: tuple[Language, ...] = (
    Language("python", "python", ("py", "pyi", "pyw"), "#"),
    Language("javascript", "javascript", ("js", "mjs", "cjs", "jsx"), "//"),
    Language("typescript", "typescript", ("ts", "mts", "cts"), "//"),
    Language("tsx", "tsx", ("tsx",), "//"),
    Language("rust", "rust", ("rs",), "//"),
    Language("go", "go", ("go",), "//"),
    Language("java", "java", ("java",), "//"),
    Language("c", "c", ("c", "h"), "//"),
    Language("cpp", "cpp", ("cc", "cpp", "cxx", "c++", "hh", "hpp", "hxx", "h++", "ipp", "inl"), "//"),
    Language("csharp", "csharp", ("cs",), "//"),
    Language("ruby", "ruby", ("rb", "rake", "gemspec"), "#", ("Rakefile", "Gemfile")),
    Language("php", "php", ("php",), "//"),
    Language("kotlin", "kotlin", ("kt", "kts"), "//"),
    Language("swift", "swift", ("swift",), "//"),
    Language("scala", "scala", ("scala", "sc"), "//"),
    Language("lua", "lua", ("lua",), "--"),
    Language("bash", "bash", ("sh", "bash", "zsh"), "#"),
    Language("haskell", "haskell", ("hs",), "--"),
    Language("elixir", "elixir", ("ex", "exs"), "#"),
    Language("zig", "zig", ("zig",), "//"),
    Language("css", "css", ("css", "scss"), "/*"),
    Language("html", "html", ("html", "htm"), "<!--"),
    Language("json", "json", ("json", "jsonc"), "//"),
    Language("yaml", "yaml", ("yaml", "yml"), "#"),
    Language("toml", "toml", ("toml",), "#"),
    Language("sql", "sql", ("sql",), "--"),
    Language("markdown", "markdown", ("md", "markdown"), "<!--"),
    Language("erlang", "erlang", ("erl", "hrl"), "%"),
    Language("clojure", "clojure", ("clj", "cljs", "cljc", "edn"), ";"),
    Language("elisp", "elisp", ("el",), ";"),
    Language("commonlisp", "commonlisp", ("lisp", "lsp"), ";"),
    Language("make", "make", ("mk",), "#", ("Makefile", "makefile", "GNUmakefile")),
    Language("dockerfile", "dockerfile", (), "#", ("Dockerfile",)),
)

_BY_EXT = {ext: lang for lang in LANGUAGES for ext in lang.extensions}
_BY_FILENAME = {fn: lang for lang in LANGUAGES for fn in lang.filenames}
_BY_NAME = {lang.name: lang for lang in LANGUAGES}


def language_for_path(path: str | None) -> Language | None:
    """The language of ``path`` by file name or extension (case-insensitive), or ``None``."""
    if not path:
        return None
    p = PurePosixPath(str(path).replace("\\", "/"))
    if p.name in _BY_FILENAME:
        return _BY_FILENAME[p.name]
    return _BY_EXT.get(p.suffix.lower().lstrip("."))


def language_by_name(name: str) -> Language | None:
    return _BY_NAME.get(name)


def comment_prefix(path: str | None, default: str = "//") -> str:
    """Line-comment prefix for ``path`` (``#`` for Python, ``//`` for Rust...)."""
    lang = language_for_path(path)
    return lang.comment_prefix if lang else default


_lock = threading.Lock()


@cache
def ts_language(grammar: str) -> Any | None:
    """The tree-sitter ``Language`` for a grammar name, or ``None`` if the pack lacks it."""
    try:
        from tree_sitter_language_pack import get_language

        return get_language(grammar)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001  (missing grammar, missing package, download needed)
        return None


_parsers = threading.local()


def ts_parser(grammar: str) -> Any | None:
    """A tree-sitter ``Parser`` for ``grammar`` (one per thread, cached), or ``None``."""
    cache: dict[str, Any] = getattr(_parsers, "cache", None) or {}
    _parsers.cache = cache
    if grammar not in cache:
        lang = ts_language(grammar)
        if lang is None:
            cache[grammar] = None
        else:
            from tree_sitter import Parser

            with _lock:
                cache[grammar] = Parser(lang)
    return cache[grammar]
