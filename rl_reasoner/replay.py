"""SFT replay during GRPO: the cold-start rows' log-likelihood added to the policy loss (PPO-ptx, Ouyang
et al. 2022), counted only on the tokens the reference model is sure of.

Why: on a small model, GRPO's noisy updates also move what the reward never asked to change. On tiny-arith
both the length-controlled and the accuracy-only policy learned to write ``0+0+0=1`` on 3-digit sums with
zero middle digits (44 of 300 wrong on one seed, SFT: 1), a pattern too rare in the GRPO prompts for the
KL term (computed on sampled completions only) to hold. Replaying the SFT rows keeps such facts, but the
same rows also hold the choices GRPO is meant to change (the trace style, how many re-checks): replay on
every token pulled those back too and the length control stopped. So a token counts only where the
reference (start) model's predictive entropy is below ``max_entropy``: the confident facts are anchored,
the forking tokens (where the SFT data itself was mixed) are left to the reward.

The loss is the mean over the kept tokens, so a direct answer's two answer tokens are ~0.3 % of a batch;
the level-1 facts GRPO drifts once level 1 goes direct (2 / 2 / 0 of 100 wrong on the fa17bb0 seeds)
are barely held. Tried on those seeds' SFT checkpoints: a per-row mean (1 / 1 / 0 wrong facts, but 85 of
300 zero-middle sums wrong on seed 2) and token mean + row mean (0 / 0 / 0, but 81 of 300 on seed 2):
weighting short rows up lets the long traces' facts go, so the token mean stays. Also tried (45e6571's
session, same checkpoints): TRL's ``top_entropy_quantile=0.2`` (seed 0 still lost 9+3 and 3+9) and the token
mean plus a per-row mean over each row's boxed answer tokens only (5 / 0 / 0 wrong facts, seed 0 stayed
verbose at level 1, 75 of 300 zero-middle sums wrong on seed 2): neither adopted.
"""

from __future__ import annotations

import random
from pathlib import Path

from rl_reasoner.data.tables import load_split


class ReplayRows:
    """The SFT rows (``prompt``, ``completion``), tokenized once; a batch is a pure function of its key, so a
    resumed run draws the same rows as an uninterrupted one."""

    def __init__(self, path: Path, tokenizer, rows_per_batch: int, seed: int) -> None:
        table = load_split(path, columns=("prompt", "completion"))
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.rows_per_batch, self.seed = rows_per_batch, seed
        self.examples = []
        for row in table:
            prompt = tokenizer(row["prompt"], add_special_tokens=False).input_ids
            completion = tokenizer(row["completion"], add_special_tokens=False).input_ids
            self.examples.append((prompt, [*completion, tokenizer.eos_token_id]))

    def batch(self, *key: int) -> tuple[list[list[int]], list[list[int]], list[int]]:
        """``rows_per_batch`` rows drawn by ``key`` (e.g. step, call, process): token ids and labels
        (-100 on the prompt and the padding), right-padded to one length, and each row's unpadded length."""
        rng = random.Random(hash((self.seed, *key)))
        picked = [self.examples[rng.randrange(len(self.examples))] for _ in range(self.rows_per_batch)]
        width = max(len(p) + len(c) for p, c in picked)
        ids, labels, lengths = [], [], []
        for prompt, completion in picked:
            lengths.append(len(prompt) + len(completion))
            pad = width - len(prompt) - len(completion)
            ids.append([*prompt, *completion, *[self.pad_id] * pad])
            labels.append([*[-100] * len(prompt), *completion, *[-100] * pad])
        return ids, labels, lengths


def replay_loss(model, ref_model, batch: tuple, max_entropy: float | None):
    """Mean NLL of the completion tokens whose reference entropy is below ``max_entropy`` (all if None);
    returns ``(loss, kept)``, ``kept`` the fraction of completion tokens counted."""
    import torch
    import torch.nn.functional as F

    ids, labels, lengths = batch
    device = next(model.parameters()).device
    ids_t, labels_t = torch.tensor(ids, device=device), torch.tensor(labels, device=device)
    attention = (
        torch.arange(ids_t.shape[1], device=device)[None, :] < torch.tensor(lengths, device=device)[:, None]
    ).long()
    targets = labels_t[:, 1:]
    keep = targets != -100
    if max_entropy is not None:
        with torch.no_grad():
            ref_logp = (
                ref_model(input_ids=ids_t, attention_mask=attention).logits[:, :-1].float().log_softmax(-1)
            )
            entropy = -(ref_logp.exp() * ref_logp).sum(-1)
        keep = keep & (entropy < max_entropy)
    logits = model(input_ids=ids_t, attention_mask=attention).logits[:, :-1].float()
    nll = F.cross_entropy(logits.transpose(1, 2), targets.clamp(min=0), reduction="none")
    loss = (nll * keep).sum() / keep.sum().clamp(min=1)
    kept = keep.sum().item() / max(1, int((targets != -100).sum().item()))
    return loss, kept
