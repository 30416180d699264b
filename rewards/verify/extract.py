"""Find a completion's final answer span: the last ``\\boxed{}``/``\\fbox{}``, else ``<answer>…</answer>``,
else GSM8K's ``#### x``, else "the (final) answer is x", else (opt-in) the last number.

Only the tail of a completion is searched, so megabyte outputs cost microseconds.
"""

from __future__ import annotations

import re

TAIL_CHARS = 4000  # only the end of a completion is searched for the answer

_ANSWER_IS = re.compile(r"the\s+(?:final\s+)?answer\s+is\s*:?\s*", re.IGNORECASE)
_LAST_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def braced(text: str, start: int) -> str | None:
    """Content of the ``{...}`` group opening at ``text[start]``; None when it never closes.

    >>> braced("{a{b}c}d", 0), braced("{a\\\\}b}", 0), braced("{open", 0)
    ('a{b}c', 'a\\\\}b', None)
    """
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2  # an escaped character such as \{ never counts
            continue
        depth += (ch == "{") - (ch == "}")
        if depth == 0:
            return text[start + 1 : i]
        i += 1
    return None


def _last_boxed(text: str) -> str | None:
    r"""Content of the last ``\boxed``/``\fbox``; ``""`` when there is none, None when it is unclosed."""
    pos = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if pos < 0:
        return ""
    rest = text[pos + (6 if text.startswith("\\boxed", pos) else 5) :].lstrip()
    if rest.startswith("{"):
        return braced(rest, 0)
    token = re.match(r"[^\s$]+", rest)  # \boxed 5 (no braces)
    return token.group(0) if token else None


def _tagged(tail: str) -> str | None:
    """``<answer>`` span, ``####`` line or "the answer is" phrase; None when there is none."""
    end = tail.rfind("</answer>")
    start = tail.rfind("<answer>", 0, end) if end >= 0 else -1
    if start >= 0:
        return tail[start + len("<answer>") : end]
    if "####" in tail:
        return tail[tail.rfind("####") + 4 :].strip().split("\n", 1)[0]
    matches = list(_ANSWER_IS.finditer(tail))
    if matches:
        line = tail[matches[-1].end() :].split("\n", 1)[0]
        return re.split(r"\.\s", line, maxsplit=1)[0].strip().strip("$").rstrip(".")
    return None


def extract_answer(completion: str, *, last_number: bool = False) -> str | None:
    r"""The final answer span of a completion, or None when it states none (or its box never closes).

    ``last_number=True`` falls back to the last number in the text (off by default: it rewards guessing).

    >>> extract_answer(r"so \boxed{\frac{1}{2}}.")
    '\\frac{1}{2}'
    >>> extract_answer("<answer> 7 </answer>"), extract_answer("#### 1,000"), extract_answer("no idea")
    ('7', '1,000', None)
    >>> extract_answer("so 3 + 4 = 7 apples", last_number=True)
    '7'
    """
    tail = completion[-TAIL_CHARS:]
    boxed = _last_boxed(tail)
    if boxed is None:
        return None
    span = boxed if boxed.strip() else _tagged(tail)
    if (span is None or not span.strip()) and last_number:
        numbers = _LAST_NUMBER.findall(tail)
        span = numbers[-1] if numbers else None
    return span.strip() if span is not None and span.strip() else None
