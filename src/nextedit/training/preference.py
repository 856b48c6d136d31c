"""Preference training (DPO, Rafailov et al. 2023) on ``prompt.expected_output`` (chosen) vs
``prompt.rejected_output`` (rejected) pairs — what ``format-prompt`` writes for pulled rejected and
settled examples (zeta.md §3.8, §3.12).

For a pair the loss is ``-log σ(β · ((log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r))))``
where ``log π(·)`` is the summed log-probability (nats) of the response tokens given the prompt
under the trained model and ``π_ref`` the frozen model the run started from. Responses end with
the tokenizer's EOS, like SFT records (:func:`nextedit.training.batches.encode_sft`); prompts are
cut from the left when a pair would exceed ``max_len`` tokens. Not yet a phase of ``nextedit
train``: :func:`train_preference` runs on a model object.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nextedit.schema.example import Example


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

    if not pairs:
        raise ValueError(
            "no preference pairs (examples need prompt.input, expected_output and rejected_output)"
        )
    reference = copy.deepcopy(model).eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    rng = random.Random(seed)
    log = []
    for _ in range(steps):
        batch = rng.sample(pairs, min(batch_size, len(pairs)))
        prompts = [b.prompt for b in batch]
        pc = sequence_logprobs(model, prompts, [b.chosen for b in batch])
        pr = sequence_logprobs(model, prompts, [b.rejected for b in batch])
        with torch.no_grad():
            rc = sequence_logprobs(reference, prompts, [b.chosen for b in batch])
            rr = sequence_logprobs(reference, prompts, [b.rejected for b in batch])
        loss = dpo_loss(pc, pr, rc, rr, beta)
        opt.zero_grad()
        loss.backward()
        opt.step()
        log.append(
            {
                "loss": loss.item(),
                "chosen_logp": pc.detach().mean().item(),
                "rejected_logp": pr.detach().mean().item(),
            }
        )
    model.eval()
    return log
