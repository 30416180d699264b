"""Exact numbers without sympy: integers, decimals, fractions, mixed numbers, repeating decimals,
scientific notation and percentages become ``fractions.Fraction`` through regexes (never ``eval``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

REL_TOL = Fraction(1, 10**9)  # relative tolerance when either side is written as a decimal; never absolute

_NUM = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?"
_PATTERNS = (
    re.compile(rf"(?P<a>{_NUM})"),
    re.compile(rf"(?P<a>{_NUM})/(?P<b>{_NUM})"),
    re.compile(rf"\\frac\{{(?P<a>{_NUM})\}}\{{(?P<b>{_NUM})\}}"),
    re.compile(rf"(?P<a>{_NUM})(?:\\times|\\cdot)10\^\{{?(?P<e>[+-]?\d{{1,3}})\}}?"),
    re.compile(r"(?P<a>)10\^\{?(?P<e>[+-]?\d{1,3})\}?"),
)
_MIXED = re.compile(r"(?P<w>\d+)\\frac\{(?P<a>\d+)\}\{(?P<b>\d+)\}")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,(?:\d{1,2}|\d{4,})%?")  # 1000,99 and 2,74; 1,000 is a thousand
_REPEATING = re.compile(r"(?P<i>\d*)\.(?P<f>\d*)(?:\\overline\{(?P<r>\d{1,12})\}|\((?P<p>\d{1,12})\))")


@dataclass(frozen=True)
class Number:
    value: Fraction
    decimal: bool  # written with a decimal point or exponent: compared with a relative tolerance
    percent: bool  # written with %: also stands for value / 100


def _unsigned(body: str) -> tuple[Fraction, bool] | None:
    for pattern in _PATTERNS:
        m = pattern.fullmatch(body)
        if m is None:
            continue
        a, b, e = m.group("a"), m.groupdict().get("b"), m.groupdict().get("e")
        if b is not None and Fraction(b) == 0:
            return None
        value = Fraction(a or 1) / (Fraction(b) if b else 1) * Fraction(10) ** int(e or 0)
        return value, e is not None or any(c in a + (b or "") for c in ".eE")
    if m := _MIXED.fullmatch(body):
        whole, num, den = int(m["w"]), int(m["a"]), int(m["b"])
        return (Fraction(whole) + Fraction(num, den), False) if 0 < num < den else None
    if m := _REPEATING.fullmatch(body):
        fixed, period = m["f"], m["r"] or m["p"]
        base = Fraction(int(m["i"] or 0)) + (Fraction(int(fixed), 10 ** len(fixed)) if fixed else 0)
        return base + Fraction(int(period), 10 ** len(fixed) * (10 ** len(period) - 1)), False
    return None


def to_number(s: str) -> Number | None:
    r"""The exact value of a normalised numeric span; None when it is not a plain number.

    >>> to_number(r"-2\frac{1}{2}").value, to_number(r"0.\overline{3}").value, to_number("1.5e3").value
    (Fraction(-5, 2), Fraction(1, 3), Fraction(1500, 1))
    >>> to_number("12.5%"), to_number("x") is None
    (Number(value=Fraction(25, 2), decimal=True, percent=True), True)
    """
    percent = s.endswith("%")
    s = s[:-1] if percent else s
    sign = -1 if s.startswith("-") else 1
    body = s[1:] if s[:1] in ("+", "-") else s
    parsed = _unsigned(body)
    if parsed is None:
        return None
    return Number(sign * parsed[0], parsed[1], percent)


def decimal_comma(s: str) -> Number | None:
    r"""A normalised span written with a decimal comma (``1000,99``, ``-2,5``) as its number, else None. Three
    digits after the comma are a thousands group, never decimals; the caller decides when a comma may be
    decimal at all (``1,5`` is also the list of 1 and 5).

    >>> decimal_comma("1000,99").value, decimal_comma("1,234"), decimal_comma("1,2,3")
    (Fraction(100099, 100), None, None)
    """
    return to_number(s.replace(",", ".")) if _DECIMAL_COMMA.fullmatch(s) else None


def _close(x: Fraction, y: Fraction, tolerant: bool) -> bool:
    return abs(x - y) <= REL_TOL * max(abs(x), abs(y)) if tolerant else x == y


def numbers_equal(gold: Number, pred: Number) -> bool:
    """Equal values; a side written with % may also be read as value/100 (25% = 0.25, but 25 != 0.25).

    >>> numbers_equal(to_number("25%"), to_number("0.25")), numbers_equal(to_number("25"), to_number("0.25"))
    (True, False)
    """
    tolerant = gold.decimal or pred.decimal
    golds = {gold.value, gold.value / 100} if gold.percent else {gold.value}
    preds = {pred.value, pred.value / 100} if pred.percent else {pred.value}
    return any(_close(x, y, tolerant) for x in golds for y in preds)


def as_latex(s: str) -> str:
    r"""A numeric span in a spelling the LaTeX parser reads as that number (``1.5e3`` is not LaTeX).

    >>> as_latex("1.5e-3"), as_latex("25%"), as_latex(r"\frac{1}{2}")
    ('1.5\\times10^{-3}', '25\\%', '\\frac{1}{2}')
    """
    s = re.sub(r"^([+-]?(?:\d+\.?\d*|\.\d+))[eE]([+-]?\d{1,3})$", r"\1\\times10^{\2}", s)
    return s.replace("%", r"\%")
