"""How well a verifier's scores separate correct from incorrect completions: AUROC, torch-free."""

from __future__ import annotations

from collections.abc import Sequence


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """The probability that a random correct sample outscores a random incorrect one (ties count 1/2).

    Rank-based (Mann-Whitney U): sort once, give tied scores their mean rank, O(n log n). 0.5 is chance,
    1.0 a perfect ranking. Needs at least one sample of each label (ValueError otherwise).

    >>> auroc([0.9, 0.8, 0.3, 0.1], [True, True, False, False])
    1.0
    >>> auroc([0.5, 0.5, 0.2], [True, False, False])
    0.75
    """
    if len(scores) != len(labels):
        raise ValueError(f"scores ({len(scores)}) and labels ({len(labels)}) differ in length")
    positives = sum(1 for label in labels if label)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        raise ValueError(f"AUROC needs both labels; got {positives} correct and {negatives} incorrect")
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum, start = 0.0, 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        mean_rank = (start + end) / 2 + 1  # 1-based ranks start+1 .. end+1, averaged over the tie
        rank_sum += mean_rank * sum(1 for i in order[start : end + 1] if labels[i])
        start = end + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
