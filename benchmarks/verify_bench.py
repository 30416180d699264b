"""Score the answer verifier against the labeled case set, side by side with Math-Verify; time both.

    python benchmarks/verify_bench.py [--quick] [--no-math-verify]

Needs the ``bench`` extra (``pip install -e '.[bench]'``: Math-Verify 0.9); installs nothing itself.

1. Labeled set (``tests/rewards/verify/verify_cases.jsonl``): agreement with the labels per category and
   overall, ours (``rewards.verify.verify_batch``) and Math-Verify (``math_verify.parse`` +
   ``math_verify.verify`` on gold and completion, any exception counted as False; an empty gold parse
   counts as None).
2. Mean time per case on the realistic completions (reasoning text + ``\\boxed{}``): Math-Verify, ours
   cold (verifier caches cleared before every call) and ours warm (same calls again), one call per case.
3. Adversarial set (``tests/rewards/verify/verify_adversarial.py``), ours only, from the main thread and
   from a worker thread: max latency and the caller's peak RSS. Math-Verify is not run on it (its timeouts are
   signal-based and only work in the main thread).

Writes ``benchmarks/results/verify.json`` and ``docs/verify-results.md`` and prints the table.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from verify_report import render

ROOT = Path(__file__).resolve().parents[1]
CASES_PATH = ROOT / "tests" / "rewards" / "verify" / "verify_cases.jsonl"
ADVERSARIAL_PATH = ROOT / "tests" / "rewards" / "verify" / "verify_adversarial.py"
TIMEOUT_S = 1.0
WORKERS = min(4, os.cpu_count() or 1)  # verify_batch's default


def load_cases(path: Path = CASES_PATH) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def is_realistic(case: dict) -> bool:
    """Reasoning text followed by a boxed answer (the shape of a typical RL rollout)."""
    return case["label"] is not None and "\\boxed" in case["completion"] and len(case["completion"]) >= 80


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


def timed_each(fn: Callable[[str, str], object], pairs: list[tuple[str, str]], before=None) -> list[float]:
    times = []
    for gold, completion in pairs:
        if before is not None:
            before()
        start = time.perf_counter()
        fn(gold, completion)
        times.append(time.perf_counter() - start)
    return times


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_adversarial(cases: list[tuple[str, str, str]], in_thread: bool) -> dict:
    from rewards.verify import verify_batch

    latencies: dict[str, float] = {}
    results: dict[str, bool | None] = {}

    def work() -> None:
        for name, gold, completion in cases:
            start = time.perf_counter()
            results[name] = verify_batch([gold], [completion], timeout_s=TIMEOUT_S)[0]
            latencies[name] = time.perf_counter() - start

    if in_thread:
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        thread.join(timeout=60 + 5 * len(cases))
    else:
        work()
    slowest = max(latencies, key=latencies.get)
    return {
        "max_latency_s": latencies[slowest],
        "slowest_case": slowest,
        "over_deadline": sorted(n for n, t in latencies.items() if t > TIMEOUT_S + 0.5),
        "injection_true": sorted(n for n, r in results.items() if n.startswith("inject-") and r is True),
        "peak_rss_mb": max_rss_mb(),
        "latency_s": latencies,
        "results": results,
    }


def load_adversarial(marker_dir: Path) -> list[tuple[str, str, str]]:
    spec = importlib.util.spec_from_file_location("verify_adversarial", ADVERSARIAL_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_cases(marker_dir)


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=40"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions() -> dict[str, str]:
    found = {}
    for package in ("sympy", "latex2sympy2_extended", "antlr4-python3-runtime", "math-verify"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def stats_ms(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "mean_ms": 1000 * sum(ordered) / len(ordered),
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "max_ms": 1000 * ordered[-1],
        "n": len(ordered),
    }


def run(args: argparse.Namespace) -> dict:
    from rewards.verify import counters_snapshot, reset_counters, verify, verify_batch

    cases = load_cases()
    if args.quick:
        cases = cases[::3]
    rss = {"start_mb": max_rss_mb()}
    reset_counters()
    start = time.perf_counter()
    ours = verify_batch([c["gold"] for c in cases], [c["completion"] for c in cases], timeout_s=TIMEOUT_S)
    ours_batch_s = time.perf_counter() - start
    labeled_counters = counters_snapshot()  # timeouts here make results depend on machine load
    rss["after_labeled_mb"] = max_rss_mb()

    with tempfile.TemporaryDirectory() as marker_dir:
        adversarial = load_adversarial(Path(marker_dir))
        adv = {"main_thread": run_adversarial(adversarial, in_thread=False)}
        if not args.quick:
            adv["worker_thread"] = run_adversarial(adversarial, in_thread=True)
        side_effects = sorted(p.name for p in Path(marker_dir).iterdir())
    rss["after_adversarial_mb"] = max_rss_mb()

    columns: dict[str, list[bool | None]] = {"ours": ours}
    extracted: dict[str, list[str | None]] = {}
    realistic = [c for c in cases if is_realistic(c)][: 40 if args.quick else None]
    pairs = [(c["gold"], c["completion"]) for c in realistic]
    timing = {}
    if args.math_verify:
        mv = [math_verify_detail(c["gold"], c["completion"]) for c in cases]  # also warms Math-Verify
        columns["math_verify"] = [verdict for verdict, _ in mv]
        extracted["math_verify"] = [shown for _, shown in mv]
        timing["math_verify"] = stats_ms(timed_each(math_verify_detail, pairs))
    cleared = clear_verifier_caches()
    fresh_pool()
    timing["ours_first_sight_one_batch"] = timed_batch(pairs)
    timing["ours_cold"] = stats_ms(timed_each(verify, pairs, before=clear_all_caches))
    clear_all_caches()
    timing["ours_cold_one_batch"] = timed_batch(pairs)
    timing["ours_warm"] = stats_ms(timed_each(verify, pairs))
    rss["end_mb"] = max_rss_mb()
    return {
        "command": " ".join(["python", "benchmarks/verify_bench.py", *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions(),
        "quick": args.quick,
        "timeout_s": TIMEOUT_S,
        "n_cases": len(cases),
        "labeled_batch_s": ours_batch_s,
        "labeled_counters": labeled_counters,
        "agreement": agreement_table(cases, columns),
        "wrong": {name: wrong_cases(cases, col, extracted.get(name)) for name, col in columns.items()},
        "timing_realistic": timing,
        "caches_cleared": cleared,
        "adversarial": {"n_cases": len(adversarial), "side_effects": side_effects, **adv},
        "rss": rss,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a third of the labeled set, main thread only")
    parser.add_argument("--no-math-verify", dest="math_verify", action="store_false")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "verify.json")
    parser.add_argument("--md", type=Path, default=ROOT / "docs" / "verify-results.md")
    args = parser.parse_args()
    if args.math_verify and importlib.util.find_spec("math_verify") is None:
        print("math_verify is not installed (pip install -e '.[bench]'); running without it", file=sys.stderr)
        args.math_verify = False
    sys.path.insert(0, str(ROOT))
    res = run(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    args.md.parent.mkdir(parents=True, exist_ok=True)
    text = render(res)
    args.md.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
