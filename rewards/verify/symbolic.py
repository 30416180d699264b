"""Symbolic equivalence, run inside a pool worker under a deadline (see ``pool``).

Both sides are parsed by the ANTLR LaTeX grammar of ``latex2sympy2_extended`` (no ``eval``, SLL first)
and compared structurally: sets unordered, tuples ordered, intervals with their open/closed ends, unions,
matrices, equations up to a constant factor, inequalities as the intervals they describe, ``x = 3`` as
``3``; plain expressions by exact identity, else at random rational points (Schwartz-Zippel), floats with
a relative tolerance. Only a bool (or None) leaves this module: no sympy object is ever printed outside
the deadline.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Iterator

from rewards.verify.structure import expand_pm, match_unordered
from rewards.verify.sums import limit_symbols, written_out

FLOAT_REL_TOL = 1e-9  # either side holds a float
EXACT_REL_TOL = 1e-30  # both exact, compared at _DIGITS digits
_POINTS = 4
_DIGITS = 60  # of each side's value in _close


def symbolic_equal(gold: str, pred: str | None) -> bool | None:
    """Worker entry: True/False for the pair, None when the gold does not parse."""
    try:
        a = _parse(gold)
    except Exception:
        return None
    if pred is None:
        return False
    if pred == gold:
        return True
    try:
        return _equal(a, _parse(pred))
    except Exception:
        return False


def clear_parse_cache() -> int:
    """Forget this worker's parses; returns its process id, which ``pool.clear_worker_caches`` counts."""
    import os

    _parse.cache_clear()
    return os.getpid()


def parse_cache_size() -> tuple[int, int]:
    """This worker's process id and the number of parses it holds (tests of the cache clearing)."""
    import os

    return os.getpid(), _parse.cache_info().currsize


@functools.lru_cache(maxsize=4096)  # a gold recurs in every sample of its group: parse it once per worker
def _parse(text: str):
    import sympy

    expr = _latex_to_sympy(text)
    if isinstance(expr, sympy.Basic) and sympy.Symbol("i") in expr.free_symbols:
        expr = expr.subs(sympy.Symbol("i"), sympy.I)  # the imaginary unit, as every answer key means it
    return expr


@functools.cache
def _converter_class():
    """latex2sympy2_extended's converter, with two changes: numbers are built without ``sympify`` (which
    would ``eval`` the token) and ANTLR first predicts in SLL mode, which is exact whenever it succeeds
    and about twice as fast as the full-context LL default."""
    import re

    import sympy
    from antlr4.atn.PredictionMode import PredictionMode
    from latex2sympy2_extended.latex2sympy2 import _Latex2Sympy

    integer, decimal = re.compile(r"[+-]?\d+"), re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

    class Converter(_Latex2Sympy):
        sll = True

        def create_parser(self, latex_str):
            parser = super().create_parser(latex_str)
            if self.sll:
                parser._interp.predictionMode = PredictionMode.SLL
            return parser

        def parse_number(self, text):
            text = text.replace(",", "").replace(" ", "")
            if integer.fullmatch(text):
                return sympy.Integer(int(text))
            if decimal.fullmatch(text):
                return sympy.Float(text)
            raise ValueError("not a number token")

    return Converter


_GREEK = "alpha|beta|gamma|delta|epsilon|theta|lambda|mu|nu|pi|rho|sigma|tau|phi|chi|psi|omega"
# x^2 is ambiguous in the grammar (a letter with a superscript, or a power of an expression): SLL then
# fails and full LL prediction costs 15-30 ms. {x}^2 means the same and parses in SLL mode in ~1 ms.
_BARE_BASE = re.compile(rf"(?<![\\A-Za-z])([A-Za-z]|\\(?:{_GREEK})(?![A-Za-z]))\^")


# a_{3} and x_1 are ambiguous too: SLL fails on every subscripted letter without a power, and full LL
# prediction then costs 5-80 ms. a_{3}^{1} parses in SLL mode (~1 ms); the unit powers are then removed.
_SUBSCRIPT = re.compile(
    r"(?:(?<![\\A-Za-z])|(?<=_[A-Za-z0-9]))([A-Za-z])_(\{[^{}^_]*\}|[A-Za-z0-9])(?![\s{]*\^)"
)


def _unit_power(m: re.Match) -> str:
    return m[1] + "_" + (m[2] if m[2][0] == "{" else "{" + m[2] + "}") + "^{1}"


def _without_unit_powers(expr):
    """``expr`` with every ``symbol**1`` (left unevaluated by the parser) replaced by the symbol."""
    import sympy

    if isinstance(expr, sympy.MatrixBase):
        return expr.applyfunc(_without_unit_powers)
    if not isinstance(expr, sympy.Basic):
        return expr
    return expr.replace(lambda e: e.is_Pow and e.base.is_Symbol and e.exp == 1, lambda e: e.base)


