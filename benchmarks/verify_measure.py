"""How ``benchmarks/verify_bench.py`` measures, shared by its labeled sets: Math-Verify's verdicts,
agreement with the labels, verifier cache clearing and timing.

A labeled case is ``{"category", "gold", "completion", "label", "note"}``; ``label`` is True, False or None
(gold unparsable).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

TIMEOUT_S = 1.0
WORKERS = min(4, os.cpu_count() or 1)  # verify_batch's default


def clear_verifier_caches() -> list[str]:
    """Empty every cache of ``rewards.verify`` (dicts named *cache*, ``functools`` caches); their names."""
    cleared = []
    for module_name, module in list(sys.modules.items()):
        if module is None or not (
            module_name == "rewards.verify" or module_name.startswith("rewards.verify.")
        ):
            continue
        for attr, value in list(vars(module).items()):
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
                cleared.append(f"{module_name}.{attr}")
            elif "cache" in attr.lower() and isinstance(value, dict):
                value.clear()
                cleared.append(f"{module_name}.{attr}")
    return cleared


def clear_all_caches() -> None:
    """Caller-side caches and every worker's parse cache; the parser's grammar (DFA) caches stay warm."""
    from rewards.verify import pool

    clear_verifier_caches()
    pool.clear_worker_caches(WORKERS)


def fresh_pool() -> None:
    """A new pool: its workers fork from the warmed-up fork server and have parsed nothing of this set."""
    from rewards.verify import pool

    pool.kill_pool()
    pool.clear_worker_caches(WORKERS)  # starts the pool outside the timed region


def timed_batch(pairs: list[tuple[str, str]]) -> dict[str, float]:
    from rewards.verify import verify_batch

    start = time.perf_counter()
    verify_batch([g for g, _ in pairs], [c for _, c in pairs], timeout_s=TIMEOUT_S, workers=WORKERS)
    return {"mean_ms": 1000 * (time.perf_counter() - start) / len(pairs), "n": len(pairs)}


def math_verify_detail(gold: str, completion: str) -> tuple[bool | None, str | None]:
    """Math-Verify's verdict and its parse of the completion (last item, as a string).

    The verdict is None when the gold parses to nothing and False on any exception."""
    from math_verify import parse, verify

    try:
        gold_parsed = parse(gold if "\\boxed" in gold or "$" in gold else f"${gold}$")
        pred_parsed = parse(completion)
        shown = str(pred_parsed[-1]) if pred_parsed else None
        if not gold_parsed:
            return None, shown
        return bool(verify(gold_parsed, pred_parsed)), shown
    except Exception as exc:
        return False, f"<{type(exc).__name__}>"


def agreement_table(cases: list[dict], columns: dict[str, list[bool | None]]) -> dict[str, dict]:
    """Per category and overall: n and, per column, the fraction of results equal to the label."""
    groups: dict[str, list[int]] = {}
    for i, case in enumerate(cases):
        groups.setdefault(case["category"], []).append(i)
    groups["overall"] = list(range(len(cases)))
    table = {}
    for group, indices in groups.items():
        row: dict = {"n": len(indices)}
        for name, results in columns.items():
            row[name] = sum(results[i] is cases[i]["label"] for i in indices) / len(indices)
        table[group] = row
    return table


def wrong_cases(
    cases: list[dict], results: list[bool | None], extracted: list[str | None] | None
) -> list[dict]:
    """The cases where ``results`` differ from the labels; ``extracted`` defaults to our extractor's span."""
    from rewards.verify import extract_answer

    out = []
    for i, (case, got) in enumerate(zip(cases, results, strict=True)):
        if got is not case["label"]:
            completion = case["completion"]
            short = completion if len(completion) <= 120 else "..." + completion[-117:]
            out.append(
                {
                    "category": case["category"],
                    "gold": case["gold"],
                    "completion": short,
                    "extracted": extracted[i] if extracted else extract_answer(completion),
                    "expected": case["label"],
                    "got": got,
                    "note": case["note"],
                }
            )
    return out


def timed_each(fn: Callable[..., object], items: list[tuple], before=None) -> list[float]:
    """Seconds of each ``fn(*item)`` call; ``before()`` runs untimed before each."""
    times = []
    for item in items:
        if before is not None:
            before()
        start = time.perf_counter()
        fn(*item)
        times.append(time.perf_counter() - start)
    return times


def stats_ms(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "mean_ms": 1000 * sum(ordered) / len(ordered),
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "max_ms": 1000 * ordered[-1],
        "n": len(ordered),
    }


def ours_timing(pairs: list[tuple[str, str]]) -> dict[str, dict]:
    """Our time rows on ``(gold, completion)`` pairs: one batch on fresh workers, one call per case with
    every cache cleared before each, one batch with caches cleared, one call per case on cache hits."""
    from rewards.verify import verify

    clear_verifier_caches()  # the caller's result cache holds the agreement run's verdicts
    fresh_pool()
    timing = {"ours_first_sight_one_batch": timed_batch(pairs)}
    timing["ours_cold"] = stats_ms(timed_each(verify, pairs, before=clear_all_caches))
    clear_all_caches()
    timing["ours_cold_one_batch"] = timed_batch(pairs)
    timing["ours_warm"] = stats_ms(timed_each(verify, pairs))
    return timing
