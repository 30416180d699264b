"""The verify bench's second labeled set: Math-Verify's own test cases, ours and Math-Verify side by side.

The cases (``benchmarks/data/math_verify_cases.jsonl``) are read from Math-Verify's repository tests by
``benchmarks/math_verify_cases.py``; its header names the repository, commit and package version.

- Ours: ``verify_batch(golds, predictions)`` on the strings exactly as the test passes them (ours has no
  options), and the time rows of the first set (``verify_measure.ours_timing``) on all cases.
- Math-Verify as tested: what the test asserts. ``compare_strings`` (its ``tests/test_all.py`` helper):
  gold and prediction both parsed with ``LatexExtractionConfig(boxed_match_priority=0)`` for "latex" and
  ``ExprExtractionConfig()`` for "expr" in the test's ``match_types``, then ``verify(...,
  float_rounding=precision, strict=strict, allow_set_relation_comp=...)``; or ``verify(parse(gold),
  parse(pred))`` with Math-Verify's defaults. Any exception counts as False.
- Math-Verify with its defaults on every case, as on the first set (``verify_measure.math_verify_detail``).
- Families: input features (regular expressions on the last 120 characters of gold and prediction, chat
  tokens removed, and whether our extractor found an answer) counted over the cases each verifier gets
  wrong, with examples. A case can be in several.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from math_verify_cases import load as load_cases
from verify_measure import (
    TIMEOUT_S,
    agreement_table,
    math_verify_detail,
    ours_timing,
    stats_ms,
    timed_each,
    wrong_cases,
)

CASES_PATH = Path(__file__).resolve().parent / "data" / "math_verify_cases.jsonl"
MATH_DELIMITER = re.compile(r"\$|\\\(|\\\[")
CHAT_TOKEN = re.compile(r"<\|?/?[A-Za-z_]+\|?>")  # <|im_start|>, </think>: not relations
TAIL_CHARS = 120  # content families look at the last characters of gold and prediction (the answer's end)


def as_labeled(case: dict) -> dict:
    """A Math-Verify case in the first set's schema: category = test file, note = case id."""
    return {
        "category": case["file"],
        "gold": case["gold"],
        "completion": case["prediction"],
        "label": case["expected"],
        "note": case["id"],
        "config": case["config"],
    }


