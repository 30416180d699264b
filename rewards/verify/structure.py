"""Structured answers made of plain numbers, decided without sympy: tuples and intervals (ordered, and
their brackets must match), sets and bare lists (unordered), matrices (same shape, cell by cell).
Elements may also be constants that ``fastpath`` reads (``\\sqrt{2}``, ``\\pi``, ``1+i``), compared as the
worker compares them. Anything with another element is left to the symbolic path (``None``: undecided).
``expand_pm`` writes an item with ``\\pm`` as its two values, for these readers and the worker's parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rewards.verify.fastpath import Side, constant, constants_equal, from_number
from rewards.verify.numeric import Number, numbers_equal, to_number

_MATRIX = re.compile(r"\\begin\{([pb]?matrix)\}(.*)\\end\{\1\}")
_INFINITY = {r"\infty": "inf", r"+\infty": "inf", r"-\infty": "-inf", "∞": "inf"}


def split_top(s: str, sep: str = ",") -> list[str]:
    r"""Split at ``sep`` outside any bracket pair.

    >>> split_top(r"(1,2),\{3,4\},5")
    ['(1,2)', '\\{3,4\\}', '5']
    """
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(s):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and s.startswith(sep, i):
            parts.append(s[start:i])
            start = i + len(sep)
    return [*parts, s[start:]]


def _shape(s: str) -> tuple[str, list[list[str]]] | None:
    """(kind, rows of element spans) for a tuple/interval, set, list or matrix; None for anything else."""
    if m := _MATRIX.fullmatch(s):
        return "matrix", [split_top(row, "&") for row in m.group(2).split(r"\\") if row]
    if s.startswith(r"\{") and s.endswith(r"\}"):
        return "set", [split_top(s[2:-2])]
    if s[:1] in "([" and s[-1:] in ")]" and len(inner := split_top(s[1:-1])) > 1:
        return s[0] + s[-1], [inner]
    if len(items := split_top(s)) > 1:
        return "list", [items]
    return None


class _Undecided(Exception):
    """Two elements the fast path cannot compare: the worker decides the whole answer."""


Element = Number | Side | str


def _element(span: str) -> Element | None:
    return _INFINITY.get(span) or to_number(span) or constant(span)


def _as_side(x: Number | Side) -> Side:
    if isinstance(x, Side):
        return x
    if x.percent:
        raise _Undecided
    return from_number(x.value, x.decimal)


def _same(x: Element, y: Element) -> bool:
    if isinstance(x, str) or isinstance(y, str):
        return x == y
    if isinstance(x, Number) and isinstance(y, Number):
        return numbers_equal(x, y)
    decided = constants_equal(_as_side(x), _as_side(y))
    if decided is None:
        raise _Undecided
    return decided


def match_unordered(xs: list, ys: list, same: Callable) -> bool:
    """Every x pairs with a distinct y that ``same`` accepts, none left over (greedy: equality is transitive).

    >>> match_unordered([1, 2, 2], [2, 1, 2], int.__eq__), match_unordered([1, 1], [1, 2], int.__eq__)
    (True, False)
    """
    left = list(ys)
    for x in xs:
        hit = next((k for k, y in enumerate(left) if same(x, y)), None)
        if hit is None:
            return False
        left.pop(hit)
    return not left


def structured_equal(gold: str, pred: str) -> bool | None:
    r"""True/False when both are structures of elements that decide (see ``_structured_equal``); else None.

    >>> structured_equal(r"\{\sqrt{2},-\sqrt{2}\}", r"\{-\sqrt{2},\frac{2}{\sqrt{2}}\}")
    True
    """
    try:
        return _structured_equal(gold, pred)
    except _Undecided:
        return None


def _structured_equal(gold: str, pred: str) -> bool | None:
    r"""True/False when both are number-only structures of a kind that decides; None otherwise.

    >>> structured_equal("(1,2]", "[1,2]"), structured_equal(r"\{1,2\}", r"\{2,1.0\}")
    (False, True)
    >>> structured_equal("1,2", "x") is None, structured_equal("(1,3)", "1,3")
    (True, True)
    >>> structured_equal("(1,3)", "3,1")
    False
    """
    g, p = _shape(gold), _shape(pred)
    if g is None or p is None:
        return None
    (g_kind, g_rows), (p_kind, p_rows) = g, p
    g_cells = [[_element(e) for e in row] for row in g_rows]
    p_cells = [[_element(e) for e in row] for row in p_rows]
    if any(c is None for row in g_cells + p_cells for c in row):
        return None  # a symbolic element: the worker decides
    if "set" in (g_kind, p_kind) and {g_kind, p_kind} <= {"set", "list"}:  # {1,1,2} = {1,2}
        xs, ys = g_cells[0], p_cells[0]
        return all(any(_same(x, y) for y in ys) for x in xs) and all(any(_same(x, y) for x in xs) for y in ys)
    if {g_kind, p_kind} == {"()", "list"}:  # (1,3) against 1,3 or {1,3}: the list read in its order
        g_kind = p_kind = "()"
    if g_kind != p_kind:
        return None if "list" in (g_kind, p_kind) else False
    if [len(r) for r in g_cells] != [len(r) for r in p_cells]:
        return False
    if g_kind == "list":
        return match_unordered(g_cells[0], p_cells[0], _same)
    pairs = (pair for gr, pr in zip(g_cells, p_cells, strict=True) for pair in zip(gr, pr, strict=True))
    return all(_same(x, y) for x, y in pairs)


_PM = re.compile(r"\\(?:pm|mp)(?![a-zA-Z])")


def expand_pm(text: str) -> str:
    r"""Each comma-separated item with one ``\pm`` becomes its two values (``\frac{-1 \pm \sqrt{13}}{4}``).

    >>> expand_pm(r"x = 1, x = 2 \pm \sqrt{3}")
    'x = 1, x = 2 + \\sqrt{3}, x = 2 - \\sqrt{3}'
    """
    if not _PM.search(text):
        return text
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch in "{([") - (ch in "})]")
        if ch == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    items.append(text[start:].strip())
    out = []
    for item in items:
        signs = _PM.findall(item)
        if len(signs) != 1:
            out.append(item)
            continue
        first, second = ("+", "-") if signs[0] == "\\pm" else ("-", "+")
        out += [_PM.sub(sign, item) for sign in (first, second)]
    return ", ".join(out)
