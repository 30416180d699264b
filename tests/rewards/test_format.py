"""Tests for rewards.format.think_format."""

import pytest

from rewards.format import think_format

GOOD = [
    r"<think>2+2=4</think>\boxed{4}",
    "<think>\nlong reasoning\n</think>\nThe answer is\n\\boxed{4}",
    "  <think>x</think> so \\boxed{\\frac{1}{2}}  \n\n",
    r"<think>draft \boxed{3} then fix</think> final: \boxed{4}",
    r"<think></think>\boxed{\{1, 2\}}",
    r"<think>a</think>\boxed{a\}b}",
]

BAD = [
    (r"\boxed{4}", "no think block"),
    (r"<think>2+2=4 \boxed{4}", "think never closed"),
    (r"2+2=4</think>\boxed{4}", "no opening tag"),
    (r"hello <think>x</think>\boxed{4}", "text before the think block"),
    (r"<think>x</think>The answer is 4.", "no boxed answer"),
    (r"<think>x</think>\boxed{4} or \boxed{5}", "two boxed answers"),
    (r"<think>x</think>\boxed{\boxed{4}}", "nested boxed answers"),
    (r"<think>x</think>\boxed{4}.", "text after the boxed answer"),
    (r"<think>x</think>$\boxed{4}$", "math delimiter after the boxed answer"),
    (r"<think>x</think>\boxed{4} done", "words after the boxed answer"),
    (r"<think>x</think>\boxed{\frac{1}{2}", "unbalanced braces"),
    (r"<think>x</think>\boxed{}", "empty boxed"),
    (r"<think>x</think>\boxed 4", "boxed without braces"),
    (r"<think>x</think><think>y</think>\boxed{4}", "two think blocks"),
    (r"<think>x</think>y</think>\boxed{4}", "two closing tags"),
    ("", "empty completion"),
]


@pytest.mark.parametrize("completion", GOOD)
def test_good_format_scores_one(completion: str) -> None:
    assert think_format(completion) == 1.0


@pytest.mark.parametrize(("completion", "why"), BAD, ids=[why for _, why in BAD])
def test_bad_format_scores_zero(completion: str, why: str) -> None:
    assert think_format(completion) == 0.0, why


def test_long_completion() -> None:
    body = "step. " * 200_000
    assert think_format(f"<think>{body}</think>\\boxed{{42}}") == 1.0
    assert think_format(f"<think>{body}</think>\\boxed{{42}}{body}") == 0.0
