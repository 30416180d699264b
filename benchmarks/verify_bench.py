"""Score the answer verifier against two labeled case sets, side by side with Math-Verify; time both.

    python benchmarks/verify_bench.py [--quick] [--no-math-verify]

Needs the ``bench`` extra (``pip install -e '.[bench]'``: Math-Verify 0.9); installs nothing itself. How
verdicts, agreement and times are measured: ``benchmarks/verify_measure.py``.

1. Labeled set (``tests/rewards/verify/verify_cases.jsonl``): agreement with the labels per category and
   overall, ours (``rewards.verify.verify_batch``) and Math-Verify (``math_verify.parse`` +
   ``math_verify.verify`` on gold and completion, any exception counted as False; an empty gold parse
   counts as None).
2. Mean time per case on the realistic completions (reasoning text + ``\\boxed{}``), one call per case:
   Math-Verify (warmed on the set, calls back to back), ours cold and ours warm (same calls again).
   Cold: before each call, untimed, every cache of ``rewards.verify`` in this process is emptied (the
   result and gold-parse dicts and the ``functools`` caches, ``verify_measure.clear_verifier_caches``)
   and so is each pool worker's parse cache, by a synchronous round trip (``pool.clear_worker_caches``
   sends clear tasks until every live worker has acknowledged one with its process id; no sleep), so the
   timed call starts right after, as Math-Verify's do. ANTLR's grammar (DFA) caches stay warm. The batch
   rows time one ``verify_batch`` over the set after the same clearing, or on a fresh pool.
3. Adversarial set (``tests/rewards/verify/verify_adversarial.py``), ours only, from the main thread and
   from a worker thread: max latency and the caller's peak RSS. Math-Verify is not run on it (its timeouts are
   signal-based and only work in the main thread).
4. Second labeled set: Math-Verify's own test cases (``benchmarks/data/math_verify_cases.jsonl``, read
   from its repository's tests by ``benchmarks/math_verify_cases.py``, which records the commit and
   version): agreement per test file and overall, families of disagreements, time per case; see
   ``benchmarks/verify_mv_set.py``.
5. Held-out set (``benchmarks/data/verify_heldout.jsonl``): answer pairs written after the verifier by a
   helper that had not read it or the other sets, committed before their first measurement and never used
   to change the verifier: agreement and time per case for both, as on the first set.

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
from importlib import metadata
from pathlib import Path

from verify_measure import (
    TIMEOUT_S,
    agreement_table,
    clear_verifier_caches,
    math_verify_detail,
    ours_timing,
    stats_ms,
    timed_each,
    wrong_cases,
)
from verify_mv_set import run_math_verify_set
from verify_report import render

ROOT = Path(__file__).resolve().parents[1]
CASES_PATH = ROOT / "tests" / "rewards" / "verify" / "verify_cases.jsonl"
ADVERSARIAL_PATH = ROOT / "tests" / "rewards" / "verify" / "verify_adversarial.py"
HELDOUT_PATH = ROOT / "benchmarks" / "data" / "verify_heldout.jsonl"


def load_cases(path: Path = CASES_PATH) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def is_realistic(case: dict) -> bool:
    """Reasoning text followed by a boxed answer (the shape of a typical RL rollout)."""
    return case["label"] is not None and "\\boxed" in case["completion"] and len(case["completion"]) >= 80


def run_heldout_set(math_verify: bool, path: Path = HELDOUT_PATH) -> dict:
    """Third set: answer pairs written after the verifier by someone who had not read it, and never used to
    change it; agreement with their labels and time per case (every case, one call each), both verifiers."""
    from rewards.verify import verify_batch

    cases = load_cases(path)
    pairs = [(c["gold"], c["completion"]) for c in cases]
    columns: dict[str, list[bool | None]] = {
        "ours": verify_batch([g for g, _ in pairs], [c for _, c in pairs], timeout_s=TIMEOUT_S)
    }
    extracted: dict[str, list[str | None]] = {}
    timing = {}
    if math_verify:
        mv = [math_verify_detail(gold, completion) for gold, completion in pairs]  # also warms Math-Verify
        columns["math_verify"] = [verdict for verdict, _ in mv]
        extracted["math_verify"] = [shown for _, shown in mv]
        timing["math_verify"] = stats_ms(timed_each(math_verify_detail, pairs))
    timing.update(ours_timing(pairs))
    return {
        "path": str(path.relative_to(ROOT)),
        "n_cases": len(cases),
        "agreement": agreement_table(cases, columns),
        "wrong": {name: wrong_cases(cases, col, extracted.get(name)) for name, col in columns.items()},
        "timing": timing,
    }


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


def run(args: argparse.Namespace) -> dict:
    from rewards.verify import counters_snapshot, reset_counters, verify_batch

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
    timing.update(ours_timing(pairs))
    second = run_math_verify_set(args.math_verify, args.quick)
    heldout = run_heldout_set(args.math_verify) if HELDOUT_PATH.exists() else None
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
        "math_verify_set": second,
        **({"heldout_set": heldout} if heldout else {}),
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
