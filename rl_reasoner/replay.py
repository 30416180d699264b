"""SFT replay during GRPO: the cold-start rows' log-likelihood added to the policy loss (PPO-ptx, Ouyang
et al. 2022), counted only on the tokens the reference model knows.

Why: on a small model, GRPO's noisy updates also move what the reward never asked to change. On tiny-arith
both the length-controlled and the accuracy-only policy learned to write ``0+0+0=1`` on 3-digit sums with
zero middle digits (44 of 300 wrong on one seed, SFT: 1), a pattern too rare in the GRPO prompts for the
KL term (computed on sampled completions only) to hold. Replaying the SFT rows keeps such facts, but the
same rows also hold the choices GRPO is meant to change (the trace style, how many re-checks): replay on
every token pulled those back too and the length control stopped. So a token counts only where the
reference (start) model's predictive entropy is below ``max_entropy``: the confident facts are anchored,
the forking tokens (where the SFT data itself was mixed) are left to the reward.

Which tokens: the forks GRPO should be free to change open a line (the style right after ``<think>``,
"Check:" or "So" after a column line), and their reference entropy is ~0.6-1.1 nats. A fact inside a line
can be as uncertain: on the fa17bb0 seed-0 SFT model 16 of the 100 one-digit sums had a direct answer token
above 0.3 nats (3+9: 0.71), and those are the facts GRPO flipped once level 1 went direct (9+3, 3+9, 7+7 on
seeds 0 and 1; the entropy rule alone never replayed them). So a token inside a line is also kept when the
reference predicts it (its argmax is the data's token): the facts the SFT model knows, however unsure, while
the guessed digits of a direct answer at level 3 (~2.3 nats, mostly mispredicted) stay out. GRPO only, from
the fa17bb0 SFT checkpoints, 300 per level: forced-direct wrong facts 0 / 1 / 0 (entropy rule: 2 / 2 / 0),
level 1 at 100 / 99.3 / 100 %.
Seed 2's zero-middle sums are not held by this: its SFT model writes ``0+0+0=1`` on 55 of 300 of them,
a fact it does not know, and GRPO moves the count by noise (fca60d9 bench: 66; accuracy-only 83). Keeping
every in-line token instead, known or not, did not help (GRPO only from that seed's SFT checkpoint: 70 of
300, level 3 99.0 % against 100 %), nor did replay weight 20 with this rule (84 of 300).

Tried before on the same checkpoints and not adopted: a per-row mean (1 / 1 / 0 wrong facts, but 85 of 300
zero-middle sums wrong on seed 2) and token mean + row mean (0 / 0 / 0, but 81 of 300): weighting short rows
up lets the long traces' facts go, so the token mean stays; TRL's ``top_entropy_quantile=0.2`` (seed 0 still
lost 9+3 and 3+9); the token mean plus a per-row mean over each row's boxed answer tokens (5 / 0 / 0 wrong
facts, seed 0 stayed verbose at level 1, 75 of 300 zero-middle sums wrong on seed 2).

Seed 1 of the 86ee7b7 seeds bench has the same trouble (SFT 15 of 300 zero-middle sums wrong, GRPO 24,
accuracy-only 26): its SFT model is within 1 nat of ``0+0+0=1`` on 41 of the 300 sums (14 already wrong), and
GRPO moved all 27 of the weakest further (after ``1+0+0=1`` it copies the line above). Tried from that SFT
checkpoint, both units side by side as in the bench (GRPO / accuracy-only errors; random 3-digit sums in
brackets): no replay 37 / 17 (14 / 10); every in-line token, known or not, 25 / 26 (5 / 5); half of each
batch drawn from the *fragile* rows (a known in-line token within 1 nat of its runner-up, 227 of a scored pool
of 2048) 48 / 62 (7 / 4), its margins on ``0+0+0=`` fell by ~1 nat on 278 of the 300 sums. None adopted:
the rule above keeps the random sums (2 / 1) and no variant held the facts the SFT model barely knows.
What held them was training only the upper layers (``rl_reasoner/freeze.py``): seed 6's 14 / 52 / 59 became
14 / 17 / 19, and fresh seeds 9-11 stayed within one sum of their SFT models.
"""

