"""Accuracy-constrained length control: a relative bonus scaled by a multiplier that falls as soon as
the measured accuracy of a difficulty level drops more than ε below its reference.

The problem solved: shortest length subject to accuracy >= reference - ε, per level. Its Lagrangian
relaxation pays ``λ_level × bonus`` and moves λ by projected dual ascent on the constraint's slack, so the
length term fades out on a level whose answers start failing and comes back while they stay right.
``constrained_bonus`` is the per-group term (a length reward like the others); ``ConstraintState`` and
``dual_update`` are the per-level state the TRL adapter keeps across steps, pure and JSON-able;
``level_counts`` is the accuracy each update is given.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from rewards.length._checks import check_number
from rewards.length.relative import below_mean_bonus
from rewards.length.reliable import unpaid


def constrained_bonus(
    lengths: Sequence[int],
    correct: Sequence[bool | None],
    *,
    multiplier: float = 1.0,
    mode: str = "continuous",
    mean_over: str = "correct",
    clip: float = 1.0,
    unreliable: Collection[int] = (),
    saturation: float | None = None,
) -> list[float]:
    """λ·clip((mean_c − L)/std_c, 0, clip) for correct L < mean_c; DRPO arXiv:2510.04474, times a Lagrange λ.

    ``multiplier`` (λ in [0, 1]) is its level's current multiplier, which the adapter keeps (see
    :func:`dual_update`); the rest is :func:`below_mean_bonus` with DRPO's choice of statistics, the mean
    and std of the group's *correct* lengths, so a wrong sample never moves the bar. ``unreliable``: the
    length bins that fail at this level (:func:`~rewards.length.reliable.unreliable_bins`); answers in them
    earn nothing and stay out of the statistics. ``saturation`` (a share in (0, 1], None: off): a group
    where at least that share of the paid-for right answers earn a bonus pays none, so a prompt whose
    samples are already mostly short stops pushing its last long ones (with per-group std scaling a lone
    long sample among short ones gets an advantage near −√(n−1), whatever the bonus's size).

    >>> [round(v, 3) for v in constrained_bonus([13, 40, 40, 90], [True, True, True, False])]
    [1.0, 0.0, 0.0, 0.0]
    >>> [round(v, 3) for v in constrained_bonus([13, 40, 67], [True] * 3, multiplier=0.5)]
    [0.5, 0.0, 0.0]
    >>> [round(v, 3) for v in constrained_bonus([45, 130, 150, 170], [True] * 4, unreliable={17})]
    [0.0, 1.0, 0.0, 0.0]
    >>> [round(v, 2) for v in constrained_bonus([13] * 5 + [90] * 3, [True] * 8, saturation=0.75)]
    [0.77, 0.77, 0.77, 0.77, 0.77, 0.0, 0.0, 0.0]
    >>> constrained_bonus([13] * 6 + [90] * 2, [True] * 8, saturation=0.75)  # 6 of 8 short: converged
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    lam = float(check_number("multiplier", multiplier))
    if lam > 1:
        raise ValueError(f"multiplier={multiplier!r} must be in [0, 1]")
    if saturation is not None and not (_real(saturation) and 0 < saturation <= 1):
        raise ValueError(f"saturation={saturation!r} must be {RANGES['saturation']}")
    kept = unpaid(lengths, correct, unreliable) if unreliable else correct
    bonus = below_mean_bonus(lengths, kept, weight=lam, mode=mode, mean_over=mean_over, clip=clip)
    right = sum(bool(c) for c in kept)
    if saturation is not None and right and sum(b > 0 for b in bonus) >= saturation * right:
        return [0.0] * len(bonus)
    return bonus


@dataclass(frozen=True)
class ConstraintState:
    """One level's constraint: the reference accuracy (measured over the first steps), a running estimate
    of the current accuracy and the multiplier λ. ``steps`` counts the updates seen."""

    multiplier: float = 0.0
    reference: float | None = None
    accuracy: float | None = None
    steps: int = 0
    reference_correct: int = 0
    reference_scored: int = 0

    def floor(self, epsilon: float) -> float | None:
        """The accuracy this level must keep: reference − ε (None while the reference is measured)."""
        return None if self.reference is None else self.reference - epsilon


def dual_update(
    state: ConstraintState,
    correct: int,
    scored: int,
    *,
    epsilon: float = 0.02,
    step_size: float = 20.0,
    reference_steps: int = 4,
    decay: float = 0.75,
    reference: str = "start",
    start_multiplier: float = 0.0,
) -> ConstraintState:
    """λ ← clip(λ + η·(â − (a_ref − ε)), 0, 1), â an EMA of the level's accuracy: projected dual ascent.

    For the first ``reference_steps`` updates λ stays ``start_multiplier`` (at 0 accuracy alone is trained;
    at 1 the length term is on from the first step) and the pooled accuracy of those steps becomes the
    reference ``a_ref`` (the starting policy's, at its sampling temperature).
    After that each step's accuracy ``correct / scored`` enters the estimate ``â`` with weight
    ``1 − decay``, and λ moves by ``step_size`` × the slack ``â − floor``: it grows while the level stays
    above its floor and shrinks, down to 0, as soon as it is below. A step without scored items changes
    nothing. ``reference="best"`` raises the reference to every higher running accuracy (the best so far),
    so a level that improved and then slips loses its length term too; ``"start"`` keeps the first one.

    >>> s = ConstraintState()
    >>> for _ in range(4):
    ...     s = dual_update(s, 19, 20)
    >>> s.reference, s.multiplier
    (0.95, 0.0)
    >>> s = dual_update(s, 20, 20)           # above the floor 0.93: λ grows
    >>> round(s.accuracy, 3), round(s.multiplier, 2)
    (0.962, 0.65)
    >>> s = dual_update(dual_update(s, 15, 20), 15, 20)  # 75 % right: λ back to 0
    >>> round(s.accuracy, 3), s.multiplier
    (0.87, 0.0)
    """
    check_constraint(epsilon=epsilon, step_size=step_size, reference_steps=reference_steps, decay=decay,
                     reference=reference, start_multiplier=start_multiplier)  # fmt: skip
    if scored <= 0:
        return state
    if state.steps < reference_steps:
        hits, seen = state.reference_correct + correct, state.reference_scored + scored
        done = state.steps + 1 == reference_steps
        ref = hits / seen if done else None
        return replace(
            state,
            steps=state.steps + 1,
            reference_correct=hits,
            reference_scored=seen,
            reference=ref,
            accuracy=ref,
            multiplier=start_multiplier,
        )
    estimate = decay * state.accuracy + (1 - decay) * correct / scored
    ref = max(state.reference, estimate) if reference == "best" else state.reference
    slack = estimate - (ref - epsilon)
    lam = min(1.0, max(0.0, state.multiplier + step_size * slack))
    return replace(state, steps=state.steps + 1, accuracy=estimate, multiplier=lam, reference=ref)


def level_counts(
    levels: Sequence[str],
    groups: Sequence[object],
    correct: Sequence[bool | None],
    *,
    measure: str = "samples",
) -> dict[str, tuple[int, int]]:
    """Per level, (right, scored) in a batch: what each level's :func:`dual_update` is given.

    ``measure="samples"`` counts every sampled answer with a parsable gold. ``"majority"`` counts prompt
    groups (``groups``: one key per item): a group is right when more than half its scored answers are, a
    stand-in for the greedy answer the eval scores. A model's mistakes on a prompt repeat across its samples,
    so a group goes wrong once a failing style is most of its samples, while a few wrong samples of another
    style (a short style learned at an easier level) leave it right.

    >>> levels, groups = ["2"] * 8 + ["3"] * 4, ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    >>> correct = [True, True, True, False] + [True] * 4 + [True, False, False, True]
    >>> level_counts(levels, groups, correct), level_counts(levels, groups, correct, measure="majority")
    ({'2': (7, 8), '3': (2, 4)}, {'2': (2, 2), '3': (0, 1)})
    """
    if measure not in MEASURES:
        raise ValueError(f"measure={measure!r} must be {RANGES['measure']}")
    verdicts: dict[tuple[str, object], list[bool]] = {}
    for lvl, key, c in zip(levels, groups, correct, strict=True):
        if c is not None:
            verdicts.setdefault((lvl, key), []).append(bool(c))
    counts: dict[str, tuple[int, int]] = {}
    for (lvl, _), group in verdicts.items():
        right = sum(group)
        hits, scored = (int(2 * right > len(group)), 1) if measure == "majority" else (right, len(group))
        before = counts.get(lvl, (0, 0))
        counts[lvl] = (before[0] + hits, before[1] + scored)
    return counts


MEASURES = ("samples", "majority")  # what a level's accuracy counts (see level_counts)
REFERENCES = ("start", "best")  # the reference accuracy: the first steps' pooled one, or the best since

# Valid ranges of the constraint's parameters (checked at ``rl-reasoner check`` through the adapter).
RANGES = {
    "epsilon": "a number in [0, 1] (allowed accuracy drop below the reference, as a fraction)",
    "step_size": "a number in (0, 1000] (multiplier change per unit of accuracy slack per step)",
    "reference_steps": "a whole number >= 1 (steps whose pooled accuracy is the reference)",
    "decay": "a number in [0, 1) (weight of the past in the running accuracy)",
    "reference": f"one of {REFERENCES} (the first steps' pooled accuracy, or the best running one since)",
    "start_multiplier": "a number in [0, 1] (the multiplier while the reference is measured)",
    "measure": f"one of {MEASURES} (every sampled answer, or each prompt group's majority verdict)",
    "saturation": "null or a number in (0, 1] (share of a group's right answers earning a bonus at which "
    "the group pays none)",
}


def check_constraint(
    *,
    epsilon: float,
    step_size: float,
    reference_steps: int,
    decay: float,
    reference: str = "start",
    start_multiplier: float = 0.0,
) -> None:
    """ValueError naming the first parameter outside :data:`RANGES`."""
    ok = {
        "epsilon": _real(epsilon) and 0 <= epsilon <= 1,
        "step_size": _real(step_size) and 0 < step_size <= 1000,
        "reference_steps": isinstance(reference_steps, int)
        and not isinstance(reference_steps, bool)
        and reference_steps >= 1,
        "decay": _real(decay) and 0 <= decay < 1,
        "reference": reference in REFERENCES,
        "start_multiplier": _real(start_multiplier) and 0 <= start_multiplier <= 1,
    }
    values = {
        "epsilon": epsilon,
        "step_size": step_size,
        "reference_steps": reference_steps,
        "decay": decay,
        "reference": reference,
        "start_multiplier": start_multiplier,
    }
    for name, good in ok.items():
        if not good:
            raise ValueError(f"{name}={values[name]!r} must be {RANGES[name]}")


def _real(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
