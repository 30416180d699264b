"""Tests for rewards.verify.symbolic through verify/verify_batch: verdicts only the LaTeX parser reaches."""

import pytest

from rewards.verify import verify, verify_batch

CASES = [
    ("$12:00$", "$1:00$", False),  # both read as x/0: an undefined value is no evidence of equality
    ("$12:00$", "$12:00$", True),  # the same text still is the same answer
    (r"\frac{1}{0}", r"\frac{2}{0}", False),
    ("$V_{1}:V_{2}=11:21$", "$22:42$", True),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), CASES)
def test_symbolic_verdicts(gold: str, pred: str, expected: bool) -> None:
    assert verify(gold, pred) is expected


def test_symbolic_verdicts_in_a_batch() -> None:
    golds, preds, expected = zip(*CASES, strict=True)
    assert verify_batch(list(golds), list(preds)) == list(expected)
