"""Canonical spelling of an answer span, before any comparison: spacing, units, ``$``, ``\\left``/``\\right``,
thousands separators, ``\\dfrac`` and a trailing full stop are dropped; ``%`` is kept (whether it matters
depends on the gold, see ``numeric``); ``\\%``, "percent", "percentage" or "pct" after a number become ``%``.
"""

from __future__ import annotations

import re

from rewards.verify.extract import braced
from rewards.verify.structure import split_top

_REMOVE = (r"\!", r"\,", r"\;", r"\:", "~", r"\$", "$", r"\quad", r"\qquad")
_UNITS = re.compile(
    r"\\(?:text|textbf|textrm|textit|textnormal|textup|textsf|mbox|mathrm|mathbf|operatorname)\s*"
    r"\{([^{}]*)\}(?:\^\{?\d\}?)?"
)
_CONJUNCTION = re.compile(r",?\s*\\text\{\s*(?:and|or)\s*\}\s*|,?\s+(?:and|or)\s+")  # "1, 2, and 3" too
_CONSTANT = re.compile(r"\\math(?:rm|it)\s*\{\s*([ei])\s*\}")  # \mathrm{e}: Euler's number, not a unit
_CHOICE_TEXT = re.compile(r"^\\text(?:bf|rm)?\{\s*(\([A-J]\))\s*\}")
# 1,000 and 1,000.5, but not 12,102 inside brackets (a pair) nor "32, 349" (a list: decided before spaces go)
_THOUSANDS = re.compile(r"(?<![\d.,(\[])([1-9]\d{0,2})((?:,\d{3})+)(?![\d,)\]])")
_TEX_SPACED_COMMA = re.compile(r"(?<=\d),(?:\\[!,;:]|~)\s*(?=\d)")  # 32,\! 349: a thousands comma
_PERCENT_WORD = r"(?:percent(?:age)?|pct)\b"
# 28 pct, 28\text{ percent}: 28%
_PERCENT = re.compile(rf"(\d)\s*(?:\\text\{{\s*{_PERCENT_WORD}\s*\}}|{_PERCENT_WORD})", re.IGNORECASE)
_SUBSCRIPT = re.compile(r"_(?:\{[^{}]*\}|\w)")
_CHOICE = re.compile(r"\(?([A-J])\)?[.:]?|\(([A-J])\).*")


def normalize(span: str) -> str:
    r"""Canonical spelling of an answer span.

    >>> normalize(r"$1\,000\text{ cm}.$"), normalize(r"x = \dfrac 1 2"), normalize("1,234,567")
    ('1000', 'x=\\frac{1}{2}', '1234567')
    >>> normalize(r"50\%"), normalize(r"90^\circ"), normalize(r"1{,}000"), normalize("28 percent")
    ('50%', '90', '1000', '28%')
    """
    s = span.strip().replace("\u2212", "-").replace("\u03c0", "\\pi ").replace("{,}", ",")
    s = re.sub(r"\\(?:left|right|displaystyle|big|Big|bigl|bigr|Bigl|Bigr)(?![a-zA-Z])", "", s)
    s = s.replace(r"\dfrac", r"\frac").replace(r"\tfrac", r"\frac").replace(r"\le ", r"\leq ")
    s = _CONJUNCTION.sub(",", _CONSTANT.sub(r"\1", s))  # "1 and 2" is a list
    s = _CHOICE_TEXT.sub(r"\1", s)  # \text{(A)} 12 is a choice
    s = _TEX_SPACED_COMMA.sub(",", s)
    for token in _REMOVE:
        s = s.replace(token, "")
    s = re.sub(r"(?<!\\)\\ ", "", s)  # a spacing "\ ", but not the row break "\\ " of a matrix
    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?|\\circ", "", s).replace(r"\%", "%")
    s = _PERCENT.sub(r"\1%", s)
    without_units = _UNITS.sub("", s).strip()
    s = without_units if re.search(r"[\w\\]", without_units) else _UNITS.sub(r"\1", s)
    s = re.sub(r"(\\[a-zA-Z]+)\s+(?=[a-zA-Z])", "\\1\x00", s)  # `\pi r` keeps its separating space
    s = _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), s)  # "1,000", never "32, 349"
    s = re.sub(r"\s+", "", s).replace("\x00", " ")
    s = s.rstrip(".")
    s = re.sub(r"\\(frac|sqrt)(\d)", r"\\\1{\2}", s)
    return _unwrap_group(re.sub(r"\\frac(\{[^{}]*\})(\d)", r"\\frac\1{\2}", s))


