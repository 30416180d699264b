r"""The in-process fast path of the symbolic comparison: a small recursive-descent reader of LaTeX
arithmetic (integers, decimals, ``\frac``, ``a/b`` and ``a:b``, products, small integer powers, square
roots of rationals, ``\pi``, ``e``, ``i``, single-letter variables, one ``=``; ``204_5`` is ``204`` to the
parser, ``a(b+1)`` a product) into exact normal forms (``exact``), compared the way ``symbolic`` compares
the parsed expressions (same tolerances, same random points). It decides only what it reads completely
and what it can decide for certain; for anything else it answers None and the pair goes to the worker
pool as before. Nothing is evaluated: the reader only builds forms, under bounds on digits, nesting,
terms, coefficient size and exponents (``exact``).

Every string it reads is a subset of what the worker's LaTeX parser reads (so a gold it reads parses),
and is read with that parser's meaning: ``2/3x`` is ``2/(3x)`` there, ``2\frac{1}{2}`` a mixed number,
``dx`` one symbol, ``f(x)`` a function call; such spellings are left to the worker.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from fractions import Fraction

from rewards.verify.exact import (
    Form,
    NotExact,
    TooBig,
    add,
    atom,
    inverse,
    mul,
    number,
    numeric,
    power,
    scale,
    sqrt_of,
    substitute,
    variables,
)

MAX_DIGITS = 40  # digits of one number literal
MAX_DEPTH = 20  # nested groups
MAX_ROOT = 10  # \sqrt[n]{...}: largest n
_POINTS = 4  # as symbolic._POINTS: random points compared when variables remain
_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?(?:_(?:\d|\{\d{1,3}\}))?|\\[A-Za-z]+|[a-z]|[-+*/:^(){}\[\]])")
_LETTER_RUN = re.compile(r"(?<![\\A-Za-z])[A-Za-z]+")
_PARSER_WORDS = frozenset({"and", "eig", "eye", "gcd", "inf", "lcm", "pct", "svd"})
_MULTIPLY = ("*", "\\cdot", "\\times")
_DIVIDE = ("/", ":")  # 3:2 is 3/2 to the parser, with the same precedence
_FACTOR_START = re.compile(r"\d|[a-z]$|\\(?:frac|sqrt|pi)$|[({]$")


@dataclass(frozen=True)
class Side:
    """One side as read: a value (``lhs`` None) or an equation ``lhs = value``."""

    value: Form
    lhs: Form | None
    floats: bool  # a decimal literal: compared with the float tolerance
    names: frozenset[str]  # variable letters as written
    lhs_text: str = ""
    rhs_names: frozenset[str] = frozenset()


class _Reader:
    def __init__(self, text: str):
        self.tokens, self.i, self.depth = _tokens(text), 0, 0
        self.floats = False

    def peek(self) -> str:
        return self.tokens[self.i] if self.i < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if not token or (expected is not None and token != expected):
            raise NotExact(f"expected {expected!r}")
        self.i += 1
        return token

    def expr(self) -> Form:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TooBig("nested too deeply")
        sign = -1 if self.peek() == "-" else 1
        if self.peek() in "+-":
            self.take()
        total = scale(self.term(), Fraction(sign))
        while self.peek() in ("+", "-") and self.peek():
            sign = -1 if self.take() == "-" else 1
            total = add(total, scale(self.term(), Fraction(sign)))
        self.depth -= 1
        return total

    def term(self) -> Form:
        value, divided = self.factor(), False
        while self.peek():
            token = self.peek()
            if token in _MULTIPLY or token in _DIVIDE:
                self.take()
                divided = divided or token in _DIVIDE
                other = self.factor()
                value = mul(value, inverse(other) if token in _DIVIDE else other)
            elif _FACTOR_START.match(token):
                if divided or token[0].isdigit():
                    raise NotExact("implicit product after '/' or before a number")  # 2/3x = 2/(3x)
                value = mul(value, self.factor())
            else:
                break
        return value

    def factor(self) -> Form:
        start = self.peek()
        base = self.base()
        if self.peek() != "^":
            return base
        if start in ("\\frac", "\\sqrt"):
            raise NotExact("power of a fraction or root")
        self.take("^")
        exponent = self.exponent()
        if self.peek() == "^":
            raise NotExact("power tower")  # 2^3^2 is (2^3)^2 to the parser
        return power(base, exponent)

    def exponent(self) -> int:
        token = self.take()
        if token.isdigit() and len(token) == 1:
            return int(token)  # x^23 is x^2 * 3
        if token != "{":
            raise NotExact("exponent")
        sign = -1 if self.peek() == "-" else 1
        if self.peek() in ("+", "-") and self.peek():
            self.take()
        digits = self.take()
        self.take("}")
        if not digits.isdigit() or len(digits) > 3:
            raise NotExact("exponent")
        return sign * int(digits)

    def base(self) -> Form:
        token = self.take()
        if token[0].isdigit():
            token, subscript, _ = token.partition("_")
            if subscript and ("." in token or self.peek() not in ("", "+", "-")):
                raise NotExact("subscript of a decimal, or not a whole term")
            if len(token) > MAX_DIGITS + 1:
                raise TooBig("number too long")  # 204_5 is 204 to the parser: it drops a number's subscript
            if self.peek() in ("\\frac", "."):
                raise NotExact("mixed number")  # 2\frac{1}{2} is 5/2 to the parser
            self.floats = self.floats or "." in token
            return number(Fraction(token))
        if token in ("(", "{"):
            value = self.expr()
            self.take(")" if token == "(" else "}")
            return value
        if token == "\\pi":
            return atom("pi")
        if token == "\\frac":
            num, den = self.group(), self.group()
            return mul(num, inverse(den))
        if token == "\\sqrt":
            return self.root()
        if len(token) == 1 and token.isalpha():
            if self.peek()[:1].isdigit() or self.call():
                raise NotExact("subscript or function call")  # x2, f(x)
            return {(-1, ()): Fraction(1)} if token == "i" else atom(token)
        raise NotExact(f"token {token!r}")

    def call(self) -> bool:
        """Whether ``(`` follows with one token before its ``)``: the parser reads ``a(x)``, ``a(2)`` as a
        function's value but ``a(x+1)``, ``a(-2)``, ``a(2x)`` as products (which ``term`` reads)."""
        after = self.tokens[self.i + 1 : self.i + 3]
        return self.peek() == "(" and (not after or after[0] == ")" or after[1:] == [")"])

    def group(self) -> Form:
        self.take("{")
        value = self.expr()
        self.take("}")
        return value

    def root(self) -> Form:
        index = 2
        if self.peek() == "[":
            self.take("[")
            token = self.take()
            self.take("]")
            if not token.isdigit() or not 2 <= int(token) <= MAX_ROOT:
                raise NotExact("root index")
            index = int(token)
        radicand = self.group()
        if radicand and set(radicand) != {(1, ())}:
            raise NotExact("root of a non-rational")
        value = radicand.get((1, ()), Fraction(0))
        return sqrt_of(value) if index == 2 else number(_exact_root(value, index))


