"""Output constraints applied while decoding (structured generation).

A constraint looks at the tokens generated so far and says which next tokens are allowed
(``allowed``: a set, or None for any) and which are banned. The engine applies it to every position
it decodes, including each position of a speculative draft, so constrained greedy decoding with
and without speculation give the same text.

:class:`MarkerSpanConstraint` makes ``zeta2_1`` outputs parseable by construction: the answer must
start with a marker tag ``<|marker_i|>`` (1 ≤ i ≤ markers in the prompt), later tags may not go
backwards (``j ≥ i``) nor name a marker the prompt does not have, and the answer cannot end (EOS)
before a second tag closes the span.

:class:`NoSpecialTokens` keeps a plain-code continuation (cursor-line decoding) free of every
prompt-format special token.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nextedit.prompts.markers import MARKER_RE


def vocab_marker_ids(tokenizer) -> set[int]:  # noqa: ANN001
    """Ids of every ``<|marker_N|>`` tag in the tokenizer's vocabulary."""
    vocab = tokenizer.get_vocab() if hasattr(tokenizer, "get_vocab") else {}
    return {i for tok, i in vocab.items() if MARKER_RE.fullmatch(tok)}


@dataclass
class MarkerSpanConstraint:
    """``marker_ids`` maps token id → marker number (only markers present in the prompt)."""

    marker_ids: dict[int, int]
    eos_ids: set[int] = field(default_factory=set)
    foreign_ids: set[int] = field(default_factory=set)  # marker tags the prompt does not have

    @classmethod
    def for_prompt(cls, prompt: str, tokenizer, eos_ids: set[int]) -> MarkerSpanConstraint | None:  # noqa: ANN001
        """Build from the marker tags visible in ``prompt``; None if the tokenizer does not have
        every tag as a single token (then decoding is left unconstrained)."""
        numbers = sorted({int(n) for n in MARKER_RE.findall(prompt)})
        if not numbers:
            return None
        ids: dict[int, int] = {}
        for n in numbers:
            enc = tokenizer.encode(f"<|marker_{n}|>", add_special_tokens=False)
            if len(enc) != 1:
                return None
            ids[enc[0]] = n
        foreign = vocab_marker_ids(tokenizer) - set(ids)
        return cls(ids, set(eos_ids), foreign)

    def __call__(self, generated: list[int]) -> tuple[set[int] | None, set[int]]:
        tags = [self.marker_ids[t] for t in generated if t in self.marker_ids]
        if not tags:
            return set(self.marker_ids), set()
        first = max(tags)
        banned = {t for t, n in self.marker_ids.items() if n < first} | self.foreign_ids
        if len(tags) < 2:
            banned |= self.eos_ids
        return None, banned


class NoSpecialTokens:
    """Bans every prompt-format special token (marker tags, cursor, FIM and file tokens) except
    ``allowed`` (the end tokens, which still stop generation)."""

    def __init__(self, tokenizer, special_tokens: tuple[str, ...], allowed: set[int]) -> None:  # noqa: ANN001
        self.banned: set[int] = set()
        for tok in special_tokens:
            ids = tokenizer.encode(tok, add_special_tokens=False)
            if len(ids) == 1:
                self.banned.add(ids[0])
        self.banned |= vocab_marker_ids(tokenizer)
        self.banned -= allowed

    def __call__(self, generated: list[int]) -> tuple[set[int] | None, set[int]]:
        return None, self.banned


def constraint_for(format_name: str, prompt: str, engine) -> MarkerSpanConstraint | None:  # noqa: ANN001
    """The decoding constraint for a prompt in ``format_name`` (only marker formats have one)."""
    if format_name not in ("zeta2_1", "V0318SeedMultiRegions"):
        return None
    return MarkerSpanConstraint.for_prompt(prompt, engine.tokenizer, engine.eos_ids)
