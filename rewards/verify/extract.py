r"""Find a completion's final answer span, in one of the ``MODES``: ``"strict"`` or ``"lenient"``.

The rules of a mode are tried in order; the first that finds a non-blank span gives the answer.

``strict`` (a committed answer only, for RL format discipline):
  1. the last ``\boxed{…}``/``\fbox{…}``; when that last box never closes there is no answer at all. The
     boxes just before it that only short joining text separates ("and", "or", commas, ``\quad``, math
     delimiters; see ``_joins_boxes``) are part of the answer, joined with commas (a list);
  2. the last ``<answer>…</answer>``.

``lenient`` (the forms graders accept; the default of ``extract_answer`` and ``verify``):
  1–2. as in ``strict``;
  3. GSM8K's ``#### x``: the rest of that line;
  4. an answer phrase: the last "answer is" ("the final answer is"), "answer:" ("Final Answer:",
     ``**Answer:**``) or a "Final Answer" heading line, read on to the end of its sentence (a newline or a
     full stop before a space, neither inside math mode; at most ``PHRASE_CHARS`` characters). The span
     is the sentence up to its first prose word ("12, since …" → ``12``, "3.5 apples" → ``3.5``); when
     the sentence opens with a prose word, the last math-mode expression or number in it ("Final Answer:
     The largest $n$ is 34." → ``34``); a sentence of words only is itself the span ("yes"). The last
     ``PHRASES_TRIED`` phrases are tried, latest first, for one holding an expression;
  5. a concluding closing sentence in prose: when the completion's last sentence holds "so", "thus",
     "therefore", "hence", "total", "altogether", "overall" or "finally" and a number after its last
     math-mode expression, that last number ("So the probability is 5/12." → ``5/12``; "π/4" → ``\pi/4``;
     "50 percent" → ``50\%``), so a prose answer after an earlier ``$n=11$`` is the one read;
  6. the last math-mode expression: ``$…$``, ``$$…$$``, ``\[…\]`` or ``\(…\)`` (``$…$`` and ``\(…\)``
     stay on one line; a ``$`` after a digit or a backslash opens nothing; a tail cut from a longer
     completion is scanned from its first line break, so an inline ``$…$`` cut in half cannot shift the
     pairing of the dollars after it);
  7. a bare answer: the whole completion, stripped, without a final full stop, when that is at most
     ``BARE_CHARS`` characters on one line, holds no tag such as ``<answer>`` and is either one token
     or free of prose words (``-5``, ``\frac{1}{2}``, ``x=3``, ``(1, 2)``, ``5 and 7``; never "I think 5").

``last_number=True`` (lenient only; off by default: it rewards guessing) adds a last rule: the last
number of the tail.

A *prose word* is a whitespace-separated token outside math mode made of two or more letters
(apostrophes and hyphens allowed, trailing punctuation ignored), other than "and"/"or" (they join list
answers) and the percent words "percent", "percentage", "pct". Only the last ``TAIL_CHARS`` characters
are searched, with regular expressions and scans that are linear in the tail (nothing is evaluated), so
megabyte outputs cost microseconds.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from functools import cached_property

TAIL_CHARS = 4000  # only the end of a completion is searched for the answer
PHRASE_CHARS = 300  # an answer phrase's sentence is read this far at most
PHRASES_TRIED = 3  # answer phrases looked at, latest first
BARE_CHARS = 40  # a whole completion this short, without prose words, is its own answer
BOXES_JOINED = 16  # at most this many consecutive boxes make one answer
BOX_JOIN_WORDS = 3  # words other than "and"/"or" allowed between joined boxes ("for part (a) and")
BOX_JOIN_GAP = 40  # boxes this close, with only joining text between them, make one answer (a list)

_ANSWER_PHRASE = re.compile(
    r"\banswer(?:\s+is\b\s*:?|\s*\**\s*:)\**|\bfinal\s+answer\s*\**[ \t]*(?=\n)", re.IGNORECASE
)
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?|-?\.\d+")
_PROSE_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*[A-Za-z][.,;:!?]*")
_JOINERS = frozenset({"and", "or"})
_PERCENT_WORDS = frozenset({"percent", "percentage", "pct"})  # "28 percent" is a number, not prose
_TOKEN = re.compile(r"\S+")
# a concluding closing sentence: "So the probability is 5/12.", "In total, the farmer has 250 apples left."
_CONCLUSION = re.compile(r"\b(?:so|thus|therefore|hence|total|altogether|overall|finally)\b", re.IGNORECASE)
_PROSE_NUMBER = re.compile(
    r"(?<![\w.])(?:-?\d+(?:,\d{3})*(?:\.\d+)?(?: ?/ ?\d+)?|-?\d*π(?: ?/ ?\d+)?)(?![\w/])"
)
_PERCENT_AFTER = re.compile(r" ?(?:%|percent\b)")
_TAG = re.compile(r"</?[A-Za-z]\w*>")  # <answer>, </think>: markup, never a bare answer
_SENTENCE_END = re.compile(r"\n|\.(?=\s|$)")
_MATH_OPEN = re.compile(r"(?<!\\)\$\$|(?<![\\\d])\$|(?<!\\)\\\[|(?<!\\)\\\(")
_MATH_CLOSE = {
    "$$": re.compile(r"(?<!\\)\$\$"),
    "$": re.compile(r"(?<!\\)\$"),
    "\\[": re.compile(r"(?<!\\)\\\]"),
    "\\(": re.compile(r"(?<!\\)\\\)"),
}
_ONE_LINE = ("$", "\\(")
# between two boxes of one answer: no digit, no relation, no box, no line break ("and", "\quad", "$, $")
_BOX_JOINER = re.compile(rf"[^\d=<>\n.:!?]{{0,{BOX_JOIN_GAP}}}")
_BOX_LABEL = re.compile(r"[A-Za-z](?:_\{?\w{1,3}\}?)?\s*=\s*$")
_COMMAND = re.compile(r"\\[A-Za-z]+")
_WORD = re.compile(r"[A-Za-z]+")
_GOLD_WITH_UNIT = re.compile(r"\s*\$([^$]+)\$\s*[A-Za-z][A-Za-z .]{0,40}")  # $125$ miles
_UNBRACED = re.compile(r"[^\s$]+")


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


def math_spans(text: str, start: int = 0) -> list[tuple[int, int, str]]:
    r"""``(start, end, content)`` of each math-mode expression from ``start`` on, left to right.

    Linear in ``text``: a delimiter kind whose closer is missing up to some point opens nothing before it.

    >>> [c for _, _, c in math_spans(r"so $x$, $$y$$, \[z\] and \(w\); \$5 or 3$ is no math, nor $ open")]
    ['x', 'y', 'z', 'w']
    """
    spans: list[tuple[int, int, str]] = []
    pos, line_end, dead = start, -1, {}
    while (opener := _MATH_OPEN.search(text, pos)) is not None:
        kind, begin, pos = opener.group(), opener.start(), opener.end()
        if begin < dead.get(kind, -1):
            continue
        limit = len(text)
        if kind in _ONE_LINE:
            if line_end < pos:
                line_end = text.find("\n", pos)
                line_end = len(text) if line_end < 0 else line_end
            limit = line_end
        closer = _MATH_CLOSE[kind].search(text, pos, limit)
        if closer is None:
            dead[kind] = limit
            continue
        spans.append((begin, closer.end(), text[pos : closer.start()]))
        pos = closer.end()
    return spans


def _is_prose(token: str) -> bool:
    word = token.rstrip(".,;:!?").lower()
    return _PROSE_WORD.fullmatch(token) is not None and word not in _JOINERS and word not in _PERCENT_WORDS


class _Tail:
    """The searched end of a completion, with its math-mode expressions found once, when first needed."""

    def __init__(self, completion: str):
        self.completion, self.text = completion, completion[-TAIL_CHARS:]

    @cached_property
    def spans(self) -> list[tuple[int, int, str]]:
        cut = len(self.completion) > len(self.text)  # may start inside math: begin at the next line
        return math_spans(self.text, self.text.find("\n") + 1 if cut else 0)

    @cached_property
    def _starts(self) -> list[int]:
        return [s for s, _, _ in self.spans]

    def in_math(self, pos: int) -> bool:
        i = bisect_right(self._starts, pos) - 1
        return i >= 0 and pos < self.spans[i][1]

    def spans_within(self, start: int, end: int) -> list[tuple[int, int, str]]:
        inside = self.spans[bisect_left(self._starts, start) : bisect_left(self._starts, end)]
        return [span for span in inside if span[1] <= end]

    def sentence(self, start: int) -> tuple[int, int]:
        """Bounds of the sentence starting at ``start`` (leading blanks skipped)."""
        text = self.text
        while start < len(text) and text[start].isspace():
            start += 1
        limit = min(len(text), start + PHRASE_CHARS)
        for end in _SENTENCE_END.finditer(text, start, limit):
            if not self.in_math(end.start()):
                return start, end.start()
        return start, limit


class _Unclosed(Exception):
    """The last box never closes: the completion states no answer, whatever else it holds."""


def _box_at(text: str, pos: int) -> tuple[str, int] | None:
    r"""(content, end) of the ``\boxed``/``\fbox`` starting at ``pos``; None when it never closes."""
    start = pos + (6 if text.startswith("\\boxed", pos) else 5)
    while start < len(text) and text[start].isspace():
        start += 1
    if text.startswith("{", start):
        content = braced(text, start)
        return None if content is None else (content, start + len(content) + 2)
    token = _UNBRACED.match(text, start)  # \boxed 5 (no braces)
    return (token.group(0), token.end()) if token else None


def _joins_boxes(between: str) -> bool:
    r"""Whether text between two boxes joins them into one answer: short, no digit, relation or sentence end,
    and no words but "and"/"or" with at most ``BOX_JOIN_WORDS`` others ("papers and", ``\quad\text{or}``);
    a one-letter label of the next box (``y_2 =``) may end it."""
    between = _BOX_LABEL.sub("", between)  # \boxed{1} and y_2 = \boxed{2}: the label names the next one
    if not _BOX_JOINER.fullmatch(between):
        return False
    words = [w.lower() for w in _WORD.findall(_COMMAND.sub(" ", between))]
    return not words or (len(words) <= BOX_JOIN_WORDS + 1 and not _JOINERS.isdisjoint(words))


def _previous_box(text: str, before: int) -> int:
    return max(text.rfind("\\boxed", 0, before), text.rfind("\\fbox", 0, before))


def _last_box(tail: _Tail) -> str | None:
    r"""Content of the last ``\boxed``/``\fbox``, joined with ``,`` to the boxes just before it that only
    short joining text separates (``\boxed{1} and \boxed{2}`` -> ``1,2``); raises ``_Unclosed`` when the
    last box never closes."""
    text = tail.text
    pos = _previous_box(text, len(text))
    if pos < 0:
        return None
    last = _box_at(text, pos)
    if last is None:
        raise _Unclosed
    contents = [last[0]]
    while len(contents) < BOXES_JOINED and (prev := _previous_box(text, pos)) >= 0:
        box = _box_at(text, prev)
        if box is None or box[1] > pos or not _joins_boxes(text[box[1] : pos]):
            break
        contents.append(box[0])
        pos = prev
    return ",".join(reversed(contents))


def _answer_tag(tail: _Tail) -> str | None:
    end = tail.text.rfind("</answer>")
    start = tail.text.rfind("<answer>", 0, end) if end >= 0 else -1
    return tail.text[start + len("<answer>") : end] if start >= 0 else None


def _gsm8k_line(tail: _Tail) -> str | None:
    pos = tail.text.rfind("####")
    return tail.text[pos + 4 :].strip().split("\n", 1)[0] if pos >= 0 else None


def _answer_phrase(tail: _Tail) -> str | None:
    """The span after the latest answer phrase that holds an expression, else the last phrase's words."""
    words = None
    for phrase in reversed(list(_ANSWER_PHRASE.finditer(tail.text))[-PHRASES_TRIED:]):
        start, end = tail.sentence(phrase.end())
        span = _expression_in(tail, start, end)
        if span is not None:
            return span
        words = words or tail.text[start:end]
    return words


