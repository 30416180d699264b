"""Tests for rewards.length: worked examples, argument checks and hypothesis properties."""

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewards.length import MEAN_OVER, MODES, apply_per_group, below_mean_bonus


def test_discrete_example() -> None:
    assert below_mean_bonus([100, 200, 300, 400], [True, True, False, True]) == [1.0, 1.0, 0.0, 0.0]
    assert below_mean_bonus([100, 200, 300, 400], [False, True, True, True], weight=0.5) == [0, 0.5, 0, 0]


def test_continuous_example() -> None:
    std = math.sqrt(12500)  # population std of 100, 200, 300, 400 around 250
    bonus = below_mean_bonus([100, 200, 300, 400], [True] * 4, mode="continuous")
    assert bonus == pytest.approx([1.0, 50 / std, 0.0, 0.0])
    bonus = below_mean_bonus([100, 200, 300, 400], [True] * 4, mode="continuous", clip=2.0, weight=0.5)
    assert bonus == pytest.approx([0.5 * 150 / std, 0.5 * 50 / std, 0.0, 0.0])


def test_mean_over_correct_differs_from_all() -> None:
    lengths, correct = [10, 20, 1000], [True, True, False]
    assert below_mean_bonus(lengths, correct, mean_over="all") == [1.0, 1.0, 0.0]
    assert below_mean_bonus(lengths, correct, mean_over="correct") == [1.0, 0.0, 0.0]
    assert below_mean_bonus([5, 9], [False, False], mean_over="correct") == [0.0, 0.0]


def test_none_items_are_excluded_from_statistics() -> None:
    # with the None item counted the mean would be 363 and the first item would earn the bonus
    assert below_mean_bonus([50, 1000, 40], [True, None, False]) == [0.0, 0.0, 0.0]
    assert below_mean_bonus([50, 1, 70], [True, None, False]) == [1.0, 0.0, 0.0]
    assert below_mean_bonus([3, 1], [None, None]) == [0.0, 0.0]


