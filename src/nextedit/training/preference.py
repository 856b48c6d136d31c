"""Preference training (DPO, Rafailov et al. 2023) on ``prompt.expected_output`` (chosen) vs
``prompt.rejected_output`` (rejected) pairs — what ``format-prompt`` writes for pulled rejected and
settled examples (zeta.md §3.8, §3.12).

For a pair the loss is ``-log σ(β · ((log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r))))``
where ``log π(·)`` is the summed log-probability (nats) of the response tokens given the prompt
under the trained model and ``π_ref`` the frozen model the run started from. Responses end with
the tokenizer's EOS, like SFT records (:func:`nextedit.training.batches.encode_sft`); prompts are
cut from the left when a pair would exceed ``max_len`` tokens.

One implementation, two entry points: a ``[[phases]] kind = "dpo"`` phase of ``nextedit train``
(:mod:`nextedit.training.train`: the reference is the model at the phase's start) and
:func:`train_preference` (``nextedit train-preference``, on a model object) both draw batches from
:func:`preference_batch_stream` and compute the loss with :func:`dpo_step`.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from nextedit.errors import NexteditError
from nextedit.schema.example import Example


class PreferenceDataError(NexteditError, ValueError):
    """No usable preference pairs (the message names the inputs when known)."""


@dataclass(frozen=True)
class PreferencePair:
    prompt: list[int]
    chosen: list[int]
    rejected: list[int]


def preference_pairs(
    examples: Iterable[Example], tokenizer: Any, *, max_len: int = 2048
) -> list[PreferencePair]:
    """Token pairs of the examples that have an input, an expected and a different rejected output."""
    pairs = []
    for ex in examples:
        p = ex.prompt
        if p is None or not p.input or not p.expected_output or not p.rejected_output:
            continue
        if p.expected_output == p.rejected_output:
            continue
        pairs.append(encode_pair(tokenizer, p.input, p.expected_output, p.rejected_output, max_len=max_len))
    return pairs


def preference_pairs_from_files(
    paths: list[str], tokenizer: Any, *, max_len: int = 2048
) -> list[PreferencePair]:
    """:func:`preference_pairs` of the examples in ``paths`` (JSONL/.md files or directories)."""
    from nextedit.io.inputs import expand_inputs, read_examples

    return preference_pairs(read_examples(expand_inputs(paths)), tokenizer, max_len=max_len)


def encode_pair(
    tokenizer: Any, prompt: str, chosen: str, rejected: str, *, max_len: int = 2048
) -> PreferencePair:
    def response(text: str) -> list[int]:
        ids = tokenizer.encode(text, add_special_tokens=False)
        return ids if ids and ids[-1] == tokenizer.eos_token_id else [*ids, tokenizer.eos_token_id]

    c, r = response(chosen), response(rejected)
    p = tokenizer.encode(prompt, add_special_tokens=False)
    room = max(1, max_len - max(len(c), len(r)))
    return PreferencePair(p[-room:], c, r)


def sequence_logprobs(model: Any, prompts: list[list[int]], responses: list[list[int]]) -> Any:
    """Summed log-probability (nats) of each response given its prompt; a tensor of shape [batch]."""
    import torch

    seqs = [p + r for p, r in zip(prompts, responses, strict=True)]
    width = max(len(s) for s in seqs)
    pad = 0
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    resp = torch.zeros((len(seqs), width), dtype=torch.bool)
    for i, (p, s) in enumerate(zip(prompts, seqs, strict=True)):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
        resp[i, len(p) : len(s)] = True
    device = next(model.parameters()).device
    ids, mask, resp = ids.to(device), mask.to(device), resp.to(device)
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
    logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return (logp * resp[:, 1:]).sum(-1)


def dpo_loss(
    policy_chosen: Any, policy_rejected: Any, ref_chosen: Any, ref_rejected: Any, beta: float
) -> Any:
    """The mean DPO loss of a batch (module doc)."""
    import torch.nn.functional as F  # noqa: N812

    margin = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)
    return -F.logsigmoid(beta * margin).mean()


def preference_batch_stream(
    pairs: list[PreferencePair], batch_size: int, seed: int
) -> Iterator[list[PreferencePair]]:
    """The infinite deterministic stream of batches: ``batch_size`` pairs (all when fewer) drawn
    without replacement for each batch, by a ``random.Random(seed)``."""
    if not pairs:
        raise PreferenceDataError(
            "no preference pairs (examples need prompt.input, expected_output and rejected_output)"
        )
    return _batches(pairs, batch_size, random.Random(seed))


def _batches(
    pairs: list[PreferencePair], batch_size: int, rng: random.Random
) -> Iterator[list[PreferencePair]]:
    while True:
        yield rng.sample(pairs, min(batch_size, len(pairs)))


def frozen_copy(model: Any) -> Any:
    """A copy of ``model`` in eval mode without gradients: the DPO reference."""
    reference = copy.deepcopy(model).eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    return reference


@dataclass(frozen=True)
class DpoStep:
    """One batch: the loss (a tensor with its graph), the policy's mean chosen / rejected
    log-probabilities (nats) and the number of tokens it ran (prompt + response, both responses)."""

    loss: Any
    chosen_logp: float
    rejected_logp: float
    tokens: int


def dpo_step(model: Any, reference: Any, batch: list[PreferencePair], beta: float) -> DpoStep:
    """The DPO loss of ``batch`` under ``model`` against ``reference``. Chosen and rejected
    responses go through one forward pass per model (one graph, as data-parallel wrappers want)."""
    import torch

    prompts = [b.prompt for b in batch] * 2
    responses = [b.chosen for b in batch] + [b.rejected for b in batch]
    n = len(batch)
    policy = sequence_logprobs(model, prompts, responses)
    with torch.no_grad():
        ref = sequence_logprobs(reference, prompts, responses)
    loss = dpo_loss(policy[:n], policy[n:], ref[:n], ref[n:], beta)
    return DpoStep(
        loss,
        policy[:n].detach().mean().item(),
        policy[n:].detach().mean().item(),
        sum(len(p) + len(r) for p, r in zip(prompts, responses, strict=True)),
    )


def train_preference(
    model: Any,
    pairs: list[PreferencePair],
    *,
    steps: int,
    lr: float = 1e-4,
    beta: float = 0.1,
    batch_size: int = 4,
    seed: int = 0,
) -> list[dict[str, float]]:
    """``steps`` AdamW steps of DPO against a frozen copy of ``model`` (the reference); one log
    record per step: ``loss``, ``chosen_logp``, ``rejected_logp`` (policy, nats, batch means)."""
    import torch

    stream = preference_batch_stream(pairs, batch_size, seed)
    reference = frozen_copy(model)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    log = []
    for _ in range(steps):
        out = dpo_step(model, reference, next(stream), beta)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        log.append(
            {"loss": out.loss.item(), "chosen_logp": out.chosen_logp, "rejected_logp": out.rejected_logp}
        )
    model.eval()
    return log
