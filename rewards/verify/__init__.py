"""Answer verification: extract a completion's final answer and decide whether it equals the gold answer.

Public API (the accuracy reward and users call exactly this)::

    extract_answer(completion, *, mode="lenient", last_number=False) -> str | None
    verify(gold, completion, *, mode="lenient") -> bool | None  # None: gold empty or unparsable
    verify_batch(golds, completions, *, mode="lenient", timeout_s=1.0, workers=None) -> list[bool | None]

``mode`` picks how the completion's answer is found (``MODES``, see ``extract``): ``"lenient"`` accepts
every form graders accept (boxes, tags, ``####``, answer phrases, math mode, a short bare answer),
``"strict"`` only ``\\boxed``/``\\fbox`` and ``<answer>`` tags. The gold is parsed the same way in both: its
last box when it has one, else the answer after an answer phrase, else the whole string (``gold_answer``).

Data flow: ``extract`` finds the span, ``normalize`` canonicalises it, ``guards`` refuse what could blow
up, ``numeric`` and ``structure`` decide plain numbers (also inside tuples, intervals, sets, lists and
matrices) exactly without sympy, and only the rest goes to ``symbolic`` in the
worker ``pool`` under a hard deadline. Model text is never evaluated (no ``eval``/``sympify``).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from rewards.verify.extract import MODES, TAIL_CHARS, check_mode, extract_answer, gold_answer
from rewards.verify.fastpath import fast_equal
from rewards.verify.finite_sets import lists_equal, worker_text
from rewards.verify.guards import is_echo, too_complex
from rewards.verify.intervals import sets_equal
from rewards.verify.matrices import matrices_equal
from rewards.verify.normalize import align_sides, choice_letter, normalize, strip_assignment, text_words
from rewards.verify.numeric import Number, as_latex, decimal_comma, numbers_equal, to_number
from rewards.verify.pool import TIMEOUT, run_symbolic
from rewards.verify.structure import structured_equal

__all__ = [
    "MODES",
    "TAIL_CHARS",
    "check_mode",
    "counters_snapshot",
    "extract_answer",
    "normalize",
    "reset_counters",
    "verify",
    "verify_batch",
]

CACHE_SIZE = 65536
DEFAULT_WORKERS = min(4, os.cpu_count() or 1)  # (os.cpu_count reads /sys: ~30 us, once)
_NUMBER_LIST = re.compile(r"[+-]?[\d.]+(?:,[+-]?[\d.]+)+")  # normalised: thousands separators are gone


@dataclass
class Counters:
    """Module-wide event counts (see ``counters_snapshot``)."""

    calls: int = 0
    extraction_failures: int = 0
    unparsable_gold: int = 0
    timeouts: int = 0


COUNTERS = Counters()
_COUNTER_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str], bool | None] = {}
_GOLD_PARSE_CACHE: dict[str, bool] = {}  # normalised gold -> whether the symbolic parser accepted it


def _bump(name: str, by: int = 1) -> None:
    with _COUNTER_LOCK:
        setattr(COUNTERS, name, getattr(COUNTERS, name) + by)


def counters_snapshot() -> dict[str, int]:
    """A copy of the verification counters (cumulative; the trainer logs per-step differences).

    >>> sorted(counters_snapshot())
    ['calls', 'extraction_failures', 'timeouts', 'unparsable_gold']
    """
    with _COUNTER_LOCK:
        return asdict(COUNTERS)


def reset_counters() -> None:
    """Set every verification counter back to zero.

    >>> reset_counters(); counters_snapshot()["calls"]
    0
    """
    with _COUNTER_LOCK:
        for name in asdict(COUNTERS):
            setattr(COUNTERS, name, 0)


def _gold_span(gold: str) -> str | None:
    span = gold_answer(gold)
    return normalize(span) if span and span.strip() else None


def _fast_compare(gold: str, pred: str) -> bool | None | tuple[str, str | None]:
    """True/False/None when decided without sympy, else the (gold, pred) item for the symbolic path."""
    if too_complex(gold):
        return None
    rejected = not pred or too_complex(pred)  # missing or refused: False, but the gold must still parse
    if letter := choice_letter(gold):
        return not rejected and choice_letter(pred) == letter
    if words := text_words(gold):
        return not rejected and text_words(pred) == words
    if not rejected and _assigns_other_variable(gold, pred):
        return False  # x = 3 is not y = 3
    if not rejected:
        gold, pred = align_sides(gold, pred)
    gold_num = to_number(strip_assignment(gold))
    if gold_num is None and not rejected:
        gold_num = _decimal_comma_against(gold, pred)
    if gold_num is not None:
        if rejected or is_echo(pred):
            return False
        pred_num = to_number(strip_assignment(pred)) or _decimal_comma_against(pred, gold)
        if pred_num is not None:
            return numbers_equal(gold_num, pred_num)
        if _NUMBER_LIST.fullmatch(pred):
            return False  # "32, 349" lists two numbers: it is not 32349
    elif not rejected and (decided := structured_equal(gold, pred)) is not None:
        return decided
    if not rejected and gold == pred and _GOLD_PARSE_CACHE.get(gold):
        return True
    item = as_latex(gold), None if rejected else as_latex(pred)
    text = worker_text(item[0]), worker_text(item[1])  # as the worker's parser reads them
    for decide in _IN_PROCESS:
        if (decided := decide(*text)) is not None:
            return decided
    return item


_IN_PROCESS = (  # each decides only what it reads completely, exactly as the worker would; else None
    fast_equal,  # arithmetic
    sets_equal,  # linear inequalities against intervals
    lists_equal,  # lists, sets, tuples and intervals of values
    matrices_equal,  # matrices, their sums and products
)


def _decimal_comma_against(span: str, other: str) -> Number | None:
    """``span`` read with a decimal comma (``1000,99``), only when ``other`` is a decimal number."""
    number = to_number(other) if "," in span and "." in other else None
    return decimal_comma(span) if number is not None and number.decimal else None


def _assigns_other_variable(gold: str, pred: str) -> bool:
    return gold[1:2] == pred[1:2] == "=" and gold[:1].isalpha() and pred[:1].isalpha() and gold[0] != pred[0]


def _remember(key: tuple[str, str], value: bool | None) -> bool | None:
    if len(_CACHE) >= CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)), None)
    _CACHE[key] = value
    return value


def verify_batch(
    golds: Sequence[str],
    completions: Sequence[str],
    *,
    mode: str = "lenient",
    timeout_s: float = 1.0,
    workers: int | None = None,
) -> list[bool | None]:
    r"""Verify each (gold, completion) pair like ``verify``; symbolic items are spread over the worker pool.

    Safe from any thread (or inside an asyncio loop) and in every process of a multi-process run: each
    process owns its pool. Each symbolic item gets ``timeout_s`` of wall clock; a timeout scores False.
    ``mode`` is the extraction mode of the completions (``MODES``); ValueError for an unknown one.

    >>> verify_batch(["182", r"\frac12", ""], [r"\boxed{182}", "#### 0.5", r"\boxed{1}"])
    [True, True, None]
    >>> verify_batch(["9", "9"], ["Final Answer: $9$", r"\boxed{9}"], mode="strict")
    [False, True]
    """
    check_mode(mode)
    if len(golds) != len(completions):
        raise ValueError(f"golds ({len(golds)}) and completions ({len(completions)}) differ in length")
    workers = workers or DEFAULT_WORKERS
    results: list[bool | None] = [None] * len(golds)
    pending: dict[tuple[str, str], tuple[tuple[str, str | None], list[int]]] = {}  # symbolic, deduplicated
    for i, (gold, completion) in enumerate(zip(golds, completions, strict=True)):
        _bump("calls")
        raw = extract_answer(completion, mode=mode)
        if raw is None:
            _bump("extraction_failures")
        g = _gold_span(gold)
        if g is None:
            continue
        key = (g, normalize(raw) if raw else "")
        if key in _CACHE:
            results[i] = _CACHE[key]
        elif key in pending:
            pending[key][1].append(i)
        elif isinstance(decided := _fast_compare(*key), tuple):
            pending[key] = (decided, [i])
        else:
            results[i] = _remember(key, decided)
    outcomes = run_symbolic([item for item, _ in pending.values()], timeout_s, workers) if pending else []
    for (key, (_, indices)), outcome in zip(pending.items(), outcomes, strict=True):
        if outcome is TIMEOUT:
            _bump("timeouts")
        elif len(_GOLD_PARSE_CACHE) < CACHE_SIZE:
            _GOLD_PARSE_CACHE[key[0]] = outcome is not None
        value = False if outcome is TIMEOUT else _remember(key, outcome)  # type: ignore[arg-type]
        for i in indices:
            results[i] = value
    _bump("unparsable_gold", sum(r is None for r in results))
    return results


def verify(gold: str, completion: str, *, mode: str = "lenient") -> bool | None:
    r"""True when the completion's final answer equals the gold; None when the gold is empty or unparsable.

    ``mode`` is the extraction mode of the completion (``"lenient"`` or ``"strict"``, see ``MODES``).

    >>> verify("1000", r"The total is \boxed{1,000}"), verify(r"\frac12", "the answer is 0.5")
    (True, True)
    >>> verify("-5", "-5"), verify("9", "Final Answer: $9$"), verify("9", "Final Answer: $9$", mode="strict")
    (True, True, False)
    >>> verify("3", "I am not sure"), verify("", r"\boxed{3}")
    (False, None)
    """
    return verify_batch([gold], [completion], mode=mode)[0]
