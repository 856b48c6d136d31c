"""Open-source detection by licence file (zeta.md §6.3), for the loaders' ``in_open_source_repo``.

A worktree is open source when a file at its root is named like a licence file (``LICENSE`` or
``LICENCE``, optionally with a licence suffix such as ``-MIT``, ``.ISC``, ``-APACHE-2.0``,
``-BSD-3-CLAUSE``, and optionally ``.txt``/``.md``; any case) and its text matches one of the
permissive licences Zed accepts: **0BSD, Apache-2.0 (full text or the reference notice), BSD
(1/2/3-clause), ISC, MIT, UPL-1.0, Zlib**. GPL texts deliberately do not count (Zed issue
#35070). Texts are compared after lower-casing and collapsing whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

LICENSE_FILE_RE = re.compile(
    r"^licen[cs]e"
    r"(?:[-._](?:apache(?:[-._]?2(?:\.0)?)?|0?bsd(?:[-._]?[0123])?(?:[-._]clause)?|isc|mit|upl(?:[-._]?1\.0)?|zlib))?"
    r"(?:\.(?:txt|md))?$",
    re.IGNORECASE,
)

#: licence → phrases that must all occur in the normalised text
PERMISSIVE: dict[str, tuple[str, ...]] = {
    "MIT": ("permission is hereby granted, free of charge, to any person obtaining a copy",),
    "Apache-2.0": ("apache license", "version 2.0"),
    "BSD": (
        "redistribution and use in source and binary forms, with or without modification, are permitted",
    ),
    "ISC/0BSD": (
        "permission to use, copy, modify, and",
        "distribute this software for any purpose with or without fee",
    ),
    "UPL-1.0": ("universal permissive license",),
    "Zlib": (
        "provided 'as-is', without any express or implied warranty",
        "permission is granted to anyone to use this software for any purpose",
    ),
}
_COPYLEFT = (
    "gnu general public license",
    "gnu affero general public license",
    "gnu lesser general public license",
)


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("\u2018", "'").replace("\u2019", "'").split())


def license_kind(text: str) -> str | None:
    """The permissive licence ``text`` is (a key of :data:`PERMISSIVE`), or None (GPL, unknown)."""
    t = _normal(text)
    if any(c in t for c in _COPYLEFT):
        return None
    for kind, phrases in PERMISSIVE.items():
        if all(p in t for p in phrases):
            return kind
    return None


def is_open_source(root_names: Iterable[str], read: Callable[[str], str | None]) -> bool:
    """Whether a worktree is open source: ``root_names`` are the names of the files at its root,
    ``read(name)`` their text (None when unreadable)."""
    for name in sorted(root_names):
        if LICENSE_FILE_RE.match(name):
            text = read(name)
            if text and license_kind(text) is not None:
                return True
    return False
