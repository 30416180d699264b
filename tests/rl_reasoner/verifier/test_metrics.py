"""AUROC against its definition: the share of (correct, incorrect) pairs ranked right, ties counting 1/2."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rl_reasoner.verifier.metrics import auroc


def pair_count(scores, labels) -> float:
    """Brute force over every (correct, incorrect) pair."""
    pos = [s for s, label in zip(scores, labels, strict=True) if label]
    neg = [s for s, label in zip(scores, labels, strict=True) if not label]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


@given(st.lists(st.tuples(st.integers(-3, 3), st.booleans()), min_size=2, max_size=40))
def test_auroc_equals_the_brute_force_pair_count_with_ties(samples):
    scores, labels = [s / 2 for s, _ in samples], [label for _, label in samples]
    assume(any(labels) and not all(labels))
    assert auroc(scores, labels) == pytest.approx(pair_count(scores, labels))


def test_auroc_is_one_minus_itself_with_the_labels_flipped():
    scores, labels = [0.1, 0.4, 0.35, 0.8, 0.4], [False, True, False, True, False]
    assert auroc(scores, labels) == pytest.approx(1 - auroc(scores, [not x for x in labels]))


@pytest.mark.parametrize(
    ("scores", "labels", "message"),
    [([0.1, 0.2], [True, True], "needs both labels"), ([0.1], [True, False], "differ in length")],
)
def test_auroc_refuses_one_label_and_unequal_lengths(scores, labels, message):
    with pytest.raises(ValueError, match=message):
        auroc(scores, labels)