def _expression_in(tail: _Tail, start: int, end: int) -> str | None:
    """The sentence up to its first prose word, else its last math expression or number, else None."""
    text, spans = tail.text, tail.spans_within(start, end)
    tokens = _TOKEN.finditer(text, start, end)
    prose = next((t.start() for t in tokens if _is_prose(t.group()) and not tail.in_math(t.start())), end)
    lead = text[start:prose].strip().strip(",;:*").strip().rstrip(".")
    if lead:
        whole = [content for s, e, content in spans if text[s:e] == lead]
        return whole[0] if whole else lead
    numbers = [
        (n.start(), n.group()) for n in _NUMBER.finditer(text, start, end) if not tail.in_math(n.start())
    ]
    found = [(s, content) for s, _, content in spans if content.strip()] + numbers
    return max(found)[1] if found else None


def _closing_sentence(tail: _Tail) -> str | None:
    """The last number of a concluding closing sentence written in prose, when no math follows it."""
    text = tail.text.rstrip()
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, len(text) - 1) if not tail.in_math(m.start())]
    start = max(ends, default=0)
    if len(text) - start > PHRASE_CHARS or not _CONCLUSION.search(text, start):
        return None
    after = max((e for _, e, _ in tail.spans_within(start, len(text))), default=start)
    numbers = [n for n in _PROSE_NUMBER.finditer(text, after) if not tail.in_math(n.start())]
    if not numbers:
        return None
    last = numbers[-1]
    span = last.group().replace("π", "\\pi").replace(" ", "")
    return span + "\\%" if _PERCENT_AFTER.match(text, last.end()) else span


