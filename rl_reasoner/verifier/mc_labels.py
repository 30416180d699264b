"""Process labels by Monte-Carlo continuation (the lecture's method, as in Math-Shepherd).

A step's *hard label* is whether a right answer is still reachable from the prefix ending at it
(Math-Shepherd's hard estimate), as seen by rollouts of the SFT model at temperature 1.0; each rollout is
verified with ``rewards.verify`` (strict extraction, as the samples are) on the completion it makes (prefix +
continuation) against the row's gold answer. Three kinds of rollout show a step reachable:

- the sampled completion itself, when it is right: it *is* a rollout from each of its prefixes, so every step
  of a right completion is right and none is continued;
- a right continuation from a later step of the same completion (the step's text, then that continuation, is
  a rollout from this step);
- a right continuation from this step: the steps of wrong completions not yet shown reachable are continued in
  rounds of ``ROUND`` per step, up to ``M`` in all; a step none of whose rollouts came out right is wrong.

The final step is the whole completion: its verdict. A step's *fraction* is the share of right continuations
drawn from it (None where none was drawn). The task's exact step checker is never read here.

Each round's prefixes go to the generator as one batched job (rows with prompt = the original prompt +
prefix and the same gold answer). Each continuation has the token budget the sample had left after the prefix:
generation runs to the largest such budget, and a continuation counts as right only if it ended (EOS) within
its own remaining budget, so a step's label is what a sample cut at the same budget would get.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rewards.verify import verify_batch
from rl_reasoner.generation import generate_samples
from rl_reasoner.reward_funcs import GRPO_EXTRACTION
from rl_reasoner.verifier.samples import LabelledPrompt
from rl_reasoner.verifier.steps import step_prefixes

SEED_OFFSET = 10_000  # round r draws from seed + 10_000 (r + 1) + batch: apart from the samples' seed + batch
ROUND = 4  # continuations per undecided step and round


@dataclass(frozen=True)
class StepLabels:
    """One sampled completion of a prompt, split into steps, with each step's Monte-Carlo label."""

    prompt_index: int  # into the labelled prompts
    completion: str
    fractions: tuple[float | None, ...]  # per step: share of right continuations drawn (None: none drawn)
    labels: tuple[bool, ...]  # per step: a right rollout from it (final step: the completion's verdict)
    drawn: tuple[int, ...] = ()  # per step: continuations drawn from it


@dataclass(frozen=True)
class Continuations:
    """What the continuation rows need: ``m`` continuations each, the policy's budget and batch size."""

    m: int  # at most, per step
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


def right_continuations(
    model, tokenizer, rows: Sequence[dict], spec: Continuations, seed: int
) -> list[int]:
    """How many of the ``spec.m`` continuations of each prefix row came out right (one batched job)."""
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
    counts = []
    for budget, group in zip(budgets, generations, strict=True):
        # ended (EOS, the budget's last token at the latest) within the budget this prefix left
        ended = [not g.truncated and g.tokens + 1 <= budget for g in group]
        counts.append(sum(next(verdicts) is True and e for e in ended))
    return counts


def mc_step_labels(
    model, tokenizer, items: Sequence[LabelledPrompt], spec: Continuations, seed: int
) -> list[StepLabels]:
    """Every sampled completion of ``items`` with its steps' labels, fractions and continuations drawn."""
    def count_tokens(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    rows = [r for r in prefix_rows(items, count_tokens) if not items[r["sample"][0]].correct[r["sample"][1]]]
    drawn, right = [0] * len(rows), [0] * len(rows)
    reached: dict[tuple[int, int], int] = {}  # sample -> its latest step with a right rollout
    for r in range((spec.m + ROUND - 1) // ROUND):
        todo = [i for i, row in enumerate(rows) if row["step"] > reached.get(row["sample"], -1)]
        if not todo:
            break
        m = min(ROUND, spec.m - r * ROUND)
        counts = right_continuations(model, tokenizer, [rows[i] for i in todo], replace(spec, m=m),
                                     seed + r * SEED_OFFSET)  # fmt: skip
        for i, count in zip(todo, counts, strict=True):
            drawn[i], right[i] = drawn[i] + m, right[i] + count
            if count:
                sample = rows[i]["sample"]
                reached[sample] = max(reached.get(sample, -1), rows[i]["step"])
    found = {(row["sample"], row["step"]): (d, k) for row, d, k in zip(rows, drawn, right, strict=True)}
    return [_labelled(p, c, completion, verdict, found, reached)
            for p, item in enumerate(items)
            for c, (completion, verdict) in enumerate(zip(item.completions, item.correct, strict=True))]


def _labelled(p: int, c: int, completion: str, verdict: bool, found: dict, reached: dict) -> StepLabels:
    proper = range(len(step_prefixes(completion)) - 1)
    counts = [found.get(((p, c), step), (0, 0)) for step in proper]
    last = len(proper) if verdict else reached.get((p, c), -1)
    return StepLabels(
        p,
        completion,
        (*(k / d if d else None for d, k in counts), float(verdict)),
        (*(step <= last for step in proper), verdict),
        (*(d for d, _ in counts), 0),
    )