def _unwrap_group(s: str) -> str:
    """``{1,2}`` -> ``1,2``: a TeX group around the whole span only groups (a set is ``\\{1,2\\}``)."""
    for _ in range(3):
        if not (s.startswith("{") and s.endswith("}") and braced(s, 0) == s[1:-1]):
            break
        s = s[1:-1]
    return s


def choice_letter(span: str) -> str | None:
    """The letter of a multiple-choice answer (``B``, ``(B)``, ``B.``), else None.

    >>> choice_letter("(B)"), choice_letter("B."), choice_letter("(C)5"), choice_letter("AB")
    ('B', 'B', 'C', None)
    """
    m = _CHOICE.fullmatch(span)
    return (m.group(1) or m.group(2)) if m else None


def text_words(span: str) -> str | None:
    """Lower-case words of a plain-text answer (``\\text{Yes}`` -> ``yes``); None when it holds math.

    >>> text_words("Yes"), text_words(r"\\text{North East}"), text_words("x"), text_words("2x")
    ('yes', 'north east', None, None)
    """
    s = _UNITS.sub(r"\1", span).strip().strip(".").strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z' -]*[A-Za-z]", s):
        return None
    return " ".join(s.lower().split())


def strip_assignment(s: str) -> str:
    """``x=3`` -> ``3``: drop a single-letter left-hand side when the rest is no equation itself.

    >>> strip_assignment("x=3"), strip_assignment("y=2x+1"), strip_assignment("x==3"), strip_assignment("3")
    ('3', '2x+1', 'x==3', '3')
    """
    return re.sub(r"^[a-zA-Z]=(?![=<>])(?!.*=)", "", s)


def _sides(part: str) -> list[str]:
    """The sides of an equation (chain) at top level; ``[part]`` when it has none or another relation."""
    sides = split_top(part, "=")
    if len(sides) > 1 and any(not side or side[-1] in "<>!\\" or ";" in side for side in sides):
        return [part]  # x<=3, x==3, x!=3, p=5;p=7
    return sides


def _label(side: str) -> bool:
    """A left-hand side that names the answer (``x``, ``(p,q)``, ``AB``, ``V_{1}:V_{2}``, ``f(x)``): no digit
    outside subscripts."""
    return re.search(r"[A-Za-z]", side) is not None and not re.search(r"\d", _SUBSCRIPT.sub("", side))


def align_sides(gold: str, pred: str) -> tuple[str, str]:
    r"""Equation chains keep their ends (``x=2+3=5`` -> ``x=5``); the side with an equation is cut to its
    last side when the other has none: always the prediction (``2+3=5`` against ``5``), the gold only when
    its left-hand sides are labels (``(p,q)=(3,2)``, ``AB=4,CD=5`` against ``4,5``; never ``2x=4``).

    >>> align_sides("x=11", "x=5+5+1=7=11"), align_sides("10/9", r"\frac{1}{2}=\frac{10}{9}")
    (('x=11', 'x=11'), ('10/9', '\\frac{10}{9}'))
    >>> align_sides("AB=4,CD=5", "4,5"), align_sides("2x=4", "2"), align_sides("3", "x<=3")
    (('4,5', '4,5'), ('2x=4', '2'), ('3', 'x<=3'))
    """
    g_parts = [_sides(p) for p in split_top(gold)]
    p_parts = [_sides(p) for p in split_top(pred)]
    g_eq, p_eq = any(len(s) > 1 for s in g_parts), any(len(s) > 1 for s in p_parts)
    if p_eq and not g_eq:
        return gold, ",".join(s[-1] for s in p_parts)
    if g_eq and not p_eq and all(len(s) > 1 and _label(s[0]) for s in g_parts):
        return ",".join(s[-1] for s in g_parts), pred
    return _chain_ends(g_parts), _chain_ends(p_parts)


def _chain_ends(parts: list[list[str]]) -> str:
    return ",".join(s[0] if len(s) == 1 else f"{s[0]}={s[-1]}" for s in parts)