def _last_math(tail: _Tail) -> str | None:
    return next((content for _, _, content in reversed(tail.spans) if content.strip()), None)


def _bare_answer(tail: _Tail) -> str | None:
    span = tail.text.strip().removesuffix(".").rstrip()
    if len(span) > BARE_CHARS or "\n" in span or _TAG.search(span):
        return None
    if len(tail.completion) > len(tail.text) and not tail.completion[: -len(tail.text)].isspace():
        return None  # the tail is short, the completion is not
    tokens = span.split()
    return span if len(tokens) == 1 or not any(map(_is_prose, tokens)) else None


def _last_number(tail: _Tail) -> str | None:
    numbers = _NUMBER.findall(tail.text)
    return numbers[-1] if numbers else None


Rule = Callable[[_Tail], "str | None"]

# Extraction mode -> its rules, tried in order (see the module docstring).
MODES: dict[str, tuple[Rule, ...]] = {
    "strict": (_last_box, _answer_tag),
    "lenient": (
        _last_box,
        _answer_tag,
        _gsm8k_line,
        _answer_phrase,
        _closing_sentence,
        _last_math,
        _bare_answer,
    ),
}


def check_mode(mode: str) -> None:
    """ValueError naming the valid modes when ``mode`` is none of them.

    >>> check_mode("strict"); check_mode("loose")
    Traceback (most recent call last):
    ValueError: unknown extraction mode 'loose'; valid modes: ['strict', 'lenient']
    """
    if mode not in MODES:
        raise ValueError(f"unknown extraction mode {mode!r}; valid modes: {list(MODES)}")


