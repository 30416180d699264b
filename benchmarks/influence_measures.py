"""The measures of benchmarks/influence.py, pure (no model): what a (queries, documents) matrix of influence
scores says about the queries, and the exact / permutation tests the findings are reported with.

A query's *own* documents are the SFT rows that state its fact (same ``key``); arithmetic queries have none.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence

TOP_SHARE = 0.01  # "top 1 % of scores"
_STEP = re.compile(r"^\d+(?:[+-]\d+)+=\d+$")  # a column step of an arithmetic trace: 8+2+0=10, 2+3=5


def top_count(n_documents: int, share: float = TOP_SHARE) -> int:
    """How many documents the top ``share`` of scores holds (at least one).

    >>> top_count(1250), top_count(50)
    (13, 1)
    """
    return max(1, math.ceil(share * n_documents - 1e-9))


def top_indices(row: Sequence[float], k: int) -> list[int]:
    """Indices of the ``k`` largest values, largest first (ties: lower index first)."""
    return sorted(range(len(row)), key=lambda j: (-row[j], j))[:k]


def own_hit_share(scores: Sequence[Sequence[float]], query_keys: Sequence[str], doc_keys: Sequence, t: int):
    """Share of queries with one of their own documents (``doc_keys[j] == query_keys[i]``) among their top
    ``t`` scores; None without queries."""
    if not query_keys:
        return None
    pairs = zip(scores, query_keys, strict=True)
    hits = sum(any(doc_keys[j] == key for j in top_indices(row, t)) for row, key in pairs)
    return hits / len(query_keys)


def shuffled_hit_share(scores, query_keys, doc_keys, t: int, *, reps: int = 200, seed: int = 0):
    """:func:`own_hit_share` with the document ids shuffled (the control), mean over ``reps`` shuffles."""
    if not query_keys:
        return None
    rng, keys = random.Random(seed), list(doc_keys)
    total = 0.0
    for _ in range(reps):
        rng.shuffle(keys)
        total += own_hit_share(scores, query_keys, keys, t)
    return total / reps


def chance_hit(n_documents: int, n_own: int, t: int) -> float:
    """Probability that ``t`` documents drawn at random include one of ``n_own`` given ones.

    >>> round(chance_hit(100, 1, 10), 6)
    0.1
    """
    return 1 - math.comb(n_documents - n_own, t) / math.comb(n_documents, t)


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    vx, vy = sum((a - mx) ** 2 for a in x), sum((b - my) ** 2 for b in y)
    return cov / math.sqrt(vx * vy) if vx and vy else 0.0


def correlation_matrix(scores: Sequence[Sequence[float]]) -> list[list[float]]:
    """Pearson correlation between every two queries' score rows (over the documents)."""
    n = len(scores)
    out = [[1.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            out[i][j] = out[j][i] = pearson(scores[i], scores[j])
    return out


def within_mean(corr: Sequence[Sequence[float]], members: Sequence[int]) -> float | None:
    """Mean correlation over the distinct pairs of ``members``; None for fewer than two."""
    pairs = [corr[a][b] for i, a in enumerate(members) for b in members[i + 1 :]]
    return sum(pairs) / len(pairs) if pairs else None


def same_kind_mean(corr: Sequence[Sequence[float]], members: Sequence[int], labels: Sequence[str]):
    """Mean correlation over the distinct pairs of ``members`` with equal ``labels``; None without any."""
    pairs = [corr[a][members[j]] for i, a in enumerate(members) for j in range(i + 1, len(members))
             if labels[i] == labels[j]]  # fmt: skip
    return sum(pairs) / len(pairs) if pairs else None


def _permutation_p(stat, labels: Sequence[str], reps: int, seed: int) -> tuple[float, float]:
    """``stat(labels)`` and its one-sided p-value over ``reps`` shuffles of the labels."""
    observed = stat(labels)
    rng, shuffled, above = random.Random(seed), list(labels), 0
    for _ in range(reps):
        rng.shuffle(shuffled)
        above += stat(shuffled) >= observed - 1e-12
    return observed, (above + 1) / (reps + 1)


def correlation_test(corr, kinds: Sequence[str], first: Sequence[str], second: str, *, reps: int = 2000,
                     seed: int = 0):  # fmt: skip
    """Mean correlation of ``first`` queries of the same kind (each operation with itself) and of
    ``second`` queries, their difference, and its one-sided permutation p-value (the kind labels of those
    queries shuffled ``reps`` times). Also each kind's own mean."""
    idx = [i for i, k in enumerate(kinds) if k in first or k == second]

    def stat(lab: Sequence[str]) -> float:
        ours = [(i, k) for i, k in zip(idx, lab, strict=True) if k in first]
        a = same_kind_mean(corr, [i for i, _ in ours], [k for _, k in ours])
        b = within_mean(corr, [i for i, k in zip(idx, lab, strict=True) if k == second])
        return (a or 0.0) - (b or 0.0)

    observed, p = _permutation_p(stat, [kinds[i] for i in idx], reps, seed)
    mine = [i for i in idx if kinds[i] in first]
    return {
        **{k: within_mean(corr, [i for i in idx if kinds[i] == k]) for k in (*first, second)},
        "same_operation": same_kind_mean(corr, mine, [kinds[i] for i in mine]),
        "difference": observed,
        "p_one_sided": p,
        "test": f"permutation test of the kind labels ({reps} shuffles)",
    }


def operation_test(corr, kinds: Sequence[str], ops: Sequence[str], *, reps: int = 2000, seed: int = 0):
    """Among the arithmetic queries: mean correlation of pairs of the same operation against pairs of two
    operations, and the one-sided permutation p-value (operation labels shuffled) that same > across."""
    idx = [i for i, k in enumerate(kinds) if k in ops]

    def across(lab: Sequence[str]) -> float | None:
        pairs = [corr[a][idx[j]] for i, a in enumerate(idx) for j in range(i + 1, len(idx))
                 if lab[i] != lab[j]]  # fmt: skip
        return sum(pairs) / len(pairs) if pairs else None

    def stat(lab: Sequence[str]) -> float:
        return (same_kind_mean(corr, idx, lab) or 0.0) - (across(lab) or 0.0)

    labels = [kinds[i] for i in idx]
    observed, p = _permutation_p(stat, labels, reps, seed)
    return {
        "same_operation": same_kind_mean(corr, idx, labels),
        "across_operations": across(labels),
        "difference": observed,
        "p_one_sided": p,
        "test": f"permutation test of the operation labels ({reps} shuffles)",
    }


def fisher_greater(a_yes: int, a_n: int, b_yes: int, b_n: int) -> float:
    """One-sided Fisher exact p-value that group a's rate exceeds group b's (hypergeometric upper tail).

    >>> round(fisher_greater(5, 5, 0, 5), 4)
    0.004
    """
    yes, n = a_yes + b_yes, a_n + b_n
    total = math.comb(n, a_n)
    return (
        sum(math.comb(yes, x) * math.comb(n - yes, a_n - x) for x in range(a_yes, min(yes, a_n) + 1)) / total
    )


def sign_test(diffs: Sequence[float]) -> float:
    """One-sided sign-test p-value that the differences are positive (zeros dropped); 1.0 without any."""
    pos, n = sum(d > 0 for d in diffs), sum(d != 0 for d in diffs)
    if not n:
        return 1.0
    return sum(math.comb(n, x) for x in range(pos, n + 1)) / 2**n


def step_lines(completion: str) -> list[str]:
    """The column steps (``8+2+0=10``) a trace writes, each once, in order.

    >>> step_lines("<think>\\nLet me add 18 and 42.\\n8+2+0=10\\n1+4+1=6\\nCheck:\\n8+2+0=10\\n</think>")
    ['8+2+0=10', '1+4+1=6']
    """
    seen: dict[str, None] = {}
    for line in completion.splitlines():
        if _STEP.match(line.strip()):
            seen.setdefault(line.strip(), None)
    return list(seen)


def step_share(steps: Sequence[str], texts: Sequence[str]) -> float:
    """Share of ``steps`` written as a line of one of ``texts``."""
    lines = {line.strip() for text in texts for line in text.splitlines()}
    return sum(s in lines for s in steps) / len(steps)


def step_retrieval(steps: Sequence[str], top: Sequence[int], texts: Sequence[str], *, reps=200, seed=0):
    """(share of ``steps`` in the top documents' texts, mean share in as many random documents)."""
    rng = random.Random(seed)
    chance = sum(step_share(steps, [texts[j] for j in rng.sample(range(len(texts)), len(top))]) for _ in
                 range(reps)) / reps  # fmt: skip
    return step_share(steps, [texts[j] for j in top]), chance


def removal_target(top_increase: float, random_increase: float, factor: float = 5.0) -> bool:
    """Removing the top documents raised the loss, by at least ``factor`` times what removing random ones did.

    >>> removal_target(5.0, 1.0), removal_target(4.0, 1.0), removal_target(1.0, -0.5), removal_target(-1, -2)
    (True, False, True, False)
    """
    return top_increase > 0 and top_increase >= factor * random_increase
