"""Tree-sitter parsing and the syntax ranges around a cursor (§1.3 ``syntax_ranges``).

All offsets are UTF-8 **byte** offsets. Unknown languages (or a grammar that fails to load) give
no tree and no syntax ranges; the line-based fallback lives in the excerpt range selection.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

from nextedit.context.languages import Language, language_for_path, ts_parser

_TREE_CACHE_SIZE = 64
_tree_cache: OrderedDict[tuple[str, bytes], Any] = OrderedDict()
_tree_lock = threading.Lock()


def _as_bytes(text: str | bytes) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else text


def parse(text: str | bytes, language: Language | str | None, *, cache: bool = True) -> Any | None:
    """Parse ``text`` and return the tree-sitter ``Tree`` (cached by content unless ``cache`` is
    false), or ``None``. ``language`` is a :class:`Language`, a file path (the extension decides)
    or ``None``.
    """
    if isinstance(language, str):
        language = language_for_path(language)
    if language is None or language.grammar is None:
        return None
    data = _as_bytes(text)
    if not cache:
        parser = ts_parser(language.grammar)
        return parser.parse(data) if parser is not None else None
    key = (language.grammar, hashlib.blake2b(data, digest_size=16).digest())
    with _tree_lock:
        tree = _tree_cache.get(key)
        if tree is not None:
            _tree_cache.move_to_end(key)
            return tree
    parser = ts_parser(language.grammar)
    if parser is None:
        return None
    tree = parser.parse(data)
    with _tree_lock:
        _tree_cache[key] = tree
        while len(_tree_cache) > _TREE_CACHE_SIZE:
            _tree_cache.popitem(last=False)
    return tree


def ancestors_at(tree: Any, offset: int) -> list[Any]:
    """Nodes containing byte ``offset``, innermost first (the smallest node spanning it, then
    its parents up to the root)."""
    node = tree.root_node.descendant_for_byte_range(offset, offset)
    out = []
    while node is not None:
        out.append(node)
        node = node.parent
    return out


def syntax_ranges(
    text: str | bytes,
    cursor_offset: int,
    language: Language | str | None = None,
    *,
    within: tuple[int, int] | None = None,
) -> list[tuple[int, int]]:
    """Byte ranges ``(start, end)`` of all syntax nodes containing ``cursor_offset``,
    innermost → outermost, consecutive duplicates removed.

    ``language``: a :class:`Language` or a path whose extension names it; unknown → ``[]``.
    ``within``: only ranges inside this byte window ``(start, end)``; the walk stops at the first
    ancestor that leaves it (an excerpt: outer nodes it cuts are not syntax boundaries of it).
    Ranges are absolute (not rebased to ``within``).
    """
    data = _as_bytes(text)
    tree = parse(data, language)
    if tree is None:
        return []
    cursor_offset = max(0, min(cursor_offset, len(data)))
    out: list[tuple[int, int]] = []
    for node in ancestors_at(tree, cursor_offset):
        rng = (node.start_byte, node.end_byte)
        if within is not None and (rng[0] < within[0] or rng[1] > within[1]):
            break
        if not out or out[-1] != rng:
            out.append(rng)
    return out
