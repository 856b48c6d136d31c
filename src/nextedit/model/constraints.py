"""Output constraints applied while decoding (structured generation).

A constraint looks at the tokens generated so far and says which next tokens are allowed
(``allowed``: a set, or None for any) and which are banned. The engine applies it to every position
it decodes, including each position of a speculative draft, so constrained greedy decoding with
and without speculation give the same text.

:class:`MarkerSpanConstraint` makes ``zeta2_1`` outputs parseable by construction: the answer must
start with a marker tag ``<|marker_i|>`` (1 ≤ i ≤ markers in the prompt), later tags may not go
backwards (``j ≥ i``) nor name a marker the prompt does not have, and the answer cannot end (EOS) before a second tag closes the span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_MARKER_RE = re.compile(r"<\|marker_(\d+)\|>")


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
        numbers = sorted({int(n) for n in _MARKER_RE.findall(prompt)})
        if not numbers:
            return None
        ids: dict[int, int] = {}
        for n in numbers:
            enc = tokenizer.encode(f"<|marker_{n}|>", add_special_tokens=False)
            if len(enc) != 1:
                return None
            ids[enc[0]] = n
        vocab = tokenizer.get_vocab() if hasattr(tokenizer, "get_vocab") else {}
        foreign = {i for t, i in vocab.items() if _MARKER_RE.fullmatch(t) and i not in ids}
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


def constraint_for(format_name: str, prompt: str, engine) -> MarkerSpanConstraint | None:  # noqa: ANN001
    """The decoding constraint for a prompt in ``format_name`` (only marker formats have one)."""
    if format_name not in ("zeta2_1", "V0318SeedMultiRegions"):
        return None
    return MarkerSpanConstraint.for_prompt(prompt, engine.tokenizer, engine.eos_ids)
