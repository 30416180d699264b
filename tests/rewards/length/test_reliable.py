"""A level's shortest reliable length: bins, decayed counts and the floor, for any samples."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewards.length import constrained_bonus
from rewards.length.reliable import (
    MIN_SEEN,
    bin_start,
    length_bin,
    shortest_reliable,
    unreliable_bins,
    update_bins,
)

samples = st.lists(st.tuples(st.integers(0, 5000), st.sampled_from([True, False, None])), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**6))
def test_every_length_lies_in_its_bin(n):
    b = length_bin(n)
    assert bin_start(b) <= n < bin_start(b + 1)


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(samples, max_size=6), decay=st.floats(0, 0.95))
def test_counts_decay_and_add_only_scored_samples(steps, decay):
    bins = {}
    for step in steps:
        before = sum(seen for _, seen in bins.values())
        bins = update_bins(bins, [n for n, _ in step], [c for _, c in step], decay=decay)
        scored = sum(c is not None for _, c in step)
        assert sum(seen for _, seen in bins.values()) == pytest.approx(before * decay + scored)
        assert all(0 <= right <= seen + 1e-9 for right, seen in bins.values())


@settings(max_examples=300, deadline=None)
@given(
    counts=st.dictionaries(st.integers(0, 40), st.tuples(st.integers(0, 20), st.integers(0, 20))),
    margin=st.floats(0, 1),
)
def test_unreliable_bins_are_the_known_ones_more_than_margin_below_the_best(counts, margin):
    bins = {b: (min(r, n), n) for b, (r, n) in counts.items()}
    known = {b: r / n for b, (r, n) in bins.items() if n >= MIN_SEEN}
    bad = unreliable_bins(bins, margin=margin)
    assert bad == {b for b, acc in known.items() if acc < max(known.values()) - margin}
    assert shortest_reliable(bins, margin=margin) == (bin_start(min(set(known) - bad)) if known else 0)


def test_a_short_style_that_fails_on_a_level_earns_nothing_there_and_the_long_ones_compete():
    """A hard level: 45-token answers right half the time, 130-170-token ones always. After a few steps the
    short bin is unreliable; a right short answer keeps its accuracy reward but no bonus, and the long
    answers' bonus is computed among themselves (fewer re-checks pay), also in a bin seen too rarely to
    be known (130)."""
    lengths, correct = [45, 46, 130, 150, 170, 160], [True, False, True, True, True, True]
    bins = {}
    for _ in range(3):
        bins = update_bins(bins, lengths, correct)
    assert unreliable_bins(bins) == {length_bin(45)}
    paid = constrained_bonus(lengths, correct, unreliable=unreliable_bins(bins))
    assert paid[0] == 0.0 and paid[2] == 1.0 and paid[4] == 0.0
    assert constrained_bonus(lengths, correct)[0] == 1.0  # without it the lucky short answer wins


def test_out_of_range_margin_and_decay_are_refused():
    with pytest.raises(ValueError, match="margin"):
        unreliable_bins({}, margin=1.5)
    with pytest.raises(ValueError, match="decay"):
        update_bins({}, [1], [True], decay=1.0)
