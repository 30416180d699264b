"""Cheap string checks that run before any sympy work: spans too long, too deeply nested, power towers,
huge exponents/factorials/binomials are refused; unevaluated calculus is not an answer (echo guard).
"""

from __future__ import annotations

import re

from rewards.verify.extract import braced

MAX_SPAN = 300  # longer answer spans are never parsed
MAX_DEPTH = 20
_ECHO = re.compile(
    r"\\(?:int|iint|oint|lim|sum|prod|partial)(?![a-zA-Z])|\\frac\{d\}|\\frac\{\\partial|d/d[a-z]"
)


def _tower_height(s: str) -> int:
    """Height of the tallest power tower: ``x^2`` is 1, ``2^{3^{4}}`` and ``2^3^4`` are 2."""
    best, i = 0, s.find("^")
    while i >= 0:
        height = 0
        while s[i : i + 1] == "^":
            j = i + 1  # spans are normalised: no whitespace before the exponent
            is_braced = s[j : j + 1] == "{"
            exponent = braced(s, j) if is_braced else s[j : j + 1]
            if exponent is None:
                return len(s)  # unclosed exponent group: treat as unbounded
            height += 1 + _tower_height(exponent)
            i = j + len(exponent) + (2 if is_braced else 1)
        best = max(best, height)
        i = s.find("^", i)
    return best


def _huge_inner_power(s: str) -> bool:
    """A numeric exponent that is itself a power above 10^4, e.g. ``10^{10^{10}}``."""
    for base, exp in re.findall(r"\^\{?-?(\d+)\^\{?-?(\d+)", s):
        if int(base) > 1 and int(exp) * len(base) > 4:
            return True
    return False


def too_complex(s: str) -> bool:
    """True for spans whose evaluation could eat unbounded time or memory.

    >>> too_complex("x^2+1"), too_complex("9^{9^{9^{9}}}"), too_complex("10^{10^{10}}"), too_complex("1000!")
    (False, True, True, True)
    """
    if len(s) > MAX_SPAN or re.search(r"\^\s*\{?\s*[+-]?\d{4,}", s):
        return True
    if any(int(n) > 100 for n in re.findall(r"(\d+)[})]?\s*!", s)) or re.search(r"[!^][^!]*[)}]\s*!", s):
        return True  # 101! and beyond, and factorials of factorials or powers: (99!)!, (9^9)!
    if re.search(r"\\binom\{[^{}]*(?:\^|\d{4})", s) or _huge_inner_power(s):
        return True
    depth = deepest = 0
    for ch in s:
        depth += (ch == "{") - (ch == "}") + (ch == "(") - (ch == ")")
        deepest = max(deepest, depth)
    return deepest > MAX_DEPTH or s.count("\\sqrt") > MAX_DEPTH or _tower_height(s) > 2


def is_echo(s: str) -> bool:
    r"""An unevaluated integral, limit, sum, product or derivative: it restates a problem, it answers none.

    >>> is_echo(r"\int_0^1 x dx"), is_echo(r"\frac{d}{dx}x^2"), is_echo(r"\frac{1}{2}")
    (True, True, False)
    """
    return _ECHO.search(s) is not None
