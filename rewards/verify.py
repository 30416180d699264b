"""Answer verification, v0: extract a completion's final answer and compare it with the gold answer.

Model text is never evaluated: numbers go through ``fractions.Fraction`` and regexes, LaTeX through the ANTLR
parser of ``latex2sympy2_extended``, run in a persistent process pool under a wall-clock deadline.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from fractions import Fraction

TAIL_CHARS = 4000  # only the end of a completion is searched for the answer
MAX_SPAN = 300  # longer answer spans are never parsed
REL_TOL = Fraction(1, 10**9)  # relative tolerance when either side is written as a decimal
CACHE_SIZE = 65536


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


def _bump(name: str, by: int = 1) -> None:
    with _COUNTER_LOCK:
        setattr(COUNTERS, name, getattr(COUNTERS, name) + by)


def counters_snapshot() -> dict[str, int]:
    """Return a copy of the verification counters.

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


def _braced(text: str, start: int) -> str | None:
    """Content of the ``{...}`` group opening at ``text[start]``; None when it never closes."""
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
        return _braced(rest, 0)
    token = re.match(r"[^\s$]+", rest)  # \boxed 5 (no braces)
    return token.group(0) if token else None


_ANSWER_IS = re.compile(r"the\s+(?:final\s+)?answer\s+is\s*:?\s*", re.IGNORECASE)


def extract_answer(completion: str) -> str | None:
    r"""Final answer span: last \boxed{} or \fbox{}, else <answer>, else ``####``, else "the answer is".

    >>> extract_answer(r"so \boxed{\frac{1}{2}}.")
    '\\frac{1}{2}'
    >>> extract_answer("<answer> 7 </answer>"), extract_answer("#### 1,000"), extract_answer("no idea")
    ('7', '1,000', None)
    """
    tail = completion[-TAIL_CHARS:]
    boxed = _last_boxed(tail)
    if boxed is None or boxed.strip():
        return boxed.strip() if boxed is not None else None
    span = None
    end = tail.rfind("</answer>")
    start = tail.rfind("<answer>", 0, end) if end >= 0 else -1
    matches = list(_ANSWER_IS.finditer(tail))
    if start >= 0:
        span = tail[start + len("<answer>") : end]
    elif "####" in tail:
        span = tail[tail.rfind("####") + 4 :].strip().split("\n", 1)[0]
    elif matches:
        line = tail[matches[-1].end() :].split("\n", 1)[0]
        span = re.split(r"\.\s", line, maxsplit=1)[0].strip().strip("$").rstrip(".")
    return (span.strip() or None) if span is not None else None


_REMOVE = (r"\!", r"\,", r"\;", r"\:", "\\ ", "~", r"\$", "$")
_UNITS = re.compile(r"\\(?:text|textbf|textrm|mbox|mathrm)\s*\{([^{}]*)\}")
_THOUSANDS = re.compile(r"(?<![\d.,])([1-9]\d{0,2})((?:,\d{3})+)(?![\d,])")


def normalize(span: str) -> str:
    r"""Canonical spelling of an answer span: drop spacing, units, $, \left/\right, separators, final dot.

    >>> normalize(r"$1\,000\text{ cm}.$"), normalize(r"x = \dfrac 1 2"), normalize("1,234,567")
    ('1000', '\\frac{1}{2}', '1234567')
    """
    s = span.strip().replace("\u2212", "-").replace("\u03c0", "\\pi ")
    s = re.sub(r"\\(?:left|right|displaystyle)(?![a-zA-Z])", "", s)
    s = s.replace(r"\dfrac", r"\frac").replace(r"\tfrac", r"\frac")
    for token in _REMOVE:
        s = s.replace(token, "")
    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?|\\%|%", "", s)
    without_units = _UNITS.sub("", s).strip()
    s = without_units if without_units else _UNITS.sub(r"\1", s)
    s = re.sub(r"(\\[a-zA-Z]+)\s+(?=[a-zA-Z])", "\\1\x00", s)  # `\pi r` keeps its separating space
    s = re.sub(r"\s+", "", s).replace("\x00", " ")
    s = _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), s)
    s = re.sub(r"^[a-zA-Z]=(?!=)", "", s.rstrip("."))
    s = re.sub(r"\\(frac|sqrt)(\d)", r"\\\1{\2}", s)
    return re.sub(r"\\frac(\{[^{}]*\})(\d)", r"\\frac\1{\2}", s)


