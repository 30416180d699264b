"""A difficulty level's shortest *reliable* length, measured from its own samples across steps.

The relative bonus pays a right answer for being shorter than its group's other right answers. On a hard
level that also pays the short style that is right *sometimes* (a concise trace that is right on 60 % of
3-digit sums earns the full bonus each time it happens to be right), and the accuracy constraint can then
only switch the whole length term off, which also stops the safe shortening (fewer re-checks of a long
trace). Here every sampled answer of a level is counted in a length bin (geometric, so the bins scale with
the lengths: a 13-token direct answer, a 45-token concise one and a 150-token verbose one fall in different
bins), with right / seen counts that decay each step. A bin seen often enough is *unreliable* when its
accuracy is more than ``margin`` below the level's best bin; a right answer in an unreliable bin earns no
length bonus and stays out of the bonus's statistics (it keeps its accuracy reward), while bins not known
yet are paid as before (a new shorter style is tried until it proves unreliable; the accuracy constraint
still watches the level). Pure and JSON-able: the TRL adapter keeps one ``bins`` mapping per level.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

Bins = Mapping[int, tuple[float, float]]  # bin index -> (decayed right count, decayed seen count)

BIN_RATIO = 1.25  # a bin's upper edge over its lower edge
MIN_SEEN = 4.0  # decayed samples a bin needs before its accuracy counts


def length_bin(length: int, ratio: float = BIN_RATIO) -> int:
    """The geometric bin of a length: ``floor(log(length + 1) / log(ratio))``.

    >>> [length_bin(n) for n in (13, 45, 46, 150)]
    [11, 17, 17, 22]
    """
    return math.floor(math.log(length + 1) / math.log(ratio))


def bin_start(index: int, ratio: float = BIN_RATIO) -> int:
    """The shortest length in bin ``index`` (the inverse of :func:`length_bin` at its lower edge).

    >>> bin_start(17), length_bin(bin_start(17)), length_bin(bin_start(17) - 1)
    (44, 17, 16)
    """
    return max(0, math.ceil(ratio**index - 1 - 1e-9))


def update_bins(
    bins: Bins, lengths: Sequence[int], correct: Sequence[bool | None], *, decay: float = 0.75
) -> dict[int, tuple[float, float]]:
    """The counts after one step: every old count times ``decay``, plus this step's scored samples.

    >>> update_bins({11: (4.0, 4.0)}, [13, 45, 45, 90], [True, True, False, None], decay=0.5)
    {11: (3.0, 3.0), 17: (1.0, 2.0)}
    """
    if not 0 <= decay < 1:
        raise ValueError(f"decay={decay!r} must be a number in [0, 1)")
    out = {b: (right * decay, seen * decay) for b, (right, seen) in bins.items()}
    for length, ok in zip(lengths, correct, strict=True):
        if ok is None:
            continue
        right, seen = out.get(length_bin(length), (0.0, 0.0))
        out[length_bin(length)] = (right + bool(ok), seen + 1)
    return out


def known_accuracy(bins: Bins, *, min_seen: float = MIN_SEEN) -> dict[int, float]:
    """Each bin's accuracy, for the bins seen at least ``min_seen`` times (the others are not known yet)."""
    return {b: right / seen for b, (right, seen) in bins.items() if seen >= min_seen}


def unreliable_bins(bins: Bins, *, margin: float = 0.1, min_seen: float = MIN_SEEN) -> frozenset[int]:
    """The known bins whose accuracy is below the best known bin's − ``margin``: lengths that fail here.

    >>> bins = {11: (0.0, 6.0), 17: (5.0, 8.0), 21: (1.0, 1.0), 22: (19.0, 20.0), 23: (10.0, 10.0)}
    >>> sorted(unreliable_bins(bins))   # 13 tokens: 0 % right, 45: 62 %; 108-134: once; 135-210: 95-100 %
    [11, 17]
    >>> sorted(unreliable_bins({11: (0.0, 6.0), 17: (9.5, 10.0), 22: (10.0, 10.0)}))  # 45: 95 %: reliable
    [11]
    """
    if not 0 <= margin <= 1:
        raise ValueError(f"margin={margin!r} must be a number in [0, 1]")
    known = known_accuracy(bins, min_seen=min_seen)
    best = max(known.values(), default=0.0)
    return frozenset(b for b, acc in known.items() if acc < best - margin)


def shortest_reliable(bins: Bins, *, margin: float = 0.1, min_seen: float = MIN_SEEN) -> int:
    """The lower edge of the shortest known bin that is not unreliable (0 while no bin is known): logged.

    >>> shortest_reliable({11: (0.0, 6.0), 17: (5.0, 8.0), 22: (19.0, 20.0)})
    135
    """
    known = known_accuracy(bins, min_seen=min_seen)
    reliable = set(known) - unreliable_bins(bins, margin=margin, min_seen=min_seen)
    return bin_start(min(reliable)) if reliable else 0


def unpaid(
    lengths: Sequence[int], correct: Sequence[bool | None], unreliable: Collection[int]
) -> list[bool | None]:
    """``correct`` with every answer whose length bin is in ``unreliable`` left out (None).

    >>> unpaid([13, 45, 150], [True, True, False], {11})
    [None, True, False]
    """
    return [None if length_bin(n) in unreliable else c for n, c in zip(lengths, correct, strict=True)]
