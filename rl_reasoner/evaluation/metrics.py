"""Metrics over sampled completions: pass@k, maj@k, token statistics, truncation, the budget curve.

Input is the records ``samples.jsonl`` holds, one per prompt::

    {"level": 2, "samples": [{"correct": true, "tokens": 31, "truncated": false, "vote": 0}, ...]}

``vote`` is the sample's answer class (equal classes: answers the verifier deems equivalent; ``None``:
no answer or truncated, so no vote), assigned by :func:`answer_classes` when the samples are scored.
Everything here is pure Python and deterministic.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from rewards.verify import normalize, verify_batch

EXTRACTION = "lenient"  # answers are read as graders read them: boxed or not (rewards.verify.MODES)
BUDGET_START = 32


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): ``1 - C(n-c, k) / C(n, k)``, as a product (no huge binomials).

    >>> pass_at_k(4, 1, 1), pass_at_k(4, 1, 4), pass_at_k(5, 0, 3)
    (0.25, 1.0, 0.0)
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    fail = 1.0
    for i in range(n - c + 1, n + 1):
        fail *= 1.0 - k / i
    return 1.0 - fail


def majority_correct(samples: Sequence[Mapping], k: int) -> bool:
    """maj@k for one prompt: the largest answer class among the first ``k`` samples (ties: the class seen
    first) is right when its first member is; no vote at all counts as wrong."""
    votes = [s["vote"] for s in samples[:k] if s.get("vote") is not None]
    if not votes:
        return False
    counts = Counter(votes)
    winner = max(dict.fromkeys(votes), key=lambda v: counts[v])  # max keeps the first of equal counts
    return bool(next(s["correct"] for s in samples[:k] if s.get("vote") == winner))


def answer_classes(answers: Sequence[str | None], equivalent: Callable | None = None) -> list[int | None]:
    """A class label per answer (0, 1, …, in order of first appearance): answers that are equal after
    normalisation, or that the verifier finds equivalent (either one taken as the gold), share a label.

    >>> answer_classes(["12", None, "12.0", "7", r"\\frac{24}{2}"])
    [0, None, 0, 1, 0]
    """
    keys = [normalize(a) if a and a.strip() else None for a in answers]
    distinct = list(dict.fromkeys(k for k in keys if k is not None))
    parent = list(range(len(distinct)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = [(i, j) for i in range(len(distinct)) for j in range(i + 1, len(distinct))]
    for (i, j), same in zip(pairs, (equivalent or _verifier_equivalent)(distinct, pairs), strict=True):
        ri, rj = root(i), root(j)
        if same and ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    labels: dict[int, int] = {}
    index = {key: i for i, key in enumerate(distinct)}
    return [None if k is None else labels.setdefault(root(index[k]), len(labels)) for k in keys]


def _verifier_equivalent(answers: Sequence[str], pairs: Sequence[tuple[int, int]]) -> list[bool]:
    golds = [answers[i] for i, j in pairs] + [answers[j] for i, j in pairs]
    preds = [f"\\boxed{{{answers[j]}}}" for i, j in pairs] + [f"\\boxed{{{answers[i]}}}" for i, j in pairs]
    verdicts = verify_batch(golds, preds) if pairs else []
    half = len(pairs)
    return [bool(verdicts[p]) or bool(verdicts[half + p]) for p in range(half)]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), ``q`` in [0, 100].

    >>> percentile([1, 2, 3, 4], 50), percentile([10], 90), percentile([0, 10], 90)
    (2.5, 10.0, 9.0)
    """
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (pos - low))


def budgets(max_new_tokens: int, start: int = BUDGET_START) -> list[int]:
    """32, 64, 128, … below ``max_new_tokens``, then ``max_new_tokens`` itself.

    >>> budgets(256), budgets(100), budgets(16)
    ([32, 64, 128, 256], [32, 64, 100], [16])
    """
    out, b = [], start
    while b < max_new_tokens:
        out.append(b)
        b *= 2
    return [*out, max_new_tokens]


def correct_within(sample: Mapping, budget: int) -> bool:
    """Right had generation stopped at ``budget`` new tokens: the EOS must fit, so ``tokens < budget``."""
    return bool(sample["correct"]) and sample["tokens"] < budget


def summarize(records: Sequence[Mapping], ks: Iterable[int]) -> dict:
    """pass@1, pass@k and maj@k for each k, token statistics and the truncation rate over ``records``."""
    samples = [s for r in records for s in r["samples"]]
    if not samples:
        return {"prompts": len(records), "samples": 0}
    out: dict = {"prompts": len(records), "samples": len(samples)}
    out["pass@1"] = _mean(sum(s["correct"] for s in r["samples"]) / len(r["samples"]) for r in records)
    for k in ks:
        out[f"pass@{k}"] = _mean(
            pass_at_k(len(r["samples"]), sum(s["correct"] for s in r["samples"]), k) for r in records
        )
        out[f"maj@{k}"] = _mean(majority_correct(r["samples"], k) for r in records)
    tokens = [s["tokens"] for s in samples]
    out.update(
        mean_tokens=_mean(tokens),
        median_tokens=percentile(tokens, 50),
        p90_tokens=percentile(tokens, 90),
        truncation_rate=_mean(s["truncated"] for s in samples),
    )
    if any("spent_tokens" in s for s in samples):  # a search's picks: what choosing them cost per prompt
        out["mean_spent_tokens"] = _mean(sum(s.get("spent_tokens", 0) for s in r["samples"]) for r in records)
    return out


def budget_curve(records: Sequence[Mapping], max_new_tokens: int) -> list[dict]:
    """Accuracy (pass@1) re-scored at each budget: a completion that does not end within it is wrong."""
    return [
        {
            "budget": b,
            "accuracy": _mean(
                sum(correct_within(s, b) for s in r["samples"]) / len(r["samples"]) for r in records
            ),
        }
        for b in budgets(max_new_tokens)
    ]


def evaluate(records: Sequence[Mapping], ks: Iterable[int], max_new_tokens: int) -> dict:
    """``overall`` summary, ``levels`` (when records carry a level) and the ``budget_curve``."""
    ks = list(ks)
    result = {"overall": summarize(records, ks), "budget_curve": budget_curve(records, max_new_tokens)}
    levels = sorted({r["level"] for r in records if r.get("level") is not None}, key=_level_key)
    if levels:
        result["levels"] = {
            str(lv): summarize([r for r in records if r.get("level") == lv], ks) for lv in levels
        }
    return result


def robustness(original: Mapping, perturbed: Mapping) -> dict:
    """pass@1 on the original vs the perturbed problems, overall and per level (drop: the difference)."""

    def pair(a: Mapping, b: Mapping) -> dict:
        return {"original": a["pass@1"], "perturbed": b["pass@1"], "drop": a["pass@1"] - b["pass@1"]}

    out = {"overall": pair(original["overall"], perturbed["overall"])}
    shared = [lv for lv in original.get("levels", {}) if lv in perturbed.get("levels", {})]
    if shared:
        out["levels"] = {lv: pair(original["levels"][lv], perturbed["levels"][lv]) for lv in shared}
    return out


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _level_key(level: object) -> tuple:
    return (0, float(level), "") if isinstance(level, (int, float)) else (1, 0.0, str(level))