_NUM = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?"
_PATTERNS = (
    re.compile(rf"(?P<a>{_NUM})"),
    re.compile(rf"(?P<a>{_NUM})/(?P<b>{_NUM})"),
    re.compile(rf"\\frac\{{(?P<a>{_NUM})\}}\{{(?P<b>{_NUM})\}}"),
    re.compile(rf"(?P<a>{_NUM})(?:\\times|\\cdot)10\^\{{?(?P<e>[+-]?\d{{1,3}})\}}?"),
)


def _to_number(s: str) -> tuple[Fraction, bool] | None:
    """(exact value, written as a decimal?) of a plain numeric span; None when it is not one."""
    sign = -1 if s.startswith("-") else 1
    body = s[1:] if s[:1] in ("+", "-") else s
    for pattern in _PATTERNS:
        m = pattern.fullmatch(body)
        if m is None:
            continue
        a, b, e = m.group("a"), m.groupdict().get("b"), m.groupdict().get("e")
        if b is not None and Fraction(b) == 0:
            return None
        value = Fraction(a) / (Fraction(b) if b else 1) * Fraction(10) ** int(e or 0)
        return sign * value, e is not None or any(c in a + (b or "") for c in ".eE")
    return None


def _tower_height(s: str) -> int:
    """Height of the tallest power tower: ``x^2`` is 1, ``2^{3^{4}}`` and ``2^3^4`` are 2."""
    best, i = 0, s.find("^")
    while i >= 0:
        height = 0
        while s[i : i + 1] == "^":
            j = i + 1  # spans are normalised: no whitespace before the exponent
            braced = s[j : j + 1] == "{"
            exponent = _braced(s, j) if braced else s[j : j + 1]
            if exponent is None:
                return len(s)  # unclosed exponent group: treat as unbounded
            height += 1 + _tower_height(exponent)
            i = j + len(exponent) + (2 if braced else 1)
        best = max(best, height)
        i = s.find("^", i)
    return best


def _too_complex(s: str) -> bool:
    """Pre-check guard: spans too long, too deep, power towers, huge exponents or factorials."""
    if len(s) > MAX_SPAN or re.search(r"\^\s*\{?\s*[+-]?\d{4,}", s):
        return True
    if any(int(n) > 100 for n in re.findall(r"(\d+)[})]?\s*!", s)):
        return True
    depth = deepest = 0
    for ch in s:
        depth += (ch == "{") - (ch == "}")
        deepest = max(deepest, depth)
    return deepest > 20 or _tower_height(s) > 2


def _symbolic_equal(gold: str, pred: str | None) -> bool | None:
    """Worker: parse both sides with latex2sympy and compare; None when the gold does not parse."""
    import sympy
    from latex2sympy2_extended import latex2sympy

    try:
        a = latex2sympy(gold)
    except Exception:
        return None
    if pred is None or pred == gold:
        return pred is not None
    try:
        b = latex2sympy(pred)
        if a == b:
            return True
        if (a.has(sympy.Float) or b.has(sympy.Float)) and not (a.free_symbols or b.free_symbols):
            x, y = complex(sympy.N(a, 30)), complex(sympy.N(b, 30))
            return abs(x - y) <= 1e-9 * max(abs(x), abs(y))
        return bool(sympy.simplify(a - b) == 0 or a.equals(b))
    except Exception:
        return False


_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()
_TIMEOUT = object()


def _get_pool(workers: int) -> ProcessPoolExecutor:
    """The persistent pool, created lazily and warmed up so that startup never eats into a deadline."""
    global _POOL, _POOL_SIZE
    if _POOL is not None and _POOL_SIZE == workers:
        return _POOL
    _kill_pool()
    if "forkserver" in multiprocessing.get_all_start_methods():  # no fork(): callers may run threads
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["__main__", "sympy", "latex2sympy2_extended", __name__])
    else:
        ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    for future in [pool.submit(_symbolic_equal, "1", "1") for _ in range(workers)]:
        future.result(timeout=300)
    _POOL, _POOL_SIZE = pool, workers
    return pool


def _kill_pool() -> None:
    """Shut the pool down without waiting and terminate its workers, a stuck one included."""
    global _POOL
    pool, _POOL = _POOL, None
    if pool is None:
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        proc.terminate()
    for proc in processes:
        proc.join(timeout=2)
        if proc.is_alive():
            proc.kill()


