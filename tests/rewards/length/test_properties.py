"""Hypothesis properties shared by every length reward in rewards.length, at default params."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewards.length import GATED, GROUP_RELATIVE, METHODS

NAMES = sorted(METHODS)
NEEDS_TARGETS = ("l1_exact", "l1_max")
flags = st.sampled_from([True, False, None])
small = st.integers(0, 30000)
any_length = st.one_of(small, st.integers(0, 10**40))  # huge lengths must not overflow anything
groups = st.lists(st.tuples(any_length, flags), max_size=12)
# Loose per-method bounds on |term| at default params (tight ones are in the reference comparisons).
BOUND = {name: 1.0 for name in NAMES} | {"kimi": 0.5, "efficiency": 0.05}


def run(name: str, group, data) -> list[float]:
    """The method at its default params; L1 gets a target from hypothesis (scalar or one per item)."""
    lengths, correct = [n for n, _ in group], [c for _, c in group]
    kwargs = {}
    if name in NEEDS_TARGETS:
        per_item = st.lists(small, min_size=len(group), max_size=len(group))
        kwargs["targets"] = data.draw(st.one_of(small, per_item), label="targets")
    return METHODS[name](lengths, correct, **kwargs)


def test_gated_and_relative_tables_name_real_methods() -> None:
    assert set(GATED) <= set(METHODS) and set(GROUP_RELATIVE) <= set(GATED)
    assert {"soft_overlong", "absolute", "cosine", "l1_exact"}.isdisjoint(GATED)


@pytest.mark.parametrize("name", NAMES)
def test_empty_and_single_groups(name: str) -> None:
    kwargs = {"targets": []} if name in NEEDS_TARGETS else {}
    assert METHODS[name]([], [], **kwargs) == []
    for correct in (True, False, None):
        (value,) = METHODS[name]([123], [correct])
        assert math.isfinite(value)
        if correct is None or name in GROUP_RELATIVE:
            assert value == 0.0


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(group=groups, data=st.data())
def test_finite_bounded_and_zero_for_unparsable_gold(name: str, group, data) -> None:
    values = run(name, group, data)
    assert len(values) == len(group)
    for value, (_, correct) in zip(values, group, strict=True):
        assert isinstance(value, float) and math.isfinite(value) and abs(value) <= BOUND[name]
        if correct is None:
            assert value == 0.0


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(group=groups, data=st.data())
def test_correct_total_never_below_wrong_total(name: str, group, data) -> None:
    values = run(name, group, data)
    totals = [
        (float(c), v + (1.0 if c else 0.0)) for v, (_, c) in zip(values, group, strict=True) if c is not None
    ]
    right = [t for c, t in totals if c]
    wrong = [t for c, t in totals if not c]
    assert not right or not wrong or min(right) >= max(wrong)


@pytest.mark.parametrize("name", GATED)
@settings(max_examples=60, deadline=None)
@given(group=st.lists(st.tuples(any_length, st.sampled_from([False, None])), max_size=12), data=st.data())
def test_gated_methods_give_no_signal_without_a_correct_answer(name: str, group, data) -> None:
    assert run(name, group, data) == [0.0] * len(group)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(length=any_length, correct=st.lists(flags, max_size=12), data=st.data())
def test_identical_lengths_carry_no_length_signal(name: str, length: int, correct, data) -> None:
    """Group-relative methods give exactly 0; budget methods give a term that depends on correctness only
    (all correct items alike, all wrong items alike), which shifts the group without ranking anything."""
    group = [(length, c) for c in correct]
    if name in NEEDS_TARGETS:
        values = METHODS[name]([length] * len(correct), correct, targets=data.draw(small))
    else:
        values = run(name, group, data)
    if name in GROUP_RELATIVE:
        assert values == [0.0] * len(group)
    for flag in (True, False):
        assert len({v for v, c in zip(values, correct, strict=True) if c is flag}) <= 1


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(group=groups, data=st.data())
def test_unparsable_items_do_not_change_the_others(name: str, group, data) -> None:
    kept = [i for i, (_, c) in enumerate(group) if c is not None]
    target = data.draw(small)
    kwargs = {"targets": target} if name in NEEDS_TARGETS else {}
    values = METHODS[name]([n for n, _ in group], [c for _, c in group], **kwargs)
    alone = METHODS[name]([group[i][0] for i in kept], [group[i][1] for i in kept], **kwargs)
    assert [values[i] for i in kept] == alone


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(group=groups, rng=st.randoms(use_true_random=False), data=st.data())
def test_permuting_a_group_permutes_the_values(name: str, group, rng, data) -> None:
    order = list(range(len(group)))
    rng.shuffle(order)
    lengths, correct = [n for n, _ in group], [c for _, c in group]
    targets = data.draw(st.lists(small, min_size=len(group), max_size=len(group)))
    kwargs = (
        (lambda idx: {"targets": [targets[i] for i in idx]}) if name in NEEDS_TARGETS else (lambda idx: {})
    )
    values = METHODS[name](lengths, correct, **kwargs(range(len(group))))
    permuted = METHODS[name]([lengths[i] for i in order], [correct[i] for i in order], **kwargs(order))
    assert permuted == pytest.approx([values[i] for i in order], abs=1e-12)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "l1_exact"])
@settings(max_examples=60, deadline=None)
@given(group=st.lists(st.tuples(small, flags), max_size=12), target=small)
def test_a_shorter_correct_answer_never_earns_less(name: str, group, target: int) -> None:
    kwargs = {"targets": target} if name in NEEDS_TARGETS else {}
    values = METHODS[name]([n for n, _ in group], [c for _, c in group], **kwargs)
    right = sorted((n, v) for v, (n, c) in zip(values, group, strict=True) if c)
    assert all(v1 >= v2 for (_, v1), (_, v2) in zip(right, right[1:], strict=False))


@settings(max_examples=60, deadline=None)
@given(group=st.lists(st.tuples(small, flags), max_size=12), target=small)
def test_l1_exact_never_pays_more_for_missing_the_target_by_more(group, target: int) -> None:
    values = METHODS["l1_exact"]([n for n, _ in group], [c for _, c in group], targets=target)
    ranked = sorted((abs(target - n), v) for v, (n, c) in zip(values, group, strict=True) if c is not None)
    assert all(v1 >= v2 for (_, v1), (_, v2) in zip(ranked, ranked[1:], strict=False))


@pytest.mark.parametrize("name", NAMES)
def test_mismatched_inputs_raise(name: str) -> None:
    kwargs = {"targets": 100} if name in NEEDS_TARGETS else {}
    with pytest.raises(ValueError, match="differ in length"):
        METHODS[name]([1, 2, 3], [True, False], **kwargs)
    with pytest.raises(ValueError, match=r"lengths\[1\]=-4"):
        METHODS[name]([1, -4], [True, False], **kwargs)
    with pytest.raises(ValueError, match=r"lengths\[0\]=2\.5"):
        METHODS[name]([2.5], [True], **kwargs)
    with pytest.raises(ValueError, match=r"correct\[1\]='yes'"):
        METHODS[name]([1, 2], [True, "yes"], **kwargs)
