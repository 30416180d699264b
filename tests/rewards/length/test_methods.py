"""Each length reward against a plain-float transcription of its paper formula, worked examples, and
argument checks. The references below are written from /work/shared/REFERENCE.md, independently of the
exact-arithmetic implementations."""

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewards.length import (
    METHODS,
    absolute,
    cosine,
    efficiency,
    kimi,
    l1_exact,
    l1_max,
    shortest_correct,
    soft_overlong,
    truncation,
)


def ref_kimi(lengths, correct):
    pool = [n for n, c in zip(lengths, correct, strict=True) if c is not None]
    if True not in correct or max(pool) == min(pool):
        return [0.0] * len(lengths)
    lam = [0.5 - (n - min(pool)) / (max(pool) - min(pool)) for n in lengths]
    return [0.0 if c is None else (x if c else min(0.0, x)) for x, c in zip(lam, correct, strict=True)]


def ref_efficiency(lengths, correct, alpha=0.1):
    right = [n for n, c in zip(lengths, correct, strict=True) if c is True]
    mean = statistics.fmean(right) if right else 0.0
    std = statistics.pstdev(right) if right else 0.0
    sigmoid = [1 / (1 + math.exp(min(700.0, -(n - mean) / std))) if std else 0.5 for n in lengths]
    # the paper's c * (1 - alpha * sigmoid) minus c, plus the documented alpha / 2 centring
    return [alpha * (0.5 - s) if c is True else 0.0 for s, c in zip(sigmoid, correct, strict=True)]


def ref_shortest(lengths, correct, alpha=2.0, beta=0.001):
    right = [n for n, c in zip(lengths, correct, strict=True) if c is True]
    if not right:
        return [0.0] * len(lengths)
    # the paper's alpha * c - beta * |L - SOL|, divided by alpha, minus c, the penalty capped at 1
    return [
        0.0 if c is None else -min(1.0, beta * abs(n - min(right)) / alpha)
        for n, c in zip(lengths, correct, strict=True)
    ]


def ref_l1_exact(lengths, correct, targets, alpha=3e-4):
    return [
        0.0 if c is None else -min(1.0, alpha * abs(t - n))
        for n, c, t in zip(lengths, correct, targets, strict=True)
    ]


def ref_l1_max(lengths, correct, targets, alpha=3e-4, delta=0.5):
    paper = [
        float(c is True) * min(max(alpha * (t - n) + delta, 0.0), 1.0)
        for n, c, t in zip(lengths, correct, targets, strict=True)
    ]
    return [r - 1.0 if c is True else 0.0 for r, c in zip(paper, correct, strict=True)]


def ref_soft_overlong(lengths, correct, max_len=20480, buffer_len=4096):
    def penalty(n):
        if n <= max_len - buffer_len:
            return 0.0
        return (max_len - buffer_len - n) / buffer_len if n <= max_len else -1.0

    return [0.0 if c is None else penalty(n) for n, c in zip(lengths, correct, strict=True)]


def ref_truncation(lengths, correct, budget=4000):
    # DLER: total reward c * [L <= budget]; minus our accuracy c
    return [
        float(c is True) * float(n <= budget) - float(c is True)
        for n, c in zip(lengths, correct, strict=True)
    ]


def ref_cosine(lengths, correct, max_len=1000):
    out = []
    for n, c in zip(lengths, correct, strict=True):
        if c is None:
            out.append(0.0)
            continue
        r0, r_l = (1.0, 0.5) if c else (-1.0, -0.5)
        out.append(r_l + 0.5 * (r0 - r_l) * (1 + math.cos(math.pi * min(n, max_len) / max_len)) - float(c))
    return out


def ref_absolute(lengths, correct, alpha=1e-4, max_len=10000):
    return [0.0 if c is None else -alpha * min(n, max_len) for n, c in zip(lengths, correct, strict=True)]


REFERENCES = {
    "kimi": ref_kimi,
    "efficiency": ref_efficiency,
    "shortest_correct": ref_shortest,
    "l1_exact": ref_l1_exact,
    "l1_max": ref_l1_max,
    "soft_overlong": ref_soft_overlong,
    "truncation": ref_truncation,
    "cosine": ref_cosine,
    "absolute": ref_absolute,
}
groups = st.lists(st.tuples(st.integers(0, 30000), st.sampled_from([True, False, None])), max_size=12)