@pytest.mark.parametrize("mode", MODES)
def test_degenerate_groups(mode: str) -> None:
    assert below_mean_bonus([], [], mode=mode) == []
    assert below_mean_bonus([7], [True], mode=mode) == [0.0]
    assert below_mean_bonus([7, 7, 7], [True, False, True], mode=mode) == [0.0, 0.0, 0.0]
    assert below_mean_bonus([1, 50, 100], [False, False, False], mode=mode) == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("kwargs", "needles"),
    [
        ({"mode": "linear"}, ["'linear'", "'discrete'", "'continuous'"]),
        ({"mean_over": "wrong"}, ["'wrong'", "'all'", "'correct'"]),
        ({"weight": -0.5}, ["-0.5"]),
        ({"weight": float("nan")}, ["nan"]),
        ({"clip": -1.0}, ["-1.0"]),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, needles: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        below_mean_bonus([1, 2], [True, False], **kwargs)
    for needle in needles:
        assert needle in str(info.value)


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        below_mean_bonus([1, 2, 3], [True, False])
    with pytest.raises(ValueError, match="differ in length"):
        apply_per_group(below_mean_bonus, [0, 0], [1, 2, 3], [True, True, True])


groups = st.lists(st.tuples(st.integers(0, 5000), st.sampled_from([True, False, None])), max_size=12)
params = st.fixed_dictionaries(
    {"weight": st.floats(0, 1), "mode": st.sampled_from(MODES), "mean_over": st.sampled_from(MEAN_OVER)}
)


def _bonus(group: list[tuple[int, bool | None]], **kwargs) -> list[float]:
    return below_mean_bonus([n for n, _ in group], [c for _, c in group], **kwargs)


@settings(max_examples=300)
@given(groups, params)
def test_bonus_is_finite_bounded_and_only_for_correct(group, kw) -> None:
    bonus = _bonus(group, **kw)
    assert len(bonus) == len(group)
    for value, (_, correct) in zip(bonus, group, strict=True):
        assert math.isfinite(value) and 0.0 <= value <= kw["weight"]
        if correct is not True:
            assert value == 0.0


@settings(max_examples=300)
@given(groups, params)
def test_correct_never_scores_below_wrong(group, kw) -> None:
    bonus = _bonus(group, **kw)
    reward = [(1.0 if c else 0.0) + b for b, (_, c) in zip(bonus, group, strict=True)]
    right = [r for r, (_, c) in zip(reward, group, strict=True) if c is True]
    wrong = [r for r, (_, c) in zip(reward, group, strict=True) if c is False]
    assert all(r >= w for r in right for w in wrong)


@settings(max_examples=300)
@given(groups, params)
def test_discrete_pays_exactly_the_correct_items_below_the_mean(group, kw) -> None:
    bonus = _bonus(group, **{**kw, "mode": "discrete", "weight": 1.0})
    pool = [n for n, c in group if c is not None and (c or kw["mean_over"] == "all")]
    mean = Fraction(sum(pool), len(pool)) if pool else None
    expected = [1.0 if c and mean is not None and n < mean else 0.0 for n, c in group]
    assert bonus == expected


@settings(max_examples=200)
@given(groups, params)
def test_none_items_do_not_change_the_others(group, kw) -> None:
    bonus = _bonus(group, **kw)
    kept = [b for b, (_, c) in zip(bonus, group, strict=True) if c is not None]
    assert kept == _bonus([g for g in group if g[1] is not None], **kw)


@settings(max_examples=200)
@given(st.lists(st.integers(0, 5000), max_size=12), params)
def test_all_wrong_group_gets_nothing(lengths, kw) -> None:
    assert below_mean_bonus(lengths, [False] * len(lengths), **kw) == [0.0] * len(lengths)


@settings(max_examples=200)
@given(st.integers(0, 5000), st.lists(st.sampled_from([True, False, None]), max_size=12), params)
def test_identical_lengths_get_nothing(length, correct, kw) -> None:
    assert below_mean_bonus([length] * len(correct), correct, **kw) == [0.0] * len(correct)


@settings(max_examples=200)
@given(groups, params, st.randoms(use_true_random=False))
def test_permuting_a_group_permutes_the_bonus(group, kw, rng) -> None:
    order = list(range(len(group)))
    rng.shuffle(order)
    bonus = _bonus(group, **kw)
    assert _bonus([group[i] for i in order], **kw) == pytest.approx([bonus[i] for i in order])


@settings(max_examples=200)
@given(groups, st.floats(0.1, 1))
def test_continuous_bonus_is_monotone_in_length(group, weight) -> None:
    bonus = _bonus(group, mode="continuous", weight=weight)
    right = sorted((n, b) for b, (n, c) in zip(bonus, group, strict=True) if c)
    assert all(b1 >= b2 for (_, b1), (_, b2) in zip(right, right[1:], strict=False))


@settings(max_examples=200)
@given(st.lists(groups, max_size=6), params, st.randoms(use_true_random=False))
def test_apply_per_group_ignores_interleaving(batch, kw, rng) -> None:
    flat = [(f"prompt-{g}", n, c) for g, group in enumerate(batch) for n, c in group]
    rng.shuffle(flat)
    ids, lengths, correct = [f[0] for f in flat], [f[1] for f in flat], [f[2] for f in flat]
    out = apply_per_group(below_mean_bonus, ids, lengths, correct, **kw)
    for g in range(len(batch)):
        mine = [o for o, gid in zip(out, ids, strict=True) if gid == f"prompt-{g}"]
        in_batch_order = [(n, c) for gid, n, c in flat if gid == f"prompt-{g}"]
        assert mine == _bonus(in_batch_order, **kw)


def test_apply_per_group_uses_ids_not_positions() -> None:
    ids = [7, "b", 7, "b", 7]
    out = apply_per_group(below_mean_bonus, ids, [10, 500, 30, 100, 50], [True, True, True, True, True])
    assert out == [1.0, 0.0, 0.0, 1.0, 0.0]
    assert apply_per_group(below_mean_bonus, [], [], []) == []
