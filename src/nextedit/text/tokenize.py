"""The §5.3 tokenizer shared by kept-rate, granular edits and commit splitting.

Token classes (zeta.md §5.3 step 3):
  * identifier runs (``str.isalnum()`` or ``_``), further split into ``_``-runs and camelCase words
    (a boundary before an uppercase letter that follows a lowercase letter or digit, and before the
    last uppercase letter of an uppercase run when a lowercase letter follows it);
  * newline runs (``\\n`` / ``\\r``);
  * other whitespace runs;
  * punctuation: the longest operator from ``OPERATORS`` at the position, else one character.

Tokens concatenate back to the input: ``"".join(tokenize(t)) == t``.
"""

from __future__ import annotations

OPERATORS: tuple[str, ...] = tuple(
    [
        ">>>=",
        "<<=",
        ">>=",
        "...",
        "..=",
        "??=",
        "**=",
        ">>>",
        "::",
        "->",
        "=>",
        "==",
        "!=",
        "<=",
        ">=",
        "&&",
        "||",
        "<<",
        ">>",
        "..",
        "+=",
        "-=",
        "*=",
        "/=",
        "%=",
        "&=",
        "|=",
        "^=",
        "++",
        "--",
        "**",
        "??",
        "?.",
        ":=",
        "<-",
        "//",
        "/*",
        "*/",
    ]
)
_OPS_BY_LEN: tuple[tuple[int, frozenset[str]], ...] = tuple(
    (n, frozenset(op for op in OPERATORS if len(op) == n))
    for n in sorted({len(o) for o in OPERATORS}, reverse=True)
)
_NEWLINE = "\n\r"


def _is_ident(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _is_space(ch: str) -> bool:
    return ch.isspace() and ch not in _NEWLINE


def _split_identifier(run: str) -> list[str]:
    """Split one identifier run into ``_``-runs and camelCase words."""
    out: list[str] = []
    i, n = 0, len(run)
    while i < n:
        j = i + 1
        if run[i] == "_":
            while j < n and run[j] == "_":
                j += 1
            out.append(run[i:j])
            i = j
            continue
        while j < n and run[j] != "_":
            c, prev = run[j], run[j - 1]
            if c.isupper() and (prev.islower() or prev.isdigit()):
                break
            if c.isupper() and prev.isupper() and j + 1 < n and run[j + 1].islower():
                break
            j += 1
        out.append(run[i:j])
        i = j
    return out


def _scan(text: str, split_identifiers: bool) -> list[str]:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        j = i + 1
        if _is_ident(ch):
            while j < n and _is_ident(text[j]):
                j += 1
            if split_identifiers:
                out.extend(_split_identifier(text[i:j]))
            else:
                out.append(text[i:j])
        elif ch in _NEWLINE:
            while j < n and text[j] in _NEWLINE:
                j += 1
            out.append(text[i:j])
        elif _is_space(ch):
            while j < n and _is_space(text[j]):
                j += 1
            out.append(text[i:j])
        else:
            for length, ops in _OPS_BY_LEN:
                if text[i : i + length] in ops:
                    j = i + length
                    break
            out.append(text[i:j])
        i = j
    return out


def tokenize(text: str) -> list[str]:
    """Split ``text`` into §5.3 tokens (identifiers split at ``_``-runs and camelCase)."""
    return _scan(text, split_identifiers=True)


def comparison_units(text: str) -> list[str]:
    """§5.3 step 4 units: maximal identifier runs (incl. ``_``) whole, every other token alone.

    Equal to re-joining consecutive identifier tokens of ``tokenize(text)``.
    """
    return _scan(text, split_identifiers=False)
