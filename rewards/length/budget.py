"""Length terms against a fixed budget or target: each item is scored on its own length.

They do not give 0 for a group of equal lengths (the term is then the same for all items of equal
correctness, so it shifts the group and carries no length signal). ``l1_max`` and ``truncation`` touch
correct items only (correctness-gated); ``l1_exact``, ``soft_overlong``, ``cosine`` and ``absolute`` score
wrong items too, as in their papers. Items whose ``correct`` is None get 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from rewards.length._checks import capped, check_group, check_number, check_targets


def l1_exact(
    lengths: Sequence[int],
    correct: Sequence[bool | None],
    *,
    targets: float | Sequence[float] = 4000,
    alpha: float = 3e-4,
) -> list[float]:
    """−min(1, α·|target − L|); L1/LCPO-Exact (Aggarwal & Welleck 2025, arXiv:2503.04697).

    The paper's reward is c − α·|n_gold − L|, applied to wrong items too. Deviation: the penalty is capped
    at 1 (beyond 1/α = 3333 tokens off at the default), so a correct answer never totals below a wrong one.
    ``targets``: the length asked for in the prompt, one per item or a scalar for all (the paper samples it
    from 100…4000 per prompt; the default 4000 is that range's top).

    >>> [round(v, 4) for v in l1_exact([900, 1100, 9000], [True, False, True], targets=1000)]
    [-0.03, -0.03, -1.0]
    """
    alpha_q = check_number("alpha", alpha)
    lengths, correct = check_group(lengths, correct)
    goals = check_targets(targets, len(lengths))
    return [
        0.0 if c is None else 0.0 - capped(alpha_q * abs(t - n))
        for n, c, t in zip(lengths, correct, goals, strict=True)
    ]


def l1_max(
    lengths: Sequence[int],
    correct: Sequence[bool | None],
    *,
    targets: float | Sequence[float] = 4000,
    alpha: float = 3e-4,
    delta: float = 0.5,
) -> list[float]:
    """c·(clip(α·(target − L) + δ, 0, 1) − 1); L1/LCPO-Max (Aggarwal & Welleck 2025, arXiv:2503.04697).

    The paper's reward is c·clip(α·(n_gold − L) + δ, 0, 1); with our accuracy reward (1 for correct) added,
    the total is exactly that. Wrong items get 0 (gated). Values lie in [-1, 0]. ``targets``: as in
    ``l1_exact``; ``delta``: the reward fraction at L = target.

    >>> [round(v, 4) for v in l1_max([1000, 2000, 5000, 100], [True, True, True, False], targets=1000)]
    [-0.5, -0.8, -1.0, 0.0]
    """
    alpha_q = check_number("alpha", alpha)
    delta_q = check_number("delta", delta)
    lengths, correct = check_group(lengths, correct)
    goals = check_targets(targets, len(lengths))
    out = []
    for n, c, t in zip(lengths, correct, goals, strict=True):
        share = min(max(alpha_q * (t - n) + delta_q, Fraction(0)), Fraction(1))
        out.append(float(share - 1) if c else 0.0)
    return out


def soft_overlong(
    lengths: Sequence[int], correct: Sequence[bool | None], *, max_len: int = 20480, buffer_len: int = 4096
) -> list[float]:
    """0 if L ≤ Lmax − Lcache, (Lmax − Lcache − L)/Lcache in the buffer, −1 above Lmax; DAPO arXiv:2503.14476.

    Scores wrong items too, as in DAPO. ``max_len``: Lmax, the generation limit (set it to GRPOConfig's
    ``max_completion_length``); ``buffer_len``: Lcache, the soft-penalty zone before it (0: a hard -1 above
    ``max_len``). DAPO's overlong filtering is GRPOConfig ``mask_truncated_completions``.

    >>> soft_overlong([100, 18432, 20480, 30000], [True, False, True, None])
    [0.0, -0.5, -1.0, 0.0]
    """
    limit = check_number("max_len", max_len, strict=True)
    buffer = check_number("buffer_len", buffer_len)
    if buffer > limit:
        raise ValueError(f"buffer_len={buffer_len!r} must be <= max_len={max_len!r}")
    lengths, correct = check_group(lengths, correct)
    out = []
    for n, c in zip(lengths, correct, strict=True):
        if c is None or n <= limit - buffer:
            out.append(0.0)
        else:
            out.append(-1.0 if n > limit else float((limit - buffer - n) / buffer))
    return out


def truncation(lengths: Sequence[int], correct: Sequence[bool | None], *, budget: int = 4000) -> list[float]:
    """−c·[L > budget]: a correct answer over the budget totals 0 with accuracy; DLER arXiv:2510.15110.

    DLER gives reward 0 to any completion over the budget; as a length term added to our accuracy reward
    (1 for correct, 0 for wrong) that is −1 for a correct item over the budget and 0 otherwise, so it only
    touches correct items (gated). ``budget``: token budget (DLER: 4000). DLER's other parts are trainer
    settings: batch-level reward normalisation is GRPOConfig ``scale_rewards="batch"``.

    >>> truncation([3000, 5000, 5000], [True, True, False])
    [0.0, -1.0, 0.0]
    """
    limit = check_number("budget", budget)
    lengths, correct = check_group(lengths, correct)
    return [-1.0 if c and n > limit else 0.0 for n, c in zip(lengths, correct, strict=True)]


def cosine(
    lengths: Sequence[int],
    correct: Sequence[bool | None],
    *,
    max_len: int = 1000,
    correct_at_0: float = 1.0,
    correct_at_max: float = 0.5,
    wrong_at_0: float = -1.0,
    wrong_at_max: float = -0.5,
) -> list[float]:
    """R − c, R = r_L + ½(r_0 − r_L)(1 + cos(π·min(L, Lmax)/Lmax)); Yeo et al. arXiv:2502.03373.

    R is the cosine-scaled reward (r_0 at L = 0, r_L at L ≥ Lmax; correct: ``correct_at_0``/``_at_max``,
    wrong: ``wrong_at_0``/``_at_max``; defaults as in open-r1's implementation); subtracting c makes
    accuracy + this term equal R. L is clamped to ``max_len`` (the unclamped cosine wraps around and
    rewards very long answers again; the paper adds a separate exceed penalty instead). Wrong items are
    scored too: with these defaults a longer wrong answer loses less, as in the paper. ValueError unless
    every correct value >= every wrong value, so a correct answer never totals below a wrong one.

    >>> cosine([0, 500, 1000, 4000], [True, True, False, False])
    [0.0, -0.25, -0.5, -0.5]
    """
    limit = float(check_number("max_len", max_len, strict=True))
    ends = {
        name: float(check_number(name, value, minimum=-math.inf))
        for name, value in (
            ("correct_at_0", correct_at_0),
            ("correct_at_max", correct_at_max),
            ("wrong_at_0", wrong_at_0),
            ("wrong_at_max", wrong_at_max),
        )
    }
    if min(correct_at_0, correct_at_max) < max(wrong_at_0, wrong_at_max):
        raise ValueError(f"cosine needs every correct_at_* >= every wrong_at_*, got {ends}")
    lengths, correct = check_group(lengths, correct)
    out = []
    for n, c in zip(lengths, correct, strict=True):
        if c is None:
            out.append(0.0)
            continue
        kind = "correct" if c else "wrong"
        r0, r_max = ends[f"{kind}_at_0"], ends[f"{kind}_at_max"]
        progress = min(n, limit) / limit
        out.append(r_max + 0.5 * (r0 - r_max) * (1.0 + math.cos(math.pi * progress)) - float(c))
    return out


def absolute(
    lengths: Sequence[int], correct: Sequence[bool | None], *, alpha: float = 1e-4, max_len: int = 10000
) -> list[float]:
    """−α·min(L, max_len): naive per-token penalty (baseline; ALP arXiv:2506.05256 scales it by solve rate).

    Scores wrong items too. Capping L at ``max_len`` keeps it bounded; at the defaults α·max_len = 1, so a
    correct answer never totals below a wrong one (keep α·max_len ≤ 1 for that).

    >>> absolute([0, 2500, 50000], [True, False, True])
    [0.0, -0.25, -1.0]
    """
    alpha_q = check_number("alpha", alpha)
    limit = check_number("max_len", max_len)
    lengths, correct = check_group(lengths, correct)
    return [
        0.0 if c is None else 0.0 - float(alpha_q * min(n, limit))
        for n, c in zip(lengths, correct, strict=True)
    ]