from __future__ import annotations

import random
from pathlib import Path

from rl_reasoner.buckets import length_buckets
from rl_reasoner.data.tables import load_split


class ReplayRows:
    """The SFT rows (``prompt``, ``completion``), tokenized once; a batch is a pure function of its key, so a
    resumed run draws the same rows as an uninterrupted one."""

    def __init__(self, path: Path, tokenizer, rows_per_batch: int, seed: int) -> None:
        table = load_split(path, columns=("prompt", "completion"))
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.rows_per_batch, self.seed = rows_per_batch, seed
        self.examples = []
        ends_line: dict[int, bool] = {}
        prompts = tokenizer([row["prompt"] for row in table], add_special_tokens=False).input_ids
        completions = tokenizer([row["completion"] for row in table], add_special_tokens=False).input_ids
        for prompt, completion in zip(prompts, completions, strict=True):
            completion = [*completion, tokenizer.eos_token_id]
            for token in completion:
                if token not in ends_line:
                    ends_line[token] = tokenizer.decode([token]).endswith("\n")
            starts = [True, *(ends_line[token] for token in completion[:-1])]
            self.examples.append((prompt, completion, starts))

    def batch(self, *key: int) -> tuple[list[list[int]], list[list[int]], list[int], list[list[bool]]]:
        """``rows_per_batch`` rows drawn by ``key`` (e.g. step, call, process): token ids and labels
        (-100 on the prompt and the padding), right-padded to one length, each row's unpadded length, and
        which label tokens open a line (the first completion token and any after a newline)."""
        rng = random.Random(hash((self.seed, *key)))
        picked = [self.examples[rng.randrange(len(self.examples))] for _ in range(self.rows_per_batch)]
        width = max(len(p) + len(c) for p, c, _ in picked)
        ids, labels, lengths, opens = [], [], [], []
        for prompt, completion, starts in picked:
            lengths.append(len(prompt) + len(completion))
            pad = width - len(prompt) - len(completion)
            ids.append([*prompt, *completion, *[self.pad_id] * pad])
            labels.append([*[-100] * len(prompt), *completion, *[-100] * pad])
            opens.append([*[False] * len(prompt), *starts, *[False] * pad])
        return ids, labels, lengths, opens


def replay_loss(model, ref_model, batch: tuple, max_entropy: float | None, bucket_rows: int | None = None):
    """Mean NLL of the completion tokens the reference model knows: those whose reference entropy is below
    ``max_entropy``, and inside a line also those it predicts right (all if ``max_entropy`` is None);
    returns ``(loss, kept)``, ``kept`` the fraction of completion tokens counted. With ``bucket_rows`` the
    rows are scored in length-sorted groups of that many, each cut to its longest row
    (rl_reasoner/buckets.py): the same loss with less padding."""

    ids, labels, lengths, opens = batch
    total, kept, counted = 0.0, 0, 0
    for bucket in length_buckets(lengths, bucket_rows or len(lengths)):
        width = max(lengths[i] for i in bucket)
        part = [[row[i][:width] for i in bucket] for row in (ids, labels, opens)]
        part_lengths = [lengths[i] for i in bucket]
        nll_sum, n_kept, n_counted = _replay_nll(model, ref_model, *part, part_lengths, max_entropy)
        total, kept, counted = total + nll_sum, kept + n_kept, counted + n_counted
    return total / max(1, kept), kept / max(1, counted)


def _replay_nll(model, ref_model, ids, labels, opens, lengths, max_entropy):
    """Summed NLL over the kept completion tokens of these rows, how many were kept, how many counted."""
    import torch
    import torch.nn.functional as F

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
            known = ~torch.tensor(opens, device=device)[:, 1:] & (ref_logp.argmax(-1) == targets)
        keep = keep & ((entropy < max_entropy) | known)
    logits = model(input_ids=ids_t, attention_mask=attention).logits[:, :-1].float()
    nll = F.cross_entropy(logits.transpose(1, 2), targets.clamp(min=0), reduction="none")
    return (nll * keep).sum(), int(keep.sum().item()), int((targets != -100).sum().item())