def extract_answer(completion: str, *, mode: str = "lenient", last_number: bool = False) -> str | None:
    r"""The final answer span of a completion, or None when it states none (or its last box never closes).

    ``mode`` is ``"lenient"`` (every rule of the module docstring) or ``"strict"`` (boxes and
    ``<answer>`` tags only). ``last_number=True`` falls back to the last number (lenient only).

    >>> extract_answer(r"so \boxed{\frac{1}{2}}."), extract_answer("<answer> 7 </answer>", mode="strict")
    ('\\frac{1}{2}', '7')
    >>> extract_answer("#### 1,000"), extract_answer("Final Answer: $9$"), extract_answer("-5")
    ('1,000', '9', '-5')
    >>> extract_answer("Final Answer: The largest $n$ is 34."), extract_answer(r"so \[x = 3\]")
    ('34', 'x = 3')
    >>> extract_answer("Final Answer: $9$", mode="strict"), extract_answer("I got 3 + 4 = 7 apples")
    (None, None)
    >>> extract_answer("I got 3 + 4 = 7 apples", last_number=True)
    '7'
    """
    check_mode(mode)
    rules = MODES[mode]
    if last_number:
        if mode == "strict":
            raise ValueError("last_number=True needs mode='lenient': strict mode counts boxes and tags only")
        rules = (*rules, _last_number)
    tail = _Tail(completion)
    try:
        for rule in rules:
            span = rule(tail)
            if span is not None and span.strip():
                return span.strip()
    except _Unclosed:
        return None
    return None


def gold_answer(gold: str) -> str | None:
    r"""The answer part of a gold string: its last box (strict: None when that box never closes); else the
    answer after an answer phrase; else the math of ``$125$ miles``; else the whole string.

    >>> gold_answer(r"so \boxed{1} and \boxed{2}"), gold_answer("$125$ miles"), gold_answer("$2$ and $3$")
    ('1,2', '125', '$2$ and $3$')
    >>> gold_answer("It is 28%. Final Answer: The final answer is $28\\%$. I hope it is correct.")
    '28\\%'
    """
    if "\\boxed" in gold or "\\fbox" in gold:
        return extract_answer(gold, mode="strict")
    if unit := _GOLD_WITH_UNIT.fullmatch(gold):
        return unit.group(1)
    if _ANSWER_PHRASE.search(gold, max(0, len(gold) - TAIL_CHARS)):
        return extract_answer(gold) or gold
    return gold
