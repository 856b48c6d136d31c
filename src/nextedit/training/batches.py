"""Training data: packed raw code (LM) and prompt/response pairs (SFT), as deterministic batch streams.

Contracts:
* Every phase is an **infinite, deterministic** stream of batches given ``(recipe, seed)``: the
  same call yields the same batches in the same order. Resume = rebuild the stream and skip the
  ``position`` batches already consumed (saved in the checkpoint), so a resumed run sees exactly
  the data an uninterrupted run would have seen.
* A batch is ``{"input_ids", "attention_mask", "labels"}`` (LongTensor ``[B, T]``); ``labels`` is
  ``-100`` on padding and, for SFT, on every prompt token (loss on the response only).
* LM packing: documents are tokenized, joined with ``<|endoftext|>`` and cut into rows of
  ``seq_len`` tokens; ``batch_tokens // seq_len`` rows per batch. Document order is shuffled with a
  fixed-size buffer (streaming, seeded).
* SFT: ``prompt.input`` + ``prompt.expected_output`` (EOS appended when missing). Prompt and
  response are tokenized separately (identical to joint tokenization because every format ends its
  prompt with a marker that is a single added token).
* Over-long SFT examples (prompt + response > ``seq_len`` tokens): ``overlong="truncate"`` drops
  tokens from the *left* of the prompt, which removes the far context (suffix section, related
  files, old history) first; the example is skipped instead when the cut would reach the editable
  region (the first region-marker token: ``<|marker_N|>``, ``<<<<<<< CURRENT``,
  ``<|editable_region_start|>``) or when the response alone does not fit. ``overlong="skip"``
  skips every over-long example. Both are counted in :class:`SftStats`.
* Curriculum: examples are sorted by length and split into ``buckets`` equal-count groups, short
  to long; within a bucket the order is shuffled (seeded) and examples are grouped into batches
  under the ``batch_tokens`` budget (``rows × longest row``). The first epoch walks buckets short →
  long; later epochs shuffle the same batches.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IGNORE = -100
REGION_START_TOKENS = ("<|marker_1|>", "<<<<<<< CURRENT", "<|editable_region_start|>")


# ---------------------------------------------------------------------------------------------- SFT
@dataclass
class SftRecord:
    """One tokenized SFT example: ``ids = prompt + response``; loss on ``ids[prompt_len:]``."""

    ids: list[int]
    prompt_len: int

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class SftStats:
    read: int = 0
    kept: int = 0
    truncated: int = 0
    skipped_overlong: int = 0
    skipped_missing: int = 0
    errors: list[str] = field(default_factory=list)


def region_start_ids(tokenizer) -> set[int]:
    """Token ids that open the editable region in any supported prompt format."""
    out: set[int] = set()
    for tok in REGION_START_TOKENS:
        ids = tokenizer.encode(tok, add_special_tokens=False)
        if len(ids) == 1:
            out.add(ids[0])
    vocab = tokenizer.get_vocab()
    out.update(i for t, i in vocab.items() if t.startswith("<|marker_") and t.endswith("|>"))
    return out


def encode_sft(
    tokenizer,
    prompt: str,
    response: str,
    *,
    max_len: int,
    overlong: str = "truncate",
    region_ids: set[int] | None = None,
    stats: SftStats | None = None,
) -> SftRecord | None:
    """Tokenize one example (see module docstring for the over-long policy); None = skipped."""
    p = tokenizer.encode(prompt, add_special_tokens=False)
    r = tokenizer.encode(response, add_special_tokens=False)
    eos = tokenizer.eos_token_id
    if not r or r[-1] != eos:
        r.append(eos)
    total = len(p) + len(r)
    if total > max_len:
        cut = total - max_len
        if overlong == "skip" or len(r) >= max_len:
            if stats:
                stats.skipped_overlong += 1
            return None
        if region_ids is None:
            region_ids = region_start_ids(tokenizer)
        first_region = next((i for i, t in enumerate(p) if t in region_ids), None)
        if first_region is not None and cut > first_region:
            if stats:
                stats.skipped_overlong += 1
            return None
        p = p[cut:]
        if stats:
            stats.truncated += 1
    if stats:
        stats.kept += 1
    return SftRecord(ids=p + r, prompt_len=len(p))


def sft_pairs_from_jsonl(
    paths: Iterable[str | Path], stats: SftStats | None = None
) -> Iterator[tuple[str, str]]:
    """``(prompt.input, prompt.expected_output)`` from Example JSONL; lines lacking them are counted
    in ``stats.skipped_missing`` (they are not training examples)."""
    from nextedit.io.jsonl import iter_json_lines

    for path in paths:
        for _line_no, rec in iter_json_lines(path):
            if stats:
                stats.read += 1
            prompt = rec.get("prompt") or {}
            inp, out = prompt.get("input"), prompt.get("expected_output")
            if not isinstance(inp, str) or not isinstance(out, str):
                if stats:
                    stats.skipped_missing += 1
                continue
            yield inp, out


def curriculum_batches(
    lengths: list[int],
    *,
    batch_tokens: int,
    max_batch_size: int,
    buckets: int,
    seed: int,
    curriculum: bool = True,
) -> list[list[int]]:
    """Group example indices into batches; short→long bucket order when ``curriculum``.

    Each batch satisfies ``len(batch) * max(lengths[batch]) <= batch_tokens`` (a single example
    longer than the budget forms its own batch) and ``len(batch) <= max_batch_size``.
    """
    rng = random.Random(seed)
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    n_buckets = max(1, min(buckets, len(order))) if curriculum else 1
    groups: list[list[int]] = []
    size = -(-len(order) // n_buckets) if order else 0
    for b in range(n_buckets):
        groups.append(order[b * size : (b + 1) * size])
    batches: list[list[int]] = []
    for group in groups:
        if not curriculum:
            group = list(group)
        # within a bucket: shuffle, then pack consecutive examples (sorted by length inside the
        # window so that rows of a batch are similar and padding stays small)
        rng.shuffle(group)
        bucket_batches: list[list[int]] = []
        window = sorted(group, key=lambda i: lengths[i])
        cur: list[int] = []
        cur_max = 0
        for i in window:
            new_max = max(cur_max, lengths[i])
            if cur and ((len(cur) + 1) * new_max > batch_tokens or len(cur) >= max_batch_size):
                bucket_batches.append(cur)
                cur, cur_max = [], 0
                new_max = lengths[i]
            cur.append(i)
            cur_max = new_max
        if cur:
            bucket_batches.append(cur)
        rng.shuffle(bucket_batches)
        batches.extend(bucket_batches)
    if not curriculum:
        rng.shuffle(batches)
    return batches


def collate_sft(records: list[SftRecord], pad_id: int) -> dict[str, Any]:
    """Right-padded tensors; labels = ids on the response, -100 on prompt and padding."""
    import torch

    width = max(len(r) for r in records)
    ids = torch.full((len(records), width), pad_id, dtype=torch.long)
    labels = torch.full((len(records), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(records), width), dtype=torch.long)
    for row, r in enumerate(records):
        n = len(r.ids)
        ids[row, :n] = torch.tensor(r.ids)
        mask[row, :n] = 1
        labels[row, r.prompt_len : n] = torch.tensor(r.ids[r.prompt_len :])
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def sft_batch_stream(
    records: list[SftRecord],
    *,
    pad_id: int,
    batch_tokens: int,
    max_batch_size: int,
    buckets: int,
    curriculum: bool,
    seed: int,
) -> Iterator[dict[str, Any]]:
    """Infinite stream: epoch 0 in curriculum order, later epochs shuffled (seed + epoch)."""
    if not records:
        raise ValueError("SFT phase has no examples (check its `train` files / `synthetic` count)")
    lengths = [len(r) for r in records]
    epoch = 0
    while True:
        batches = curriculum_batches(
            lengths,
            batch_tokens=batch_tokens,
            max_batch_size=max_batch_size,
            buckets=buckets,
            seed=seed + epoch,
            curriculum=curriculum and epoch == 0,
        )
        for b in batches:
            yield collate_sft([records[i] for i in b], pad_id)
        epoch += 1


# ----------------------------------------------------------------------------------------------- LM
def lm_batch_stream(
    texts_factory,
    tokenizer,
    *,
    seq_len: int,
    batch_tokens: int,
    seed: int,
    shuffle_buffer: int = 512,
) -> Iterator[dict[str, Any]]:
    """Infinite stream of packed LM batches. ``texts_factory()`` returns a fresh iterable of
    documents (called once per epoch); documents are shuffled through a seeded buffer."""
    import torch

    rows = max(1, batch_tokens // seq_len)
    sep = tokenizer.pad_token_id  # <|endoftext|>
    buf: list[int] = []
    pending: list[list[int]] = []
    epoch = 0
    while True:
        rng = random.Random(seed * 1000 + epoch)
        n_docs = 0
        for doc in _shuffled(texts_factory(), rng, shuffle_buffer):
            n_docs += 1
            buf.extend(tokenizer.encode(doc, add_special_tokens=False))
            buf.append(sep)
            while len(buf) >= seq_len:
                pending.append(buf[:seq_len])
                buf = buf[seq_len:]
                if len(pending) == rows:
                    ids = torch.tensor(pending, dtype=torch.long)
                    pending = []
                    yield {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}
        if n_docs == 0:
            raise ValueError("LM phase: the corpus is empty")
        epoch += 1


def _shuffled(items: Iterable[str], rng: random.Random, size: int) -> Iterator[str]:
    buf: list[str] = []
    for item in items:
        buf.append(item)
        if len(buf) >= size:
            j = rng.randrange(len(buf))
            buf[j], buf[-1] = buf[-1], buf[j]
            yield buf.pop()
    rng.shuffle(buf)
    yield from buf


def mix_streams(main: Iterator, other: Iterator, fraction: float, seed: int) -> Iterator:
    """Take each batch from ``other`` with probability ``fraction`` (seeded), else from ``main``."""
    rng = random.Random(seed)
    while True:
        yield next(other) if rng.random() < fraction else next(main)