def _latex_to_sympy(text: str):
    """Normalise like ``latex2sympy`` does, parse in SLL mode, and retry in full LL mode on a syntax error."""
    from latex2sympy2_extended.latex2sympy2 import NormalizationConfig, comma_number_regex, normalize_latex

    text = _BARE_BASE.sub(r"{\1}^", normalize_latex(expand_pm(text), NormalizationConfig()))
    converter = _converter_class()()
    if comma_number_regex.match(text):  # 1,000 as a number, like latex2sympy, but without sympify
        return converter.parse_number(text.replace(",", ".") if text.lstrip().startswith("0") else text)
    marked = _SUBSCRIPT.sub(_unit_power, text)
    if marked != text:
        try:
            return _without_unit_powers(converter.parse(marked))
        except Exception:
            pass  # the text as written, below
    try:
        return converter.parse(text)
    except Exception:
        converter.sll = False
        return converter.parse(text)


_CALCULUS = ("Integral", "Derivative", "Limit", "Sum", "Product")


def _equal(a, b) -> bool:
    import sympy

    if a == b:
        return not (isinstance(a, sympy.Basic) and a.has(sympy.zoo, sympy.nan))  # 12:00 and 1:00 are no x/0
    if _unevaluated(b) and not _unevaluated(a):
        return False  # echo: \int_0^1 x dx is not the number it evaluates to
    if isinstance(a, sympy.Equality) and isinstance(b, sympy.Equality):
        return _equations_equal(a, b)  # before x = 3 turns into 3: x = 3 and y = 3 differ
    a, b = _as_value(a), _as_value(b)
    if _is_logic(a) or _is_logic(b):  # x > 2 and (2, \infty) describe the same set
        both = all(_is_logic(e) or isinstance(e, sympy.Set) for e in (a, b))
        return both and bool(_to_set(a) == _to_set(b))
    for kind, rule in (
        (sympy.MatrixBase, _matrices_equal),
        (sympy.FiniteSet, _sets_equal),
        (sympy.Tuple, _tuples_equal),
        (sympy.Interval, _intervals_equal),
        (sympy.Equality, _equations_equal),
    ):
        if isinstance(a, kind) or isinstance(b, kind):
            return isinstance(a, kind) and isinstance(b, kind) and rule(a, b)
    if isinstance(a, sympy.Set) and isinstance(b, sympy.Set):  # unions, complements: as sets
        if isinstance(a, sympy.Union) and isinstance(b, sympy.Union) and _sets_equal(a, b):
            return True
        return bool(a.symmetric_difference(b) == sympy.EmptySet)
    if isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr):
        return _expressions_equal(a, b)
    return False


def _unevaluated(expr) -> bool:
    import sympy

    return isinstance(expr, sympy.Basic) and any(expr.has(getattr(sympy, name)) for name in _CALCULUS)


def _as_value(expr):
    """``x = 3`` stands for ``3``; a set of such assignments for the set of values; ``2M`` for a matrix."""
    import sympy

    if isinstance(expr, sympy.MatrixExpr):
        return expr.as_explicit()

    if isinstance(expr, sympy.Equality) and isinstance(expr.lhs, sympy.Symbol):
        if expr.lhs not in expr.rhs.free_symbols and not expr.rhs.free_symbols:
            return expr.rhs
    if isinstance(expr, sympy.FiniteSet):
        return sympy.FiniteSet(*(_as_value(e) for e in expr.args), evaluate=False)
    return expr


def _is_logic(expr) -> bool:
    import sympy

    if isinstance(expr, sympy.Equality):
        return False
    return isinstance(expr, (sympy.core.relational.Relational, sympy.And, sympy.Or))


def _to_set(expr):
    """An inequality in one variable as the set it describes; sets unchanged."""
    import sympy

    if isinstance(expr, sympy.Set):
        return expr
    (symbol,) = expr.free_symbols
    if symbol.is_real is False:
        return sympy.EmptySet
    simple = _bound_interval(expr)
    return simple if simple is not None else expr.as_set()  # as_set runs the inequality solver: 20-90 ms


def _bound_interval(expr):
    """``x > 2``, ``2 <= x``, ``0 < x < 1``, ``|x| < 3`` as sets without the solver; else None."""
    import sympy
    from sympy.core import relational as rel

    if isinstance(expr, sympy.And):
        parts = [_bound_interval(arg) for arg in expr.args]
        subjects = {arg.lhs if arg.rhs.is_number else arg.rhs for arg in expr.args}  # 0<f(x), f(x)<1: one
        return None if None in parts or len(subjects) != 1 else sympy.Intersection(*parts)
    if not isinstance(expr, (rel.GreaterThan, rel.StrictGreaterThan, rel.LessThan, rel.StrictLessThan)):
        return None
    if expr.rhs.free_symbols and not expr.lhs.free_symbols:
        expr = expr.reversed  # 2 < x  ->  x > 2
    expr = _solved_linear(expr)  # -x > -1  ->  x < 1
    bound, strict = expr.rhs, isinstance(expr, (rel.StrictGreaterThan, rel.StrictLessThan))
    above = isinstance(expr, (rel.GreaterThan, rel.StrictGreaterThan))
    if bound.free_symbols or not bound.is_real:
        return None
    if isinstance(expr.lhs, sympy.Abs) and expr.lhs.args[0].is_Symbol and bound.is_nonnegative:
        if above:  # |x| > 3: outside [-3, 3]
            return sympy.Complement(sympy.Reals, sympy.Interval(-bound, bound, not strict, not strict))
        return sympy.Interval(-bound, bound, strict, strict)  # |x| < 3
    if not _is_subject(expr.lhs):
        return None
    if above:
        return sympy.Interval(bound, sympy.oo, left_open=strict, right_open=True)
    return sympy.Interval(-sympy.oo, bound, left_open=True, right_open=strict)


