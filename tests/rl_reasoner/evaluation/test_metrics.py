import itertools
import math
import random
from fractions import Fraction

import pytest

from rl_reasoner.evaluation.metrics import (
    answer_classes,
    budget_curve,
    budgets,
    evaluate,
    majority_correct,
    pass_at_k,
    percentile,
    robustness,
)


def brute_force_pass_at_k(correct: list[bool], k: int) -> float:
    """Fraction of all k-subsets of the samples that contain at least one correct sample."""
    subsets = list(itertools.combinations(correct, k))
    return sum(any(s) for s in subsets) / len(subsets)


def test_pass_at_k_matches_enumerating_every_k_subset_on_random_cases():
    rng = random.Random(0)
    for _ in range(300):
        n = rng.randint(1, 10)
        correct = [rng.random() < rng.random() for _ in range(n)]
        k = rng.randint(1, n)
        assert pass_at_k(n, sum(correct), k) == pytest.approx(brute_force_pass_at_k(correct, k), abs=1e-12)


def test_pass_at_k_is_stable_where_the_binomials_are_huge():
    for n, c, k in [(1000, 1, 1), (1000, 3, 100), (2000, 0, 64), (500, 499, 2), (300, 7, 150)]:
        exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
        assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-9, abs=1e-12)


def test_pass_at_k_rejects_impossible_arguments():
    for n, c, k in [(4, 5, 1), (4, 1, 5), (4, 1, 0)]:
        with pytest.raises(ValueError, match="pass@k"):
            pass_at_k(n, c, k)


def s(correct, vote, tokens=10, truncated=False):
    return {"correct": correct, "vote": vote, "tokens": tokens, "truncated": truncated}


def test_majority_vote_takes_the_largest_class_among_the_first_k_with_ties_to_the_first_seen():
    samples = [s(False, 1), s(True, 0), s(True, 0), s(False, 1), s(False, 1)]
    assert majority_correct(samples, 1) is False
    assert majority_correct(samples, 2) is False  # 1-1 tie: class 1 came first
    assert majority_correct(samples, 3) is True
    assert majority_correct(samples, 5) is False
    assert majority_correct([s(False, None), s(True, 0)], 2) is True  # no answer: no vote
    assert majority_correct([s(False, None)], 1) is False


def test_answer_classes_group_equivalent_answers_with_the_verifier():
    assert answer_classes(["12", None, "12.0", "7", r"\frac{24}{2}", "", "7"]) == [0, None, 0, 1, 0, None, 1]
    assert answer_classes(["x=3", "3", "4", "0.5", r"\frac{1}{2}"]) == [0, 0, 1, 2, 2]


def test_percentile_and_budgets():
    assert percentile([3, 1, 2, 4], 50) == 2.5 and percentile([5], 90) == 5
    assert percentile(list(range(11)), 90) == 9
    assert budgets(1024) == [32, 64, 128, 256, 512, 1024] and budgets(40) == [32, 40] and budgets(20) == [20]


def test_evaluate_on_records_with_known_answers():
    records = [
        {"level": 1, "samples": [s(True, 0, 20), s(True, 0, 40), s(False, 1, 10), s(False, None, 64, True)]},
        {"level": 2, "samples": [s(False, 0, 50), s(False, 0, 60), s(False, 0, 30), s(True, 1, 33)]},
    ]
    m = evaluate(records, [1, 2, 4], max_new_tokens=64)
    o = m["overall"]
    assert o["prompts"] == 2 and o["samples"] == 8
    assert o["pass@1"] == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert o["pass@2"] == pytest.approx((1 - 1 / 6 + 1 - 3 / 6) / 2)  # C(2,2)/C(4,2) and C(3,2)/C(4,2)
    assert o["pass@4"] == 1.0
    assert (
        o["maj@1"] == 0.5 and o["maj@4"] == 0.5
    )  # prompt 1: class 0 (right) wins; prompt 2: class 0 (wrong)
    assert o["mean_tokens"] == pytest.approx(307 / 8) and o["median_tokens"] == 36.5
    assert o["truncation_rate"] == 1 / 8
    assert m["levels"]["1"]["pass@1"] == 0.5 and m["levels"]["2"]["pass@4"] == 1.0
    curve = {p["budget"]: p["accuracy"] for p in m["budget_curve"]}
    # budget 32: only the 20-token right answer fits; 33 tokens do not (the EOS must fit as well)
    assert curve == {32: pytest.approx(1 / 8), 64: pytest.approx(o["pass@1"])}


def test_budget_curve_never_decreases_and_ends_at_pass_at_1():
    rng = random.Random(1)
    records = [
        {"samples": [s(c, 0, t) for c, t in ((rng.random() < 0.6, rng.randint(1, 511)) for _ in range(5))]}
        for _ in range(30)
    ]
    curve = [p["accuracy"] for p in budget_curve(records, 512)]
    assert curve == sorted(curve) and len(curve) == 5
    assert curve[-1] == pytest.approx(evaluate(records, [1], 512)["overall"]["pass@1"])


def test_robustness_reports_the_drop_overall_and_per_level():
    a = {"overall": {"pass@1": 0.9}, "levels": {"1": {"pass@1": 1.0}, "2": {"pass@1": 0.8}}}
    b = {"overall": {"pass@1": 0.6}, "levels": {"1": {"pass@1": 0.9}, "2": {"pass@1": 0.3}}}
    r = robustness(a, b)
    assert r["overall"]["drop"] == pytest.approx(0.3) and r["levels"]["2"]["drop"] == pytest.approx(0.5)
