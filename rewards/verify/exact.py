"""Exact normal forms for the fast path (``fastpath``): sums of rational multiples of monomials, where a
monomial is a square root of a squarefree integer (``-1`` is ``i``) times integer powers of atoms (``pi``,
``e`` and single-letter variables). Equal values have equal forms, except for relations among ``pi``, ``e``
and the variables that no answer relies on; every operation refuses (``TooBig``) instead of growing
past fixed bounds, and anything it cannot represent exactly (``1/(x+1)``, a cube root) is ``NotExact``.
"""

from __future__ import annotations

import cmath
import math
from fractions import Fraction

MAX_TERMS = 64  # terms of one form
MAX_BITS = 2048  # bits of a coefficient's numerator or denominator
MAX_EXPONENT = 64  # |power| of an atom in a monomial; also of a whole form
MAX_POWER = 999  # |power| of a monomial (2^{-99}); its coefficient still within MAX_BITS
MAX_RADICAND = 10**8  # square roots of larger integers are not reduced here
CONSTANTS = {"pi": math.pi, "e": math.e}

Atoms = tuple[tuple[str, int], ...]  # sorted (atom, non-zero exponent) pairs
Key = tuple[int, Atoms]  # (squarefree radicand, atoms)
Form = dict[Key, Fraction]  # no zero coefficients; {} is 0


class NotExact(Exception):
    """The value has no exact form here (the caller leaves it to the symbolic worker)."""


class TooBig(NotExact):
    """An operation would grow a form past the bounds."""


def _checked(form: Form) -> Form:
    if len(form) > MAX_TERMS:
        raise TooBig("too many terms")
    for c in form.values():
        if c.numerator.bit_length() > MAX_BITS or c.denominator.bit_length() > MAX_BITS:
            raise TooBig("coefficient too large")
    return form


def number(value: Fraction) -> Form:
    """The form of a rational number."""
    return _checked({(1, ()): value}) if value else {}


def atom(name: str) -> Form:
    return {(1, ((name, 1),)): Fraction(1)}


def add(a: Form, b: Form) -> Form:
    out = dict(a)
    for key, c in b.items():
        total = out.get(key, 0) + c
        if total:
            out[key] = total
        else:
            out.pop(key, None)
    return _checked(out)


def scale(a: Form, c: Fraction) -> Form:
    return _checked({key: v * c for key, v in a.items()}) if c else {}


def _mul_atoms(x: Atoms, y: Atoms) -> Atoms:
    powers = dict(x)
    for name, k in y:
        powers[name] = powers.get(name, 0) + k
        if abs(powers[name]) > MAX_EXPONENT:
            raise TooBig("exponent too large")
    return tuple(sorted((name, k) for name, k in powers.items() if k))