atexit.register(_kill_pool)  # stop workers before interpreter teardown (else a noisy weakref callback)


def _run_symbolic(items: list[tuple[str, str | None]], timeout_s: float, workers: int) -> list[object]:
    """``_symbolic_equal`` per item in waves of ``workers``; ``_TIMEOUT`` where the deadline passed."""
    results: list[object] = []
    with _POOL_LOCK:
        for start in range(0, len(items), workers):
            pool = _get_pool(workers)
            futures = [pool.submit(_symbolic_equal, g, p) for g, p in items[start : start + workers]]
            done, not_done = wait(futures, timeout=timeout_s)
            broken = False
            for future in futures:
                try:
                    results.append(future.result() if future in done else _TIMEOUT)
                except Exception:  # a worker died (BrokenProcessPool): wrong, and rebuild the pool
                    broken = True
                    results.append(False)
            if not_done or broken:
                _kill_pool()
    return results


def _gold_span(gold: str) -> str | None:
    span = extract_answer(gold) if ("\\boxed" in gold or "\\fbox" in gold) else gold
    return normalize(span) if span and span.strip() else None


def _fast_compare(gold: str, pred: str) -> bool | None | tuple[str, str | None]:
    """True/False/None when decided without sympy, else the (gold, pred) item for the symbolic path."""
    if _too_complex(gold):
        return None
    gold_num = _to_number(gold)
    pred_rejected = not pred or _too_complex(pred)  # missing or refused: False, but the gold still counts
    if gold_num is not None:
        if pred == gold:
            return True
        pred_num = None if pred_rejected else _to_number(pred)
        if pred_num is None:
            return False if pred_rejected else (gold, pred)
        (x, x_decimal), (y, y_decimal) = gold_num, pred_num  # exact, or relative tolerance for decimals
        return abs(x - y) <= REL_TOL * max(abs(x), abs(y)) if x_decimal or y_decimal else x == y
    return gold, None if pred_rejected else pred


def _remember(key: tuple[str, str], value: bool | None) -> bool | None:
    if len(_CACHE) >= CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)), None)
    _CACHE[key] = value
    return value


def verify_batch(
    golds: Sequence[str], completions: Sequence[str], *, timeout_s: float = 1.0, workers: int | None = None
) -> list[bool | None]:
    r"""Verify each (gold, completion) pair like ``verify``; symbolic items are fanned out over the pool.

    >>> verify_batch(["182", r"\frac12", ""], [r"\boxed{182}", "#### 0.5", r"\boxed{1}"])
    [True, True, None]
    """
    if len(golds) != len(completions):
        raise ValueError(f"golds ({len(golds)}) and completions ({len(completions)}) differ in length")
    workers = workers or min(4, os.cpu_count() or 1)
    results: list[bool | None] = [None] * len(golds)
    pending: dict[tuple[str, str], tuple[tuple[str, str | None], list[int]]] = {}  # symbolic, deduplicated
    for i, (gold, completion) in enumerate(zip(golds, completions, strict=True)):
        _bump("calls")
        raw = extract_answer(completion)
        if raw is None:
            _bump("extraction_failures")
        g = _gold_span(gold)
        key = (g or "", normalize(raw) if raw else "")
        if g is None:
            continue
        if key in _CACHE:
            results[i] = _CACHE[key]
        elif key in pending:
            pending[key][1].append(i)
        elif isinstance(decided := _fast_compare(*key), tuple):
            pending[key] = (decided, [i])
        else:
            results[i] = _remember(key, decided)
    outcomes = _run_symbolic([item for item, _ in pending.values()], timeout_s, workers) if pending else []
    for (key, (_, indices)), outcome in zip(pending.items(), outcomes, strict=True):
        if outcome is _TIMEOUT:
            _bump("timeouts")
        value = False if outcome is _TIMEOUT else _remember(key, outcome)  # type: ignore[arg-type]
        for i in indices:
            results[i] = value
    _bump("unparsable_gold", sum(r is None for r in results))
    return results


def verify(gold: str, completion: str) -> bool | None:
    r"""True when the completion's final answer equals the gold; None when the gold is empty or unparsable.

    >>> verify("1000", r"The total is \boxed{1,000}"), verify(r"\frac12", "the answer is 0.5")
    (True, True)
    >>> verify("3", "I am not sure"), verify("", r"\boxed{3}")
    (False, None)
    """
    return verify_batch([gold], [completion])[0]
