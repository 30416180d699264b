"""Group-relative length terms: each item is compared with the other samples of its prompt.

All four are correctness-gated (an all-wrong group gets 0 everywhere) and give 0 to every item when all
lengths in the group are equal. Statistics use the items whose ``correct`` is not None only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from rewards.length._checks import capped, check_choice, check_group, check_number, zscorer

MODES = ("discrete", "continuous")
MEAN_OVER = ("all", "correct")


def below_mean_bonus(
    lengths: Sequence[int],
    correct: Sequence[bool | None],
    *,
    weight: float = 1.0,
    mode: str = "discrete",
    mean_over: str = "all",
    clip: float = 1.0,
) -> list[float]:
    """Bonus weight*[correct, L<mean] or weight*clip((mean-L)/std, 0, clip); Lee 2025, DRPO arXiv:2510.04474.

    ``mode="discrete"`` pays ``weight`` to every correct item strictly below the group mean length,
    ``mode="continuous"`` pays ``weight * clip((mean - L) / std, 0, clip)`` (0 when std is 0). The mean and
    the population std are taken over every item whose ``correct`` is not None (``mean_over="all"``) or over
    the correct items only (``mean_over="correct"``). Items with ``correct`` None get 0 and are left out of
    the statistics; wrong items and items at or above the mean get 0.

    >>> below_mean_bonus([100, 200, 300, 400], [True, True, False, True])
    [1.0, 1.0, 0.0, 0.0]
    >>> [round(b, 3) for b in below_mean_bonus([100, 200, 300, 400], [True] * 4, mode="continuous")]
    [1.0, 0.447, 0.0, 0.0]
    >>> below_mean_bonus([10, 20, 1000], [True, True, False], mean_over="correct")
    [1.0, 0.0, 0.0]
    """
    check_choice("mode", mode, MODES)
    check_choice("mean_over", mean_over, MEAN_OVER)
    weight = float(check_number("weight", weight))
    check_number("clip", clip)
    lengths, correct = check_group(lengths, correct)
    used = [n for n, c in zip(lengths, correct, strict=True) if c is not None and (c or mean_over == "all")]
    bonus = [0.0] * len(lengths)
    if not used:
        return bonus
    total, count, z = sum(used), len(used), zscorer(used)
    for i, (n, c) in enumerate(zip(lengths, correct, strict=True)):
        if c and n * count < total:  # exact "strictly below the mean" for integer lengths
            bonus[i] = weight if mode == "discrete" else weight * min(max(-z(n), 0.0), clip)
    return bonus


def kimi(lengths: Sequence[int], correct: Sequence[bool | None]) -> list[float]:
    """λ = 0.5 − (L − min L)/(max L − min L); correct → λ, wrong → min(0, λ); Kimi k1.5 arXiv:2501.12599.

    min/max are over the group's items whose ``correct`` is not None; all lengths equal gives 0. Deviation
    from the paper: a group with no correct item gets 0 everywhere (the paper would still push its longer
    wrong answers down, i.e. teach giving up early on prompts the model cannot yet solve). Values lie in
    [-0.5, 0.5], so 1 + λ for a correct item is never below min(0, λ) for a wrong one.

    >>> kimi([100, 200, 300], [True, True, False])
    [0.5, 0.0, -0.5]
    >>> kimi([100, 300], [False, True]), kimi([100, 300], [False, False])
    ([0.0, -0.5], [0.0, 0.0])
    """
    lengths, correct = check_group(lengths, correct)
    out = [0.0] * len(lengths)
    pool = [n for n, c in zip(lengths, correct, strict=True) if c is not None]
    if not any(correct) or max(pool) == min(pool):
        return out
    lo, hi = min(pool), max(pool)
    for i, (n, c) in enumerate(zip(lengths, correct, strict=True)):
        if c is not None:
            lam = 0.5 - float(Fraction(n - lo, hi - lo))
            out[i] = lam if c else min(0.0, lam)
    return out


def efficiency(lengths: Sequence[int], correct: Sequence[bool | None], *, alpha: float = 0.1) -> list[float]:
    """correct → α·(½ − σ((L − mean_c)/std_c)), wrong → 0; Arora & Zanette 2025, arXiv:2502.04463 (centred).

    mean_c and the population std_c are over the group's correct items (std 0 → 0 for all). The paper's
    reward is c·(1 − α·σ(z)); this returns its length-dependent part only, shifted by +α/2 so that equal
    lengths give 0 (differences between correct answers are the paper's; a correct answer's margin over a
    wrong one grows by α/2). Values lie in (−α/2, α/2). ``alpha``: the paper's length weight, 0…0.4
    studied, 0.1 typical.

    >>> [round(v, 4) for v in efficiency([100, 300, 50], [True, True, False])]
    [0.0231, -0.0231, 0.0]
    """
    alpha = float(check_number("alpha", alpha))
    lengths, correct = check_group(lengths, correct)
    z = zscorer([n for n, c in zip(lengths, correct, strict=True) if c])
    return [
        0.0 - 0.5 * alpha * math.tanh(z(n) / 2) if c else 0.0 for n, c in zip(lengths, correct, strict=True)
    ]


def shortest_correct(
    lengths: Sequence[int], correct: Sequence[bool | None], *, alpha: float = 2.0, beta: float = 0.001
) -> list[float]:
    """−min(1, (β/α)·|L − SOL|), SOL = shortest correct length; ShorterBetter arXiv:2504.21370.

    The paper's reward is α·c − β·|L − SOL|; with our accuracy reward worth 1 for a correct answer this is
    that reward divided by α, minus c. Deviations: the penalty is capped at 1 (= the paper's α) so a long
    correct answer never totals below a wrong one, and a group with no correct item gets 0 everywhere (the
    paper then uses the group mean as SOL). Applies to wrong items too. ``alpha`` (> 0): the paper's
    reward for a correct answer; ``beta``: its penalty per token away from SOL.

    >>> shortest_correct([400, 1400, 100, 5000], [True, True, False, True])
    [0.0, -0.5, -0.15, -1.0]
    """
    alpha_q = check_number("alpha", alpha, strict=True)
    rate = check_number("beta", beta) / alpha_q
    lengths, correct = check_group(lengths, correct)
    right = [n for n, c in zip(lengths, correct, strict=True) if c]
    if not right:
        return [0.0] * len(lengths)
    sol = min(right)
    return [
        0.0 if c is None else 0.0 - capped(rate * abs(n - sol)) for n, c in zip(lengths, correct, strict=True)
    ]
