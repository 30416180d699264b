"""How a process verifier's labels and scores compare with the truth, on tiny-arith addition.

Two numbers of issue 15, both against the exact step checker (``verifier.arith_steps``, which nothing
trains on): the Monte-Carlo labels' agreement with the exact labels (target >= 95 %), and the trained
verifier's step AUROC against them on held-out prompts (target >= 0.9). Steps of prompts the checker cannot
read (not an ``a+b=?`` addition) are left out of both and counted.
"""

from __future__ import annotations

from collections.abc import Sequence

from rl_reasoner.verifier.arith_steps import addition_operands, exact_step_labels
from rl_reasoner.verifier.mc_labels import StepLabels
from rl_reasoner.verifier.metrics import auroc
from rl_reasoner.verifier.samples import LabelledPrompt


def exact_labels(items: Sequence[LabelledPrompt], labelled: Sequence[StepLabels]) -> list[list[bool] | None]:
    """Per labelled completion, the exact label of each step; None where the prompt is not an addition."""
    out: list[list[bool] | None] = []
    for sample in labelled:
        operands = addition_operands({"prompt": items[sample.prompt_index].prompt})
        out.append(None if operands is None else exact_step_labels(*operands, sample.completion))
    return out


def agreement(mc: Sequence[bool], exact: Sequence[bool]) -> dict:
    """How often the Monte-Carlo labels equal the exact ones, and how each kind of disagreement splits.

    >>> agreement([True, True, False, True], [True, False, False, True])
    {'steps': 4, 'agree': 3, 'rate': 0.75, 'mc_right_exact_wrong': 1, 'mc_wrong_exact_right': 0}
    >>> agreement([], [])["rate"] is None
    True
    """
    agree = sum(m == e for m, e in zip(mc, exact, strict=True))
    return {
        "steps": len(mc),
        "agree": agree,
        "rate": round(agree / len(mc), 4) if mc else None,
        "mc_right_exact_wrong": sum(m and not e for m, e in zip(mc, exact, strict=True)),
        "mc_wrong_exact_right": sum(e and not m for m, e in zip(mc, exact, strict=True)),
    }


def step_auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """AUROC of step scores against step labels, rounded; None when every step has one label.

    >>> step_auroc([0.9, 0.2, 0.4], [True, False, True]), step_auroc([0.1, 0.3], [True, True])
    (1.0, None)
    """
    if all(labels) or not any(labels):
        return None
    return round(auroc(scores, labels), 4)


def _flat(rows: Sequence[Sequence], keep: Sequence[bool]) -> list:
    return [x for row, kept in zip(rows, keep, strict=True) if kept for x in row]


def evaluate_prm(
    items: Sequence[LabelledPrompt],
    labelled: Sequence[StepLabels],
    heldout: set[int],
    step_scores: Sequence[Sequence[float]],
) -> dict:
    """``verifier.json``'s evaluation: MC-vs-exact agreement on held-out and on all prompts; the verifier's
    held-out step AUROC against the exact labels and against its own kind of (MC) labels.

    ``heldout``: indices into ``items``; ``step_scores``: the verifier's scores of the held-out completions,
    in the order they appear in ``labelled``.
    """
    exact = exact_labels(items, labelled)
    checked = [e is not None for e in exact]
    held = [s.prompt_index in heldout for s in labelled]
    held_checked = [h and c for h, c in zip(held, checked, strict=True)]
    mc = [list(s.labels) for s in labelled]
    scores_by_sample = iter(step_scores)
    scores = [list(next(scores_by_sample)) if h else [] for h in held]
    return {
        "mc_vs_exact": {
            "heldout": agreement(_flat(mc, held_checked), _flat(exact, held_checked)),
            "all": agreement(_flat(mc, checked), _flat(exact, checked)),
        },
        "heldout_step_auroc_exact": step_auroc(_flat(scores, held_checked), _flat(exact, held_checked)),
        "heldout_step_auroc_mc": step_auroc(_flat(scores, held), _flat(mc, held)),
        "unchecked_steps": sum(len(s.labels) for s, c in zip(labelled, checked, strict=True) if not c),
    }