def math_verify_as_tested(gold: str, prediction: str, config: dict) -> tuple[bool, str | None]:
    """Math-Verify's verdict the way the case's test computes it, and its parse of the prediction."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    try:
        if config["helper"] == "parse_verify":
            pred = parse(prediction)
            verdict = verify(parse(gold), pred)
        else:
            targets = {"latex": LatexExtractionConfig(boxed_match_priority=0), "expr": ExprExtractionConfig()}
            chosen = [targets[t] for t in config["match_types"] if t in targets]
            pred = parse(prediction, chosen)
            verdict = verify(
                parse(gold, chosen),
                pred,
                float_rounding=config["precision"],
                strict=config["strict"],
                allow_set_relation_comp=config["allow_set_relation_comp"],
            )
        return bool(verdict), str(pred[-1]) if pred else None
    except Exception as exc:
        return False, f"<{type(exc).__name__}>"


def _tail(text: str) -> str:
    return CHAT_TOKEN.sub("", text).rstrip()[-TAIL_CHARS:]


def _either(pattern: str):
    regex = re.compile(pattern)
    return lambda c, found: bool(regex.search(_tail(c["gold"])) or regex.search(_tail(c["completion"])))


def _decimal_vs_exact(c: dict, found) -> bool:
    decimal, exact = re.compile(r"\d\.\d{2,}"), re.compile(r"\\[a-z]*frac|\\sqrt|\d/\d")
    g, p = _tail(c["gold"]), _tail(c["completion"])
    return bool(decimal.search(g) and exact.search(p) or decimal.search(p) and exact.search(g))


FAMILIES = {  # name -> (description, predicate(labeled case, our extracted answer))
    "no answer found, math mode": (
        "our extractor finds no answer; the prediction has `$`, `\\(` or `\\[` but no `\\boxed`/tag",
        lambda c, found: found is None and bool(MATH_DELIMITER.search(c["completion"])),
    ),
    "no answer found, bare or prose": (
        "our extractor finds no answer; the prediction has no math delimiters",
        lambda c, found: found is None and not MATH_DELIMITER.search(c["completion"]),
    ),
    "gold is a solution or several boxes": (
        "gold holds `\\boxed` or is over 100 characters (Math-Verify extracts from the gold too)",
        lambda c, found: "\\boxed" in c["gold"] or len(c["gold"]) > 100,
    ),
    "several boxed answers": (
        "the prediction has two or more `\\boxed`",
        lambda c, f: c["completion"].count("\\boxed") > 1,
    ),
    "number separators": (
        "thousands or decimal separators of other locales, or a leading-dot decimal (`1 000`, `1,000.99`, "
        "`1000,99`, `.4`)",
        _either(r"\d{1,3}(,\d{3})+\b|\d \d{3}\b|\d,\d{1,2}\b|(^|[^\d])\.\d"),
    ),
    "short LaTeX": (
        "`\\frac13`, `\\frac3{3}`, `\\sqrt3`, `\\cfrac`/`\\dfrac`/`\\tfrac`",
        _either(r"\\frac\s*\d|\\sqrt\s*\d|\\[cdt]frac"),
    ),
    "relations": (
        "inequalities or set membership (`<`, `>=`, `\\geq`, `\\lt`, `!=`, `\\neq`, `\\approx`, `\\in`)",
        _either(r"<|>|!=|\\(le|ge|leq|geq|lt|gt|ne|neq|approx|in)\b"),
    ),
    "equations": ("an `=` (assignment `x = …`, `k=1`, chains `a = b = c`)", _either(r"(?<![<>!])=")),
    "matrices": ("`pmatrix`, `bmatrix` or `array`", _either(r"\\begin\{([pbv]?matrix|array)\}")),
    "percent or units": (
        "percent as a sign or a word, or a unit after the number",
        _either(r"%|percent|pct|\\text(normal|bf)?\{\s*(meters|miles|cm)|\\mbox|m²|€"),
    ),
    "text answers": (
        "the gold is or holds `\\text{words}` or `\\mathrm`",
        lambda c, found: bool(re.search(r"\\text\{[A-Za-z][A-Za-z ]*\}|\\mathrm", _tail(c["gold"]))),
    ),
    "decimal vs exact": (
        "a decimal of 2+ places on one side, a fraction or root on the other",
        _decimal_vs_exact,
    ),
}


def families(cases: list[dict], columns: dict[str, list], found: list[str | None]) -> list[dict]:
    """Per family: its cases, how many each verifier gets wrong, and up to 3 of our wrong ones (those in
    the fewest families first, so that an example shows its family rather than another)."""
    member = {n: {i for i, c in enumerate(cases) if pred(c, found[i])} for n, (_, pred) in FAMILIES.items()}
    spread = [sum(i in ids for ids in member.values()) for i in range(len(cases))]
    out = []
    for name, (description, _) in FAMILIES.items():
        ids = sorted(member[name], key=lambda i: (spread[i], i))
        wrong = {col: [i for i in ids if res[i] is not cases[i]["label"]] for col, res in columns.items()}
        examples = [
            {
                "id": cases[i]["note"],
                "gold": _short(cases[i]["gold"], 60),
                "prediction": _short(cases[i]["completion"], 90),
                "extracted": found[i],
                "expected": cases[i]["label"],
                "got": columns["ours"][i],
            }
            for i in wrong["ours"][:3]
        ]
        counts = {col: len(i) for col, i in wrong.items()}
        out.append(
            {"family": name, "description": description, "n": len(ids), "wrong": counts, "examples": examples}
        )
    return sorted(out, key=lambda f: -f["wrong"]["ours"])


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else "…" + text[-(n - 1) :]


def run_math_verify_set(math_verify: bool, quick: bool, path: Path = CASES_PATH) -> dict:
    """Agreement per test file and overall, families, and time per case, ours and Math-Verify."""
    from rewards.verify import counters_snapshot, extract_answer, reset_counters, verify_batch

    header, raw = load_cases(path)
    cases = [as_labeled(c) for c in (raw[::3] if quick else raw)]
    pairs = [(c["gold"], c["completion"]) for c in cases]
    reset_counters()
    start = time.perf_counter()
    columns: dict[str, list] = {
        "ours": verify_batch([g for g, _ in pairs], [c for _, c in pairs], timeout_s=TIMEOUT_S)
    }
    batch_s, counters = time.perf_counter() - start, counters_snapshot()
    extracted: dict[str, list] = {"ours": [extract_answer(c) for _, c in pairs]}
    timing = {}
    if math_verify:
        tested = [(c["gold"], c["completion"], c["config"]) for c in cases]
        for name, fn, items in (
            ("math_verify", math_verify_as_tested, tested),
            ("math_verify_defaults", math_verify_detail, pairs),
        ):
            found = [fn(*item) for item in items]  # also warms Math-Verify for the timed pass
            columns[name], extracted[name] = [v for v, _ in found], [s for _, s in found]
        timing["math_verify"] = stats_ms(timed_each(math_verify_as_tested, tested))
    timing.update(ours_timing(pairs))
    plain = [i for i, c in enumerate(cases) if _default_options(c["config"])]
    agreement = agreement_table(cases, columns)
    agreement["tests without options"] = agreement_table(
        [cases[i] for i in plain], {k: [v[i] for i in plain] for k, v in columns.items()}
    )["overall"]
    return {
        "source": header["source"],
        "kept": header["kept"],
        "skipped": header["skipped"],
        "n_cases": len(cases),
        "batch_s": batch_s,
        "counters": counters,
        "agreement": agreement,
        "wrong": {name: wrong_cases(cases, col, extracted[name]) for name, col in columns.items()},
        "families": families(cases, columns, extracted["ours"]),
        "timing": timing,
    }


def _default_options(config: dict) -> bool:
    """The test passes no extraction, precision or strictness option (Math-Verify's defaults but the
    boxed priority of ``compare_strings``)."""
    return config["helper"] == "parse_verify" or (
        config["match_types"] == ["latex", "expr"]
        and config["precision"] == 6
        and config["strict"]
        and not config["allow_set_relation_comp"]
    )
