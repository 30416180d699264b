r"""In-process comparison of sets of real numbers: linear inequalities in one variable (``x<1``, ``-x>-1``,
``2<x\leq5``), intervals and unions of intervals with rational ends (``[2,\infty)``, ``(-\infty,0)\cup(0,3]``)
and ``x\in`` such a set, decided as the worker decides them (``symbolic._to_set``: the set each side
describes; two intervals by their ends; unions as sets).

Each side is read into its canonical form, a sorted list of disjoint pieces ``(lo, lo_closed, hi,
hi_closed)``; equal sets have equal forms. The reader only accepts what the worker's parser reads to the
same set: linear sides with rational coefficients (read by ``fastpath``), rational or infinite ends, open
at infinity, non-empty pieces that neither overlap nor touch at a closed end (sympy would merge those, and
an interval against a union is then a matter of representation); anything else is None and goes to the
worker. Nothing is evaluated; the input is bounded by ``fastpath``'s limits.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from rewards.verify.exact import NotExact
from rewards.verify.fastpath import _names, _read
from rewards.verify.structure import split_top

Piece = tuple[float | Fraction, bool, float | Fraction, bool]  # (lo, lo_closed, hi, hi_closed)
MAX_PIECES = 16
_RELATION = re.compile(r"\\(?:leqslant|geqslant|leq|geq|le|ge|lt|gt)(?![A-Za-z])|<=|>=|<|>")
_BELOW = {"<", "<=", r"\lt", r"\le", r"\leq", r"\leqslant"}  # the rest: above
_STRICT = {"<", ">", r"\lt", r"\gt"}
_INTERVAL = re.compile(r"([(\[])(.*),(.*)([)\]])")
_MEMBER = re.compile(r"([a-df-hj-z])\\in(?![A-Za-z])(.*)")  # e, i: constants to the parser
_INFINITY = {r"\infty": math.inf, r"+\infty": math.inf, r"-\infty": -math.inf}


def _exact(text: str) -> dict:
    form, floats = _read(text)
    if floats:
        raise NotExact("a decimal")  # a sympy Float: Interval(0, 0.5) is not Interval(0, 1/2) to the worker
    return form


def _rational(text: str) -> Fraction:
    form = _exact(text)
    if _names(text) or any(key != (1, ()) for key in form):
        raise NotExact("not a rational number")
    return form.get((1, ()), Fraction(0))


def _end(text: str) -> float | Fraction:
    return _INFINITY[text] if text in _INFINITY else _rational(text)


def _interval(text: str) -> Piece:
    m = _INTERVAL.fullmatch(text)
    if m is None or "," in m.group(2) or "," in m.group(3):
        raise NotExact("not an interval")
    lo, hi = _end(m.group(2)), _end(m.group(3))
    lo_closed, hi_closed = m.group(1) == "[", m.group(4) == "]"
    if (lo_closed and lo == -math.inf) or (hi_closed and hi == math.inf) or math.inf in (lo, -hi):
        raise NotExact("closed at infinity, or infinite the wrong way")
    return _piece(lo, lo_closed, hi, hi_closed)


def _piece(lo: float | Fraction, lo_closed: bool, hi: float | Fraction, hi_closed: bool) -> Piece:
    if not lo < hi:
        raise NotExact("empty or a single point")  # sympy: EmptySet or a FiniteSet
    return lo, lo_closed, hi, hi_closed


def _union(text: str) -> list[Piece]:
    parts = text.split(r"\cup")
    if len(parts) > MAX_PIECES:
        raise NotExact("too many pieces")
    pieces = sorted((_interval(p) for p in parts), key=lambda p: (p[0], not p[1]))
    for (_, _, hi, hi_closed), (lo, lo_closed, _, _) in zip(pieces, pieces[1:], strict=False):
        if hi > lo or (hi == lo and (hi_closed or lo_closed)):
            raise NotExact("overlapping or touching pieces")  # sympy merges them
    return pieces


def _half_line(left: str, relation: str, right: str, letter: str) -> Piece:
    """The solutions of ``left relation right``, linear in ``letter`` with a non-zero coefficient."""
    lhs, rhs = _exact(left), _exact(right)
    diff = dict(lhs)
    for key, c in rhs.items():
        diff[key] = diff.get(key, 0) - c
    slope, constant = diff.pop((1, ((letter, 1),)), 0), diff.pop((1, ()), 0)
    if any(diff.values()) or not slope:
        raise NotExact("not linear in one variable")
    bound, below = -Fraction(constant) / slope, (relation in _BELOW) == (slope > 0)
    closed = relation not in _STRICT
    return (-math.inf, False, bound, closed) if below else (bound, closed, math.inf, False)


def _relations(text: str) -> list[Piece]:
    """``a < x``, ``a < x \\leq b``: the solution set, as one piece."""
    names = _names(text)
    pieces = _RELATION.split(text)
    relations = _RELATION.findall(text)
    if len(names) != 1 or not 1 <= len(relations) <= 2 or not all(p.strip() for p in pieces):
        raise NotExact("not a chain of inequalities in one variable")
    (letter,) = names
    lo, lo_closed, hi, hi_closed = -math.inf, False, math.inf, False
    for i, relation in enumerate(relations):
        a, a_closed, b, b_closed = _half_line(pieces[i], relation, pieces[i + 1], letter)
        if a > lo or (a == lo and not a_closed):
            lo, lo_closed = a, a_closed
        if b < hi or (b == hi and not b_closed):
            hi, hi_closed = b, b_closed
    return [_piece(lo, lo_closed, hi, hi_closed)]


def as_pieces(text: str) -> tuple[list[Piece], bool] | None:
    """(canonical pieces, whether the side is an inequality) of a normalised span, or None.

    >>> as_pieces("-x>-1") == as_pieces(r"x\\lt1")
    True
    >>> as_pieces(r"[0,1]\\cup[1,2]") is None, as_pieces("x<y") is None, as_pieces(r"x\\neq3") is None
    (True, True, True)
    """
    if len(text) > 300 or "=" in text.replace("<=", "").replace(">=", ""):
        return None
    try:
        if _RELATION.search(text):
            return _relations(text), True
        if m := _MEMBER.fullmatch(text):
            text = m.group(2)
        if len(split_top(text)) != 1:
            return None
        return _union(text), False
    except (NotExact, KeyError, ZeroDivisionError, OverflowError, ValueError):
        return None


def sets_equal(gold: str, pred: str | None) -> bool | None:
    """``symbolic.symbolic_equal`` for two sides that ``as_pieces`` reads; None otherwise (the worker
    decides). Two plain sets are decided as the worker's ``_equal`` does: an interval never equals a union
    (of two or more pieces), two intervals by their ends, two unions as sets (pieces are canonical)."""
    g = as_pieces(gold)
    if g is None:
        return None
    if pred is None or pred == gold:
        return pred is not None
    p = as_pieces(pred)
    members = bool(_MEMBER.match(gold)) + bool(_MEMBER.match(pred))
    if p is None or members == 2:
        return None  # two x\in: two equations to the worker
    if not (g[1] or p[1] or members) and (-math.inf, False, math.inf, False) in g[0] + p[0]:
        return None  # sympy's Interval(-oo, oo) is the set of reals, no interval
    return g[0] == p[0]  # two plain sets: an interval is no union; unions compare as sets
