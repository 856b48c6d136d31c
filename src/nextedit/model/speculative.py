"""Prompt-lookup drafting with a copy pointer (draft-free speculative decoding).

Next-edit outputs mostly copy the editable region of the prompt. The drafter proposes the tokens
that followed the current n-gram the last time it occurred in the sequence; once a match is found
it keeps a *copy pointer* and, as long as drafts are accepted, continues drafting from there
without searching again. The engine verifies a whole draft in one forward pass.
"""

from __future__ import annotations


class PromptLookupDrafter:
    """Proposes up to ``max_draft`` tokens by matching the last ``ngram_max..ngram_min`` tokens.

    ``search_start`` limits the lookup to ``ids[search_start:]`` (e.g. the editable region), with the
    whole sequence searched as a fallback.
    """

    def __init__(
        self,
        max_draft: int = 8,
        ngram_max: int = 4,
        ngram_min: int = 1,
        search_start: int = 0,
        grow_to: int | None = None,
    ) -> None:
        self.max_draft = max_draft
        self.ngram_max = ngram_max
        self.ngram_min = ngram_min
        self.search_start = search_start
        self.pointer: int | None = None  # index in ids of the next token to copy
        # adaptive length: after a fully accepted draft the next one is twice as long (up to
        # ``grow_to``); any rejection resets it to ``max_draft``
        self.grow_to = max(grow_to or max_draft, max_draft)
        self.length = max_draft
        self._last = 0

    def _search(self, ids: list[int]) -> int | None:
        n_ids = len(ids)
        for n in range(min(self.ngram_max, n_ids - 1), self.ngram_min - 1, -1):
            tail = ids[n_ids - n :]
            first = tail[0]
            # newest occurrence first (closest context is the likeliest continuation): the
            # preferred region [search_start, end) first, then what lies before it
            start = min(self.search_start, n_ids - n - 1)
            for hi, lo in ((n_ids - n - 1, start), (start - 1, 0)):
                for i in range(hi, lo - 1, -1):
                    if ids[i] == first and ids[i : i + n] == tail:
                        return i + n
        return None

    def draft(self, ids: list[int], budget: int) -> list[int]:
        """Draft tokens to follow ``ids`` (prompt + generated so far), at most ``budget``."""
        k = min(self.length, budget)
        self._last = 0
        if k <= 0:
            return []
        if self.pointer is None or self.pointer >= len(ids):
            self.pointer = self._search(ids)
        if self.pointer is None:
            return []
        out = ids[self.pointer : self.pointer + k]
        self._last = len(out)
        return out

    def advance(self, ids: list[int], n_new: int) -> None:
        """After ``n_new`` tokens were appended to ``ids``: keep the copy pointer only if they are
        exactly the tokens at the pointer (the model is still copying), else drop it."""
        full = self._last > 0 and n_new == self._last + 1
        self.length = min(2 * self.length, self.grow_to) if full else self.max_draft
        p = self.pointer
        if p is None:
            return
        if ids[p : p + n_new] == ids[len(ids) - n_new :] and p + n_new < len(ids) - n_new:
            self.pointer = p + n_new
        else:
            self.pointer = None


def copied_tokens(prompt_ids: list[int], generated: list[int], n: int = 4) -> int:
    """How many ``generated`` tokens lie in an ``n``-gram that also occurs in the prompt (the
    n-grams may start in the prompt's tail): the part of an output that prompt lookup can draft."""
    grams = {tuple(prompt_ids[i : i + n]) for i in range(len(prompt_ids) - n + 1)}
    seq = prompt_ids[-(n - 1) :] + generated if n > 1 else list(generated)
    off = len(seq) - len(generated)
    covered = [False] * len(generated)
    for end in range(n, len(seq) + 1):
        if tuple(seq[end - n : end]) in grams:
            for j in range(max(0, end - n - off), end - off):
                covered[j] = True
    return sum(covered)