def _exact_root(value: Fraction, n: int) -> Fraction:
    """The rational n-th root of a non-negative rational when it has one."""
    if value < 0:
        raise NotExact("odd root of a negative number")  # the parser's principal root is complex
    roots = [round(part ** (1 / n)) for part in (value.numerator, value.denominator)]
    if any(r**n != part for r, part in zip(roots, (value.numerator, value.denominator), strict=True)):
        raise NotExact("no rational root")
    return Fraction(roots[0], roots[1])


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise NotExact("unknown character")
        tokens.append(m.group(1))
        pos = m.end()
    for run in _LETTER_RUN.findall(text):
        if len(run) > 3 or "d" in run[:-1] or "or" in run or "tr" in run or run in _PARSER_WORDS:
            raise NotExact("letters the parser reads as one name or word")  # dx, tr, or
    return tokens


def _read(text: str) -> tuple[Form, bool]:
    if len(text) > 300:
        raise TooBig("too long")
    reader = _Reader(text)
    value = reader.expr()
    if reader.peek():
        raise NotExact("trailing tokens")
    return value, reader.floats


def read_side(text: str) -> Side | None:
    r"""The side as read, or None when the fast path cannot read it (the worker decides).

    >>> read_side(r"\frac{\sqrt{8}}{2}").value == read_side(r"\sqrt{2}").value
    True
    >>> read_side("2/3x") is None, read_side("10^{10^{10}}") is None, read_side(r"\sin x") is None
    (True, True, True)
    """
    try:
        names = _names(text)
        if "=" not in text:
            value, floats = _read(text)
            return Side(value, None, floats, names)
        left, _, right = text.partition("=")
        (lhs, f1), (rhs, f2) = _read(left), _read(right)
        if not variables(add(lhs, scale(rhs, Fraction(-1)))):
            return None  # the parser's Eq of two constants is a boolean
        return Side(rhs, lhs, f1 or f2, names, left, _names(right))
    except NotExact:
        return None
    except (ZeroDivisionError, OverflowError, ValueError):
        return None


def _names(text: str) -> frozenset[str]:
    """The variable letters as written (``\\pi`` holds no variable ``p``; ``e`` and ``i`` are constants)."""
    return frozenset(re.findall(r"[a-z]", re.sub(r"\\[A-Za-z]+", " ", text))) - {"e", "i"}


def _points(names: frozenset[str]) -> list[dict[str, Fraction]]:
    """``symbolic._at_points``' first points: the same generator, seed and draws (all finite here)."""
    rng, symbols = random.Random(0), sorted(names)
    draw = rng.randint
    return [{s: Fraction(draw(1, 97)) / Fraction(draw(2, 13)) for s in symbols} for _ in range(_POINTS)]


