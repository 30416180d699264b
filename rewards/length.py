"""Group-relative length rewards: pay correct completions that are shorter than their group's mean.

Sources: Hung-yi Lee (2025), "RL 中如何控制推理长度" (lecture: sample several answers per prompt, only the
correct ones below the group's mean length earn a bonus); DRPO, arXiv:2510.04474 (mean over correct answers).
Everything here is pure Python and works on one group (one prompt's samples) at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence

MODES = ("discrete", "continuous")
MEAN_OVER = ("all", "correct")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not supported; choose one of {', '.join(map(repr, choices))}")


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
    _check_choice("mode", mode, MODES)
    _check_choice("mean_over", mean_over, MEAN_OVER)
    if not weight >= 0 or not math.isfinite(weight):
        raise ValueError(f"weight={weight!r} must be a finite number >= 0")
    if not clip >= 0 or not math.isfinite(clip):
        raise ValueError(f"clip={clip!r} must be a finite number >= 0")
    if len(lengths) != len(correct):
        raise ValueError(f"lengths ({len(lengths)}) and correct ({len(correct)}) differ in length")
    used = [n for n, c in zip(lengths, correct, strict=True) if c is not None and (c or mean_over == "all")]
    bonus = [0.0] * len(lengths)
    if not used:
        return bonus
    total, count = sum(used), len(used)
    mean = total / count
    std = math.sqrt(sum((n - mean) ** 2 for n in used) / count)
    for i, (n, c) in enumerate(zip(lengths, correct, strict=True)):
        if c and n * count < total:  # exact "strictly below the mean" for integer lengths
            if mode == "discrete":
                bonus[i] = float(weight)
            elif std > 0:
                bonus[i] = weight * min(max((mean - n) / std, 0.0), clip)
    return bonus


def apply_per_group(
    fn: Callable[..., list[float]],
    group_ids: Sequence[Hashable],
    lengths: Sequence[int],
    correct: Sequence[bool | None],
    **params: object,
) -> list[float]:
    """out[i] = fn(group of i)[rank of i in it]: split a flat batch by explicit group id, never by position.

    >>> apply_per_group(below_mean_bonus, ["a", "b", "a", "b"], [10, 5, 30, 50], [True, True, True, True])
    [1.0, 1.0, 0.0, 0.0]
    """
    if not len(group_ids) == len(lengths) == len(correct):
        sizes = f"group_ids ({len(group_ids)}), lengths ({len(lengths)}), correct ({len(correct)})"
        raise ValueError(f"{sizes} differ in length")
    members: dict[Hashable, list[int]] = {}
    for i, gid in enumerate(group_ids):
        members.setdefault(gid, []).append(i)
    out = [0.0] * len(lengths)
    for gid, indices in members.items():
        values = fn([lengths[i] for i in indices], [correct[i] for i in indices], **params)
        if len(values) != len(indices):
            raise ValueError(f"{fn!r} returned {len(values)} values for group {gid!r} of size {len(indices)}")
        for i, value in zip(indices, values, strict=True):
            out[i] = value
    return out
