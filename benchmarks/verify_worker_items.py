"""Which cases leave the verifier's in-process path for the sandboxed worker, why, and what each costs cold.

    nice -n 19 python benchmarks/verify_worker_items.py [--set mv|labeled] [--reps 2] [--all]
    nice -n 19 python benchmarks/verify_worker_items.py --verdicts OUT.json [--compare OLD.json]

A case goes to the worker when ``rewards.verify._fast_compare`` (numbers, number structures, ``fastpath``,
``intervals``) returns the (gold, prediction) item instead of a verdict. Each such item is put in the first
family (``FAMILIES``, regular expressions on the item) that matches, and timed the way the bench times a
cold call (``verify_measure.clear_all_caches`` untimed before each ``verify``), ``--reps`` times. With
``--all`` every case of the set is timed, and the mean over the set is printed: an estimate from a few
repetitions on a busy machine, not the bench (``benchmarks/verify_bench.py`` is the measurement).

``--verdicts`` writes ``verify_batch``'s verdict of every case of both sets (nothing timed); ``--compare``
lists the cases whose verdict differs from an earlier such file (a change of the in-process path must
leave every verdict as it was).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from math_verify_cases import load as load_mv
from verify_measure import clear_all_caches

ROOT = Path(__file__).resolve().parents[1]
LABELED_PATH = ROOT / "tests" / "rewards" / "verify" / "verify_cases.jsonl"

FAMILIES = {  # first match wins; searched in "gold | prediction" of the worker item
    "matrix": r"\\begin\{",
    "plus-minus": r"\\pm|\\mp",
    "escaped backslashes (\\\\frac, \\()": r"\\\\frac|\\\(",
    "tuples inside a list or set": r"\),\(|\)or\(|\);\(|^\(.*\),",
    "functions (f(x), \\sin)": r"(?<![\\A-Za-z])[a-zA-Z]\(|\\(?:sin|cos|tan|sec|log|ln)",
    "subscripts": r"_",
    "relations (\\neq, \\approx, \\in, <)": r"\\neq|!=|\\approx|\\in(?![a-z])|\\leq|\\geq|<|>",
    "sets and unions": r"\\cup|\\\{",
    "equations and assignments": r"=",
    "ratios and times (7:32)": r"\d:\d",
    "number spellings": r"\\cfrac|\{,\}|^\d+,\d+",
}


def labeled_cases(which: str) -> list[tuple[str, str, str, object]]:
    """(id, gold, completion, expected) of the chosen set."""
    if which == "mv":
        return [(c["id"], c["gold"], c["prediction"], c["expected"]) for c in load_mv()[1]]
    with LABELED_PATH.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [(f"{r['category']}[{i}]", r["gold"], r["completion"], r["label"]) for i, r in enumerate(rows)]


def worker_item(gold: str, completion: str) -> tuple[str, str | None] | None:
    """The item ``verify`` would send to the worker for this case, or None when it decides in process."""
    import rewards.verify as v
    from rewards.verify.normalize import normalize

    g = v._gold_span(gold)
    if g is None:
        return None
    raw = v.extract_answer(completion)
    decided = v._fast_compare(g, normalize(raw) if raw else "")
    return decided if isinstance(decided, tuple) else None


def family(item: tuple[str, str | None]) -> str:
    text = f"{item[0]} | {item[1]}"
    return next((name for name, pattern in FAMILIES.items() if re.search(pattern, text)), "other")


def cold_ms(gold: str, completion: str, reps: int) -> float:
    from rewards.verify import verify

    times = []
    for _ in range(reps):
        clear_all_caches()
        start = time.perf_counter()
        verify(gold, completion)
        times.append(time.perf_counter() - start)
    return 1000 * sum(times) / len(times)


def report(which: str, reps: int, time_all: bool) -> None:
    cases = labeled_cases(which)
    groups: dict[str, list[tuple[str, tuple, float]]] = {}
    total_ms = 0.0
    for case_id, gold, completion, _ in cases:
        item = worker_item(gold, completion)
        if item is None and not time_all:
            continue
        ms = cold_ms(gold, completion, reps)
        total_ms += ms
        if item is not None:
            groups.setdefault(family(item), []).append((case_id, item, ms))
    n_items = sum(len(g) for g in groups.values())
    print(f"{which}: {len(cases)} cases, {n_items} go to the worker (cold ms: mean of {reps} calls)")
    for name, rows in sorted(groups.items(), key=lambda kv: -sum(r[2] for r in kv[1])):
        print(f"\n## {name}: {len(rows)} items, {sum(r[2] for r in rows):.0f} ms")
        for case_id, (g, p), ms in sorted(rows, key=lambda r: -r[2]):
            print(f"  {ms:6.1f}  {case_id}: {g[:70]} | {(p or '')[:70]}")
    label = "all cases" if time_all else "worker items only"
    print(f"\nsum of cold ms ({label}): {total_ms:.0f}; per case of the set: {total_ms / len(cases):.2f} ms")


def verdicts() -> dict[str, dict[str, object]]:
    from rewards.verify import verify_batch

    out = {}
    for which in ("mv", "labeled"):
        cases = labeled_cases(which)
        results = verify_batch([c[1] for c in cases], [c[2] for c in cases])
        out[which] = {c[0]: r for c, r in zip(cases, results, strict=True)}
        agree = sum(r is c[3] for c, r in zip(cases, results, strict=True))
        print(f"{which}: {agree}/{len(cases)} agree with the expected verdict")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=("mv", "labeled"), default="mv")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--all", action="store_true", help="time every case, not only the worker items")
    parser.add_argument("--verdicts", type=Path, help="write every verdict of both sets here instead")
    parser.add_argument("--compare", type=Path, help="with --verdicts: list cases that changed")
    args = parser.parse_args()
    if args.verdicts is None:
        report(args.set, args.reps, args.all)
        return 0
    found = verdicts()
    args.verdicts.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
    if args.compare is None:
        return 0
    old = json.loads(args.compare.read_text(encoding="utf-8"))
    changed = [(s, k, old[s].get(k), v) for s in found for k, v in found[s].items() if old[s].get(k) != v]
    for s, k, before, after in changed:
        print(f"changed {s} {k}: {before} -> {after}")
    print(f"{len(changed)} verdicts changed")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