def _close(a: Form, b: Form, floats: bool) -> bool | None:
    """``symbolic._close`` for forms without variables: relative 1e-9 with floats, else exact; None when
    floating point cannot tell which side of the tolerance the difference lies."""
    diff_form = add(a, scale(b, Fraction(-1)))
    if not diff_form:
        return True
    diff, size = numeric(diff_form)
    bound = max(abs(numeric(a)[0]), abs(numeric(b)[0]))
    error = 1e-13 * size  # rounding of the terms' sum
    if floats:
        if abs(diff) + error <= 0.9e-9 * bound:
            return True
        return False if abs(diff) - error >= 1.1e-9 * bound else None
    return False if abs(diff) > 1e-9 * size and abs(diff) > 1e-12 * bound else None


def _all_close(pairs: list[tuple[Form, Form]], floats: bool) -> bool | None:
    verdicts = [_close(x, y, floats) for x, y in pairs]
    if False in verdicts:
        return False
    return None if None in verdicts else True


def _expressions_equal(a: Form, b: Form, floats: bool, names: frozenset[str]) -> bool | None:
    """``symbolic._expressions_equal``: identical forms, else at the worker's random points."""
    if not add(a, scale(b, Fraction(-1))):
        return True
    if not (variables(a) or variables(b)):
        return _close(a, b, floats)
    points = _points(names)
    return _all_close([(substitute(a, p), substitute(b, p)) for p in points], floats)


def _equations_equal(a: Side, b: Side, names: frozenset[str]) -> bool | None:
    """``symbolic._equations_equal``: (lhs - rhs) of one a fixed non-zero multiple of the other's."""
    if a.floats or b.floats:
        return None  # the parser's binary floats make the ratios differ in the 17th digit
    da, db = (add(s.lhs or {}, scale(s.value, Fraction(-1))) for s in (a, b))
    ratios = []
    for p in _points(names):
        x, y = substitute(da, p), substitute(db, p)
        if y:
            ratios.append(mul(x, inverse(y)))
    if not ratios or not ratios[0]:
        return False
    return _all_close([(r, ratios[0]) for r in ratios], False)


def _as_value(side: Side) -> Side:
    """``x = 3`` stands for ``3`` when the left side is one variable and the right side has none."""
    left = side.lhs_text.strip()
    if side.lhs is not None and re.fullmatch(r"[a-z]", left) and left not in "ei" and not side.rhs_names:
        return Side(side.value, None, side.floats, frozenset())
    return side


def constant(span: str) -> Side | None:
    """A span read as a value without variables (an element of a set, tuple or matrix), else None."""
    side = read_side(span)
    return side if side is not None and side.lhs is None and not side.names else None


def from_number(value: Fraction, decimal: bool) -> Side:
    """A plain number (``numeric.Number``) as a side."""
    return Side(number(value), None, decimal, frozenset())


def constants_equal(a: Side, b: Side) -> bool | None:
    """Two ``constant`` sides compared as the worker compares two numbers; None: the worker decides."""
    try:
        return _expressions_equal(a.value, b.value, a.floats or b.floats, frozenset())
    except (NotExact, ZeroDivisionError, OverflowError):
        return None


def values_equal(a: Side, b: Side) -> bool | None:
    """Two value sides (no equation; variables allowed) compared as the worker compares two expressions."""
    try:
        return _expressions_equal(a.value, b.value, a.floats or b.floats, a.names | b.names)
    except (NotExact, ZeroDivisionError, OverflowError):
        return None


def fast_equal(gold: str, pred: str | None) -> bool | None:
    r"""``symbolic.symbolic_equal(gold, pred)`` decided in process, or None when the worker must decide.

    >>> fast_equal(r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt{2}}"), fast_equal("(x+1)^2", "x^2+2x+1")
    (True, True)
    >>> fast_equal("3+4i", "3-4i"), fast_equal("y=2x+1", "2x-y+1=0"), fast_equal(r"\pi", "3.14")
    (False, True, False)
    >>> fast_equal(r"\sin x", r"\sin x") is None, fast_equal("2", None), fast_equal("x/(x+1)", "1") is None
    (True, False, True)
    """
    g = read_side(gold)
    if g is None:
        return None  # the gold may not even parse: the worker says
    if pred is None or pred == gold:
        return pred is not None
    p = read_side(pred)
    if p is None:
        return None
    try:
        if g.lhs is not None and p.lhs is not None:
            return _equations_equal(g, p, g.names | p.names)
        g, p = _as_value(g), _as_value(p)
        if g.lhs is not None or p.lhs is not None:
            return False  # an equation is no value
        return _expressions_equal(g.value, p.value, g.floats or p.floats, g.names | p.names)
    except (NotExact, ZeroDivisionError, OverflowError):
        return None