@pytest.mark.parametrize("name", sorted(REFERENCES))
@settings(max_examples=100, deadline=None)
@given(group=groups, data=st.data())
def test_matches_the_paper_formula(name: str, group, data) -> None:
    lengths, correct = [n for n, _ in group], [c for _, c in group]
    args = []
    if name.startswith("l1_"):
        args = [data.draw(st.lists(st.integers(0, 8000), min_size=len(group), max_size=len(group)))]
        got = METHODS[name](lengths, correct, targets=args[0])
    else:
        got = METHODS[name](lengths, correct)
    assert got == pytest.approx(REFERENCES[name](lengths, correct, *args), abs=1e-9)


def test_worked_examples() -> None:
    # Kimi: min 100, max 500 over the parsable items; the None item's 9999 is left out
    assert kimi([100, 300, 500, 9999, 200], [True, True, False, None, False]) == [0.5, 0.0, -0.5, 0.0, 0.0]
    # Arora & Zanette: correct 100/300 -> z = -1/+1; 0.1 * (0.5 - sigmoid(-1)) = 0.0231
    assert efficiency([100, 300, 50], [True, True, False]) == pytest.approx(
        [0.02311, -0.02311, 0.0], abs=1e-5
    )
    assert efficiency([100, 300], [True, True], alpha=0.4) == pytest.approx([0.0924, -0.0924], abs=1e-4)
    # ShorterBetter: SOL 400; a wrong 100-token answer is 300 tokens off
    assert shortest_correct([400, 1400, 100], [True, True, False]) == pytest.approx([0.0, -0.5, -0.15])
    assert shortest_correct([400, 1400], [True, True], alpha=1.0, beta=0.0002) == pytest.approx([0.0, -0.2])
    # L1: target per item
    assert l1_exact([900, 1500], [True, True], targets=[1000, 500]) == pytest.approx([-0.03, -0.3])
    assert l1_max([1000, 0, 2000], [True, True, True], targets=2000) == pytest.approx([-0.2, 0.0, -0.5])
    assert l1_max([1000], [True], targets=1000, delta=1.0) == [0.0]
    # DAPO with its defaults: buffer 16384..20480
    assert soft_overlong([16384, 17408, 20480, 20481], [True] * 4) == pytest.approx([0.0, -0.25, -1.0, -1.0])
    assert soft_overlong([99, 100, 101], [True] * 3, max_len=100, buffer_len=0) == [0.0, 0.0, -1.0]
    assert truncation([4000, 4001, 4001, 4001], [True, True, False, None]) == [0.0, -1.0, 0.0, 0.0]
    assert cosine([250, 2000], [True, False]) == pytest.approx(
        [0.25 * (1 + math.cos(math.pi / 4)) - 0.5, -0.5]
    )
    assert absolute([300, 20000], [True, False], alpha=0.001, max_len=500) == pytest.approx([-0.3, -0.5])


@pytest.mark.parametrize(
    ("fn", "kwargs", "needles"),
    [
        (efficiency, {"alpha": -0.1}, ["alpha=-0.1", ">= 0"]),
        (efficiency, {"alpha": float("nan")}, ["alpha=nan"]),
        (shortest_correct, {"alpha": 0}, ["alpha=0", "> 0"]),
        (shortest_correct, {"beta": -1}, ["beta=-1"]),
        (l1_exact, {"targets": [1, 2, 3]}, ["targets has 3 values for 2 lengths"]),
        (l1_exact, {"targets": -5}, ["targets=-5"]),
        (l1_exact, {"targets": [1, float("inf")]}, ["targets[1]=inf"]),
        (l1_exact, {"alpha": float("inf")}, ["alpha=inf"]),
        (l1_max, {"delta": -0.5}, ["delta=-0.5"]),
        (l1_max, {"targets": "1000"}, ["targets='1000'"]),
        (soft_overlong, {"max_len": 0}, ["max_len=0", "> 0"]),
        (soft_overlong, {"max_len": 100, "buffer_len": 200}, ["buffer_len=200", "max_len=100"]),
        (truncation, {"budget": -1}, ["budget=-1"]),
        (cosine, {"max_len": -3}, ["max_len=-3"]),
        (cosine, {"wrong_at_max": 0.9}, ["correct_at_*", "wrong_at_*", "0.9"]),
        (cosine, {"correct_at_0": float("nan")}, ["correct_at_0=nan"]),
        (absolute, {"alpha": -1e-4}, ["alpha=-0.0001"]),
        (absolute, {"max_len": True}, ["max_len=True"]),
    ],
)
def test_bad_params_are_named(fn, kwargs: dict, needles: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        fn([1, 2], [True, False], **kwargs)
    for needle in needles:
        assert needle in str(info.value)