def _mul_roots(r: int, s: int) -> tuple[int, int]:
    """sqrt(r) * sqrt(s) = factor * sqrt(radicand) for squarefree r, s (principal roots: i * i = -1)."""
    g = math.gcd(abs(r), abs(s))
    factor = -g if r < 0 and s < 0 else g
    return factor, (r // g) * (s // g)


def mul(a: Form, b: Form) -> Form:
    if len(a) * len(b) > MAX_TERMS * MAX_TERMS:
        raise TooBig("product too large")
    out: Form = {}
    for (r, x), c in a.items():
        for (s, y), d in b.items():
            factor, radicand = _mul_roots(r, s)
            key = (radicand, _mul_atoms(x, y))
            out[key] = out.get(key, 0) + c * d * factor
    return _checked({key: c for key, c in out.items() if c})


def sqrt_of(value: Fraction) -> Form:
    """The square root of a rational number: ``sqrt(p/q) = sqrt(p*q)/q`` with the square part taken out."""
    radicand, den = value.numerator * value.denominator, value.denominator
    if abs(radicand) > MAX_RADICAND:
        raise TooBig("radicand too large")
    if radicand == 0:
        return {}
    outside, rest, k = 1, abs(radicand), 2
    while k * k <= rest:
        while rest % (k * k) == 0:
            outside, rest = outside * k, rest // (k * k)
        k += 1
    return {(rest if radicand > 0 else -rest, ()): Fraction(outside, den)}


def inverse(a: Form) -> Form:
    """``1/a`` for ``c*sqrt(r)*m`` or ``(p + q*sqrt(r))*m`` (``m`` a monomial of atoms); else NotExact."""
    if not a:
        raise NotExact("division by zero")
    atoms = {x for _, x in a}
    if len(atoms) != 1 or len(a) > 2:
        raise NotExact("not a monomial")
    (x,) = atoms
    inverse_atoms = tuple((name, -k) for name, k in x)
    if len(a) == 1:
        ((r, _), c) = next(iter(a.items()))
        return _checked({(r, inverse_atoms): 1 / (c * r)})  # 1/(c sqrt r) = sqrt(r)/(c r)
    roots = sorted(r for r, _ in a)
    if roots[0] != 1 and roots[1] != 1:
        raise NotExact("two roots")
    r = roots[1] if roots[0] == 1 else roots[0]
    p, q = a[(1, x)], a[(r, x)]
    norm = p * p - q * q * r  # (p + q sqrt r)(p - q sqrt r), non-zero: r is no square
    return _checked({(1, inverse_atoms): p / norm, (r, inverse_atoms): -q / norm})


def power(a: Form, k: int) -> Form:
    """``a ** k`` for an integer ``k``: a monomial up to ``|k| <= MAX_POWER`` (its size checked before it is
    computed), a sum only up to ``MAX_EXPONENT`` (and ``MAX_TERMS`` terms)."""
    if abs(k) > MAX_POWER:
        raise TooBig("exponent too large")
    if k < 0:
        return power(inverse(a), -k)
    if k == 0:
        if not a:
            raise NotExact("0^0")
        return number(Fraction(1))
    if len(a) == 1:
        ((r, x), c) = next(iter(a.items()))
        if max(c.numerator.bit_length(), c.denominator.bit_length(), abs(r).bit_length()) * k > MAX_BITS:
            raise TooBig("power too large")
        atoms = tuple((name, e * k) for name, e in x)
        if any(abs(e) > MAX_EXPONENT for _, e in atoms):
            raise TooBig("exponent too large")
        outside = Fraction(r) ** (k // 2)  # sqrt(r)^k = r^(k//2) * sqrt(r)^(k%2)
        return _checked({(r if k % 2 else 1, atoms): c**k * outside})
    if k > MAX_EXPONENT:
        raise TooBig("power of a sum too large")
    result, base = number(Fraction(1)), a
    while k:
        if k & 1:
            result = mul(result, base)
        k >>= 1
        if k:
            base = mul(base, base)
    return result


def variables(a: Form) -> set[str]:
    return {name for _, x in a for name, _ in x if name not in CONSTANTS}


def substitute(a: Form, point: dict[str, Fraction]) -> Form:
    """``a`` with each variable replaced by a positive rational."""
    out: Form = {}
    for (r, x), c in a.items():
        kept, factor = [], c
        for name, k in x:
            if name in point:
                factor *= point[name] ** k
            else:
                kept.append((name, k))
        key = (r, tuple(kept))
        out[key] = out.get(key, 0) + factor
    return _checked({key: c for key, c in out.items() if c})


def numeric(a: Form) -> tuple[complex, float]:
    """(value, sum of the terms' magnitudes) of a form without variables, in floating point."""
    total, size = 0j, 0.0
    try:
        for (r, x), c in a.items():
            term = float(c) * math.sqrt(abs(r)) * (1j if r < 0 else 1)
            for name, k in x:
                term *= CONSTANTS[name] ** k
            total += term
            size += abs(term)
    except OverflowError as exc:
        raise TooBig("overflow") from exc
    if not (cmath.isfinite(total) and math.isfinite(size)):
        raise TooBig("overflow")
    return total, size
