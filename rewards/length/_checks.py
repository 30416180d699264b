"""Argument checks and exact group statistics shared by the length rewards.

Lengths are whole token counts and may be arbitrarily large Python ints, so statistics are computed with
exact rationals (``Fraction``) and only bounded quantities (ratios, z-scores, capped penalties) are turned
into floats: no overflow, no ``inf``/``nan``, whatever the input.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from fractions import Fraction


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not supported; choose one of {', '.join(map(repr, choices))}")


def _is_finite_real(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return isinstance(value, numbers.Integral) or math.isfinite(value)


def check_number(name: str, value: object, *, minimum: float = 0.0, strict: bool = False) -> Fraction:
    """``value`` as an exact rational; ValueError naming ``name`` unless finite and >= (or >) ``minimum``."""
    sign = ">" if strict else ">="
    if not _is_finite_real(value) or value < minimum or (strict and value == minimum):
        raise ValueError(f"{name}={value!r} must be a finite number {sign} {minimum:g}")
    return Fraction(int(value) if isinstance(value, numbers.Integral) else float(value))  # numpy -> Python


def check_group(
    lengths: Sequence[int], correct: Sequence[bool | None]
) -> tuple[list[int], list[bool | None]]:
    """Lengths as non-negative ints and correct flags as True/False/None, or ValueError naming the item."""
    if len(lengths) != len(correct):
        raise ValueError(f"lengths ({len(lengths)}) and correct ({len(correct)}) differ in length")
    ints = []
    for i, n in enumerate(lengths):
        integral = isinstance(n, numbers.Integral) or (isinstance(n, float) and n.is_integer())
        if isinstance(n, bool) or not integral or n < 0:
            raise ValueError(f"lengths[{i}]={n!r} must be a whole token count >= 0")
        ints.append(int(n))
    flags: list[bool | None] = []
    for i, c in enumerate(correct):
        if c is not None and (isinstance(c, str) or c not in (0, 1)):  # bools, 0/1, numpy bools
            raise ValueError(f"correct[{i}]={c!r} must be True, False or None")
        flags.append(None if c is None else bool(c))
    return ints, flags


def check_targets(targets: object, size: int) -> list[Fraction]:
    """One exact target length per item from a scalar or a sequence of ``size`` numbers >= 0."""
    if hasattr(targets, "__len__") and not isinstance(targets, (str, bytes)):  # list, tuple, numpy array
        if len(targets) != size:
            raise ValueError(
                f"targets has {len(targets)} values for {size} lengths; give one per item or one number"
            )
        return [check_number(f"targets[{i}]", t) for i, t in enumerate(targets)]
    return [check_number("targets", targets)] * size


def capped(value: Fraction, cap: float = 1.0) -> float:
    """``min(value, cap)`` as a float, exact for any size of ``value``."""
    return float(min(value, Fraction(cap)))


def zscorer(pool: Sequence[int]) -> Callable[[int], float]:
    """n -> (n - mean) / std over ``pool`` (population std; 0.0 when it is 0), exact before the float.

    For members of ``pool`` |z| <= sqrt(len(pool) - 1), so the result is always finite.

    >>> z = zscorer([1, 3])
    >>> z(1), z(3), zscorer([5, 5])(5)
    (-1.0, 1.0, 0.0)
    """
    mean = Fraction(sum(pool), len(pool)) if pool else Fraction(0)
    var = sum((Fraction(n) - mean) ** 2 for n in pool) / len(pool) if pool else Fraction(0)

    def z(n: int) -> float:
        if var == 0:
            return 0.0
        return math.copysign(math.sqrt(float((n - mean) ** 2 / var)), n - mean)

    return z
