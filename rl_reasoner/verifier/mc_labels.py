"""Process labels by Monte-Carlo continuation (the lecture's method, as in Math-Shepherd).

For each sampled completion and each of its steps but the last (``verifier.steps``), the SFT model continues
the prefix ending at that step ``M`` times at temperature 1.0; each continuation is verified with
``rewards.verify`` (strict extraction, as the samples are) on the completion it makes (prefix +
continuation) against the row's gold answer. The step's *fraction* is the share of continuations that came
out right, its *hard label* whether any did (Math-Shepherd's hard estimate: a step is good when a right
answer is still reachable from it). The final step is the whole completion: it is labelled by its own
verdict, with no continuation. The task's exact step checker is never read here.

All prefixes of all completions go to the generator as one batched job (rows with prompt = the original
prompt + prefix and the same gold answer). Each continuation has the token budget the sample had left after
the prefix: generation runs to the largest such budget, and a continuation counts as right only if it ended
(EOS) within its own remaining budget, so a step's label is what a sample cut at the same budget would get.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rewards.verify import verify_batch
from rl_reasoner.generation import generate_samples
from rl_reasoner.reward_funcs import GRPO_EXTRACTION
from rl_reasoner.verifier.samples import LabelledPrompt
from rl_reasoner.verifier.steps import step_prefixes

SEED_OFFSET = 10_000  # continuations draw from seed + 10_000 + batch: apart from the samples' seed + batch


@dataclass(frozen=True)
class StepLabels:
    """One sampled completion of a prompt, split into steps, with each step's Monte-Carlo label."""

    prompt_index: int  # into the labelled prompts
    completion: str
    fractions: tuple[float, ...]  # per step: share of right continuations (final step: 1.0 or 0.0)
    labels: tuple[bool, ...]  # per step: any continuation right (final step: the completion's verdict)


@dataclass(frozen=True)
class Continuations:
    """What the continuation rows need: ``m`` continuations each, the policy's budget and batch size."""

    m: int
    max_new_tokens: int  # the samples' budget; a prefix's continuations get what it leaves
    batch_size: int
    temperature: float = 1.0


def prefix_rows(items: Sequence[LabelledPrompt], count_tokens: Callable[[str], int]) -> list[dict]:
    """One row per proper step prefix of every completion, in order: ``prompt`` (original prompt + prefix),
    ``answer`` (the same gold), ``prefix``, ``used`` (the prefix's tokens, by ``count_tokens``), and
    ``sample`` (``(prompt index, completion index)``) and ``step`` it came from.

    >>> item = LabelledPrompt("1", 1, "3+4=?\\n", "7", ("a\\nbc\\nd", "e"), (True, False))
    >>> [(r["prompt"], r["used"], r["sample"], r["step"]) for r in prefix_rows([item], len)]
    [('3+4=?\\na\\n', 2, (0, 0), 0), ('3+4=?\\na\\nbc\\n', 5, (0, 0), 1)]
    """
    rows = []
    for p, item in enumerate(items):
        for c, completion in enumerate(item.completions):
            for step, prefix in enumerate(step_prefixes(completion)[:-1]):
                rows.append({"prompt": item.prompt + prefix, "answer": item.answer, "prefix": prefix,
                             "used": count_tokens(prefix), "sample": (p, c), "step": step})
    return rows


def continuation_fractions(
    model, tokenizer, rows: Sequence[dict], spec: Continuations, seed: int
) -> list[float]:
    """The share of right continuations of each prefix row, ``spec.m`` each, generated as one batched job."""
    if not rows:
        return []
    budgets = [max(1, spec.max_new_tokens - row["used"]) for row in rows]
    generations = generate_samples(
        model,
        tokenizer,
        [row["prompt"] for row in rows],
        n=spec.m,
        temperature=spec.temperature,
        max_new_tokens=max(budgets),
        batch_size=spec.batch_size,
        seed=seed + SEED_OFFSET,
        desc="mc continuations",
    )
    golds = [row["answer"] for row, group in zip(rows, generations, strict=True) for _ in group]
    texts = [row["prefix"] + g.text for row, group in zip(rows, generations, strict=True) for g in group]
    verdicts = iter(verify_batch(golds, texts, mode=GRPO_EXTRACTION))
    fractions = []
    for budget, group in zip(budgets, generations, strict=True):
        # ended (EOS, the budget's last token at the latest) within the budget this prefix left
        right = [next(verdicts) is True and not g.truncated and g.tokens + 1 <= budget for g in group]
        fractions.append(sum(right) / len(right))
    return fractions


def mc_step_labels(
    model, tokenizer, items: Sequence[LabelledPrompt], spec: Continuations, seed: int
) -> list[StepLabels]:
    """Every sampled completion of ``items`` with its steps' Monte-Carlo fractions and hard labels."""
    def count_tokens(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    rows = prefix_rows(items, count_tokens)
    found = {(row["sample"], row["step"]): f
             for row, f in zip(rows, continuation_fractions(model, tokenizer, rows, spec, seed), strict=True)}
    out = []
    for p, item in enumerate(items):
        for c, (completion, verdict) in enumerate(zip(item.completions, item.correct, strict=True)):
            n_steps = len(step_prefixes(completion))
            fractions = (*(found[(p, c), step] for step in range(n_steps - 1)), float(verdict))
            out.append(StepLabels(p, completion, fractions, tuple(f > 0 for f in fractions)))
    return out
