r"""Comma lists, tuples and intervals decided in process the way the worker decides them.

What the worker's parser (latex2sympy, ``symbolic``) makes of them, and what is read here:

- ``a, b, c`` (two or more items) and ``\{a, b\}`` are a finite set: its items deduplicated as written,
  then matched unordered (``symbolic._sets_equal``); a set never equals anything but a set.
- ``(a, b)`` and ``\(a, b\)`` are the open interval when ``a < b``, else the pair; ``[a, b]`` the closed
  interval when ``a < b``, the pair when ``a > b``; ``(a, b]`` and ``[a, b)`` are intervals when ``a < b``.
  Ends and pair items are real constants without decimals; anything else is declined.
- ``(a, b, c)`` and ``[a, b, c]`` are tuples of constants, compared in order; so is ``(a; b)``, a pair
  even when ``a < b``. ``a; b`` is ``a, b`` where no ``,`` is at the same level.
- Every other item is a value that ``fastpath`` reads (variables allowed), compared as the worker
  compares two expressions (``fastpath.values_equal``). ``x = 1, y = 2`` (every item an assignment of a
  constant to one letter) is the set of the values; ``n = 1, 2, 3`` is the parser's ``Eq(n, {1, 2, 3})``,
  which stands for the set against anything but another such equation (``symbolic._as_value``).

Items of different kinds (value, tuple, interval) are never equal, as in ``symbolic._equal``. Two items of
one side that are equal but written differently are declined: whether the parser's set merges them
depends on how sympy builds them. The text read is the one the worker parses (``worker_text``): ``\pm``
expanded into both values and doubled command backslashes halved. Anything unread is None and goes to the
worker; reading is bounded by ``fastpath``'s limits and ``MAX_ITEMS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rewards.verify.exact import NotExact, add, numeric, scale
from rewards.verify.fastpath import Side, _as_value, constant, read_side, values_equal
from rewards.verify.structure import expand_pm, match_unordered, split_top

MAX_ITEMS = 24
MAX_CHARS = 300
_SLASH_FIX = re.compile(r"\\\\(?=[a-zA-Z])")  # latex2sympy's command_slash_fix_regex
_COMMA_NUMBER = re.compile(r"^\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*$")  # latex2sympy's comma_number_regex
_BRACKETS = {"(": ")", "[": "]", "\\(": "\\)"}


def worker_text(text: str | None) -> str | None:
    r"""The text the worker's parser reads: ``\pm`` items expanded (``structure.expand_pm``), then doubled
    command backslashes halved unless it holds a matrix (latex2sympy's ``normalize_latex``).

    >>> worker_text(r"\(\\frac{1}{5},2\)"), worker_text(r"1\pm\sqrt{2}")
    ('\\(\\frac{1}{5},2\\)', '1+\\sqrt{2}, 1-\\sqrt{2}')
    """
    if text is None:
        return None
    text = expand_pm(text)
    return text if "matrix" in text else _SLASH_FIX.sub(r"\\", text)


class _Undecided(Exception):
    """Read, but the comparison cannot be decided here: the worker decides."""


@dataclass(frozen=True)
class Item:
    kind: str  # "value", "tuple" or "interval"
    parts: tuple[Side, ...]
    text: str
    closed: tuple[bool, bool] = (False, False)  # an interval's ends
    assigned: bool = False  # written x = value


@dataclass(frozen=True)
class Answer:
    is_set: bool
    items: tuple[Item, ...]
    equation: bool = False  # n = 1, 2, 3: the parser's Eq(n, {1, 2, 3})


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch in "([{") - (ch in ")]}")
        if depth < 0:
            return False
    return depth == 0


def _delimited(text: str) -> tuple[str, str, str] | None:
    """(opening, inside, closing) of ``(…)``, ``[…]``, ``\\(…\\)``, ``(…]``, ``[…)``; else None."""
    opening = "\\(" if text.startswith("\\(") else text[:1]
    closing = "\\)" if text.endswith("\\)") else text[-1:]
    if opening not in _BRACKETS or closing not in _BRACKETS.values():
        return None
    if ("\\" in opening) != ("\\" in closing):
        return None  # \( pairs with \) only
    inside = text[len(opening) : len(text) - len(closing)]
    return (opening, inside, closing) if _balanced(inside) else None


def _sign(a: Side, b: Side) -> int:
    """The sign of ``b - a`` for real constants; NotExact when floating point cannot tell."""
    diff = add(b.value, scale(a.value, -1))
    if not diff:
        return 0
    value, size = numeric(diff)
    if value.imag or abs(value.real) <= 1e-12 * size:
        raise NotExact("not real, or too close to call")
    return 1 if value.real > 0 else -1


def _pair(opening: str, closing: str, sides: list[Side], text: str) -> Item:
    """``symbolic``'s parser: an interval unless it would be empty (then the pair, for ``()`` and ``[]``)."""
    if any(s.floats for s in sides) or "i" in re.sub(r"\\[A-Za-z]+", "", text):
        raise NotExact("decimals or i in a pair")  # sympy compares floats exactly; i is no real end
    sign = _sign(*sides)
    closed = (opening == "[", closing == "]")
    if sign > 0:
        return Item("interval", tuple(sides), text, closed)
    if closed == (False, False) or (closed == (True, True) and sign < 0):
        return Item("tuple", tuple(sides), text)
    raise NotExact("an empty interval or a single point")


def _split(text: str) -> tuple[list[str], bool]:
    """The items at top level, and whether ``;`` separates them (the parser reads ``a;b`` as ``a,b`` when
    there is no ``,`` at that level; a mix is not read here)."""
    commas, semicolons = split_top(text), split_top(text, ";")
    if len(commas) > 1 and len(semicolons) > 1:
        raise NotExact("both , and ;")
    return (semicolons, True) if len(semicolons) > 1 else (commas, False)


def _item(text: str) -> Item:
    text = text.strip()
    delimited = _delimited(text)
    parts, semicolons = _split(delimited[1]) if delimited else ([text], False)
    if delimited is None or len(parts) == 1:
        side = read_side(text)  # (1+2) is a value; [3] and \(3\) are not read
        value = None if side is None else _as_value(side)  # x = 3 stands for 3, as in symbolic._as_value
        if value is None or value.lhs is not None:
            raise NotExact("not a value")
        return Item("value", (value,), text, assigned=side.lhs is not None)  # type: ignore[union-attr]
    opening, _, closing = delimited
    sides = [constant(p) for p in parts]
    if any(s is None for s in sides):
        raise NotExact("not a tuple of constants")
    if semicolons:
        if (opening, closing) != ("(", ")"):
            raise NotExact("; in brackets")
        return Item("tuple", tuple(sides), text)  # type: ignore[arg-type]  # (1;2) is a pair
    if len(parts) == 2:
        return _pair(opening, closing, sides, text)  # type: ignore[arg-type]
    if _BRACKETS[opening] != closing:
        raise NotExact("tuple with mixed brackets")
    return Item("tuple", tuple(sides), text)  # type: ignore[arg-type]


def read_answer(text: str) -> Answer | None:
    r"""A list, set, tuple or interval as the worker reads it (see the module docstring), else None.

    >>> [i.kind for i in read_answer("(1,2),(2,1),(1,2,3)").items]
    ['interval', 'tuple', 'tuple']
    >>> read_answer("1,000") is None, read_answer("(i,1)") is None, read_answer(r"\{\{1\}\}") is None
    (True, True, True)
    """
    if len(text) > MAX_CHARS or _COMMA_NUMBER.match(text):
        return None  # 1,000 is a number to the parser
    braces = text.startswith("\\{") and text.endswith("\\}")
    try:
        parts, semicolons = _split(text[2:-2] if braces else text)
        if len(parts) > MAX_ITEMS:
            return None
        items = tuple(_item(p) for p in parts)
        assigned = [item.assigned for item in items]
        if not any(assigned):
            return Answer(braces or len(parts) > 1, items)
        if len(items) < 2 or braces or semicolons:
            return None  # one assignment: fastpath's; in braces: not read here
        if all(assigned):
            return Answer(True, items)  # x = 1, x = 2: the set of the values
        if assigned[0] and not any(assigned[1:]) and all(item.kind == "value" for item in items):
            return Answer(True, items, equation=True)
        return None
    except (NotExact, ZeroDivisionError, OverflowError, ValueError):
        return None


def _items_equal(x: Item, y: Item) -> bool:
    """``symbolic._equal`` on two items; ``_Undecided`` when a comparison does not decide."""
    if x.kind != y.kind or len(x.parts) != len(y.parts) or x.closed != y.closed:
        return False
    for a, b in zip(x.parts, y.parts, strict=True):
        same = values_equal(a, b)
        if same is None:
            raise _Undecided
        if not same:
            return False
    return True


def _distinct(items: tuple[Item, ...]) -> list[Item]:
    """The set's elements: repeats written identically merge; equal items written differently decline."""
    out: list[Item] = []
    for item in items:
        if any(o.text == item.text for o in out):
            continue
        if any(_items_equal(o, item) for o in out):
            raise _Undecided
        out.append(item)
    return out


def lists_equal(gold: str, pred: str | None) -> bool | None:
    r"""``symbolic.symbolic_equal`` for two worker texts (``worker_text``) when one is a set, tuple or
    interval that ``read_answer`` reads and the other is read too; else None (the worker decides).

    >>> lists_equal("(2,1),(1,2)", "(1,2),(2,1),(1,2)"), lists_equal("2", "-3,2")
    (True, False)
    >>> lists_equal("(1,2)", "(1,2]"), lists_equal("(1,2)", "[1,2]")
    (False, False)
    >>> lists_equal("x+1,x-1", "x-1,1+x"), lists_equal("1,2", "(1,2)"), lists_equal("2", "3") is None
    (True, False, True)
    """
    g = read_answer(gold)
    if g is None:
        return None
    if pred is None or pred == gold:
        return pred is not None
    p = read_answer(pred)
    if p is None or (not (g.is_set or p.is_set) and g.items[0].kind == p.items[0].kind == "value"):
        return None  # two plain values: fastpath's, which declined
    if g.equation and p.equation:
        return None  # two equations to the worker (symbolic._equations_equal)
    try:
        if g.is_set != p.is_set:
            return False
        if not g.is_set:
            return _items_equal(g.items[0], p.items[0])
        return match_unordered(_distinct(g.items), _distinct(p.items), _items_equal)
    except _Undecided:
        return None