def _solved_linear(expr):
    """``a*x + b < c`` (one variable, numbers ``a != 0``, ``b``, ``c``) as ``x < (c - b)/a``, the relation
    flipped when ``a < 0``; anything else unchanged."""
    import sympy

    if _is_subject(expr.lhs) or isinstance(expr.lhs, sympy.Abs):
        return expr
    diff = expr.lhs - expr.rhs
    if len(diff.free_symbols) != 1 or diff.has(sympy.Abs):
        return expr
    (symbol,) = diff.free_symbols
    poly = diff.as_poly(symbol)
    if poly is None or poly.degree() != 1:
        return expr
    a, b = poly.all_coeffs()
    if not (a.is_number and b.is_number and a.is_real and b.is_real and a.is_nonzero):
        return expr
    kind = type(expr) if a.is_positive else type(expr.reversed)
    return kind(symbol, -b / a, evaluate=False)


def _is_subject(expr) -> bool:
    """What an inequality can bound: a variable ``x`` or an unknown function's value ``f(x)``."""
    from sympy.core.function import AppliedUndef

    return expr.is_Symbol or isinstance(expr, AppliedUndef)


def _sets_equal(a, b) -> bool:
    return match_unordered(list(a.args), list(b.args), _equal)


def _tuples_equal(a, b) -> bool:
    return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))


def _intervals_equal(a, b) -> bool:
    return (a.left_open, a.right_open) == (b.left_open, b.right_open) and (
        _equal(a.start, b.start) and _equal(a.end, b.end)
    )


def _matrices_equal(a, b) -> bool:
    return a.shape == b.shape and all(_equal(x, y) for x, y in zip(a, b, strict=True))


def _equations_equal(a, b) -> bool:
    """Same equation up to scaling: (lhs - rhs) of one is a fixed non-zero multiple of the other's."""
    da, db = a.lhs - a.rhs, b.lhs - b.rhs
    if da == 0 or db == 0:
        return da == db
    first = None
    for x, y in _at_points(da, db):  # lazily: a ratio that differs from the first ends the comparison
        if y == 0:
            continue
        if first is None:
            first = x / y
            if first == 0:
                return False
        elif not _close(x / y, first, EXACT_REL_TOL):
            return False
    return first is not None


def _expressions_equal(a, b) -> bool:
    import sympy

    if a - b == 0:
        return True
    tol = FLOAT_REL_TOL if (a.has(sympy.Float) or b.has(sympy.Float)) else EXACT_REL_TOL
    if not (a.free_symbols or b.free_symbols):
        return _close(a, b, tol)
    compared = 0
    for x, y in _at_points(a, b):  # lazily: a pair that differs ends the comparison
        if not _close(x, y, tol):
            return False
        compared += 1
    return compared == _POINTS


def _at_points(a, b) -> Iterator[tuple]:
    """(a, b) evaluated exactly at ``_POINTS`` random rational points where both are finite, one at a time."""
    import sympy

    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    counts = limit_symbols(a) | limit_symbols(b)  # n in \sum_{k=0}^{n-1}: a count, so an integer
    rng, found = random.Random(0), 0
    for _ in range(3 * _POINTS):
        draws = {s: (sympy.Integer(rng.randint(1, 97)), sympy.Integer(rng.randint(2, 13))) for s in symbols}
        point = {s: num if s in counts else num / den for s, (num, den) in draws.items()}
        x, y = written_out(a.subs(point)), written_out(b.subs(point))
        if _finite(x) and _finite(y):  # else a pole of one side: try another point
            yield x, y
            found += 1
            if found == _POINTS:
                return


def _finite(value) -> bool:
    import sympy

    return value.is_finite is not False and not value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


def _close(x, y, tol: float) -> bool:
    import sympy

    if not (_finite(x) and _finite(y)):
        return False  # equal infinities were caught by ==; zoo, nan or oo against a number are not equal
    if not (x.is_number and y.is_number):  # f(3) of an unknown f: no value, only a difference that cancels
        return x - y == 0
    # each side to 60 digits (evalf's relative accuracy): their difference is then exact to ~1e-59 of the
    # scale, far inside both tolerances, without evaluating x - y (whose cancellation costs evalf most)
    xv, yv = sympy.N(x, _DIGITS), sympy.N(y, _DIGITS)
    diff, scale = abs(xv - yv), max(abs(xv), abs(yv))
    if not (diff.is_finite and scale.is_finite):
        return False  # overflowed (e.g. (99!)!): no evidence of equality
    return bool(diff == 0 or diff <= tol * scale)
