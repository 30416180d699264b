r"""Matrices decided in process the way the worker decides them.

The worker's parser reads ``pmatrix``, ``bmatrix``, ``matrix`` and ``array`` (its column spec ignored)
as a matrix, also inside one pair of ``(…)``, ``[…]`` or ``\(…\)``; sums, differences and products of
matrices (juxtaposed, ``\cdot``, ``\times``) and a constant factor in front of one are evaluated
(``symbolic._as_value``), and two matrices are equal when their shapes are and every entry is
(``symbolic._matrices_equal``); a matrix never equals anything else. Read here: that grammar with entries
that are constants ``fastpath`` reads, without ``i`` (the parser leaves it a variable inside a matrix) and
without decimals where anything is computed (sympy's float arithmetic is not exact). Anything else is None
and goes to the worker. Shapes, terms and entries are bounded.
"""

from __future__ import annotations

import re
from fractions import Fraction

from rewards.verify.exact import Form, NotExact, add, mul, scale
from rewards.verify.fastpath import Side, constant, constants_equal, from_number
from rewards.verify.finite_sets import read_answer
from rewards.verify.structure import split_top

MAX_SIZE = 8  # rows and columns
MAX_LITERALS = 4
_LITERAL = re.compile(r"\\begin\{(pmatrix|bmatrix|matrix|array)\}(\{[lcr]+\})?(.*?)\\end\{\1\}")
_WRAPPERS = (("(", ")"), ("[", "]"), ("\\(", "\\)"))
_PRODUCT = ("", "\\cdot", "\\times")
_COMMANDS = re.compile(r"\\(?:begin|end)\{[a-z]+\}|\\[A-Za-z]+")

Matrix = tuple[tuple[Side, ...], ...]


def _literal(env: str, spec: str | None, body: str) -> Matrix:
    if (env == "array") != (spec is not None) or "\\begin" in body:
        raise NotExact("array without a column spec, or nested")
    rows = body.split("\\\\")
    if rows and rows[-1] == "":
        rows.pop()  # a trailing row break
    cells = [[constant(c) for c in split_top(row, "&")] for row in rows]
    if not cells or len(cells) > MAX_SIZE or any(len(r) != len(cells[0]) for r in cells):
        raise NotExact("ragged or too large")
    if len(cells[0]) > MAX_SIZE or any(c is None or c.names for r in cells for c in r):
        raise NotExact("an entry that is not a constant")
    return tuple(tuple(r) for r in cells)  # type: ignore[misc]


def _unwrapped(text: str) -> str:
    for opening, closing in _WRAPPERS:
        if text.startswith(opening) and text.endswith(closing):
            inner = text[len(opening) : len(text) - len(closing)]
            if _LITERAL.fullmatch(inner):
                return inner
    return text


def _sum(a: Matrix, b: Matrix) -> Matrix:
    if (len(a), len(a[0])) != (len(b), len(b[0])):
        raise NotExact("shapes differ")  # the parser raises
    return tuple(
        tuple(_side(add(x.value, y.value)) for x, y in zip(ra, rb, strict=True))
        for ra, rb in zip(a, b, strict=True)
    )


def _product(a: Matrix, b: Matrix) -> Matrix:
    if len(a[0]) != len(b):
        raise NotExact("shapes do not multiply")
    out = []
    for row in a:
        entries = []
        for j in range(len(b[0])):
            total: Form = {}
            for k, x in enumerate(row):
                total = add(total, mul(x.value, b[k][j].value))
            entries.append(_side(total))
        out.append(tuple(entries))
    return tuple(out)


def _side(value: Form) -> Side:
    return Side(value, None, False, frozenset())


def _scaled(factor: str, m: Matrix) -> Matrix:
    """``factor`` (a sign, a constant, or both) times ``m``."""
    sign = -1 if factor.startswith("-") else 1
    rest = factor[1:] if factor[:1] in "+-" else factor
    c = constant(rest) if rest else from_number(Fraction(1), False)
    if c is None or c.floats or "+" in rest or "-" in rest:
        raise NotExact("not a constant factor")
    value = scale(c.value, Fraction(sign))
    return tuple(tuple(_side(mul(value, x.value)) for x in row) for row in m)


def _evaluate(text: str) -> Matrix:
    """The matrix ``text`` evaluates to."""
    literals = list(_LITERAL.finditer(text))
    if not literals or len(literals) > MAX_LITERALS:
        raise NotExact("no matrix, or too many")
    gaps = [text[: literals[0].start()]]
    gaps += [text[a.end() : b.start()] for a, b in zip(literals, literals[1:], strict=False)]
    if text[literals[-1].end() :]:
        raise NotExact("something after the last matrix")
    matrices = [_literal(*literal.groups()) for literal in literals]
    floats = any(x.floats for m in matrices for row in m for x in row)
    if floats and (len(matrices) > 1 or gaps[0]):
        raise NotExact("decimals in a computed matrix")  # sympy's float arithmetic is not exact
    total, term = None, None
    for gap, m in zip(gaps, matrices, strict=True):
        if term is not None and gap in _PRODUCT:
            term = _product(term, m)
            continue
        if term is not None and gap[:1] not in "+-":
            raise NotExact("an operator between matrices")
        if term is not None:
            total = term if total is None else _sum(total, term)
        term = _scaled(gap, m) if gap else m
    return term if total is None else _sum(total, term)  # type: ignore[arg-type]


def read_matrix(text: str) -> Matrix | None:
    r"""The matrix a worker text stands for, or None when it is not read here.

    >>> m = read_matrix(r"2\begin{pmatrix}1&2\\3&4\end{pmatrix}-\begin{pmatrix}1&0\\0&1\end{pmatrix}")
    >>> [[x.value for x in row] for row in m] == [[{(1, ()): 1}, {(1, ()): 4}], [{(1, ()): 6}, {(1, ()): 7}]]
    True
    >>> read_matrix(r"\begin{pmatrix}i&1\end{pmatrix}") is None, read_matrix(r"\begin{vmatrix}1\end{vmatrix}")
    (True, None)
    """
    if "i" in _COMMANDS.sub("", text):
        return None  # the parser keeps i a variable inside a matrix
    try:
        return _evaluate(_unwrapped(text))
    except (NotExact, ZeroDivisionError, OverflowError, ValueError):
        return None


def matrices_equal(gold: str, pred: str | None) -> bool | None:
    r"""``symbolic.symbolic_equal`` for worker texts when one is a matrix ``read_matrix`` reads and the other
    is read too (a matrix, or a set, tuple, interval or value of ``finite_sets``); else None.

    >>> matrices_equal(r"\begin{pmatrix}1&2\end{pmatrix}", r"[\begin{array}{cc}1&\frac{4}{2}\end{array}]")
    True
    >>> matrices_equal(r"\begin{pmatrix}1\\2\end{pmatrix}", "(1,2)"), matrices_equal("(1,2)", "(1,2)") is None
    (False, True)
    """
    g, p = read_matrix(gold), None if pred is None else read_matrix(pred)
    if g is None and p is None:
        return None
    if g is not None and (pred is None or pred == gold):
        return pred is not None
    if g is None or p is None:  # a matrix against something else: False if the other is read
        other = gold if g is None else pred
        return False if read_answer(other) is not None else None  # type: ignore[arg-type]
    if (len(g), len(g[0])) != (len(p), len(p[0])):
        return False
    pairs = [(x, y) for rg, rp in zip(g, p, strict=True) for x, y in zip(rg, rp, strict=True)]
    verdicts = [constants_equal(x, y) for x, y in pairs]
    if False in verdicts:
        return False
    return None if None in verdicts else True
