"""Tests for rewards.verify.numeric and the number conventions around it: separators of other locales."""

from fractions import Fraction

import pytest

from rewards.verify import normalize, verify, verify_batch
from rewards.verify.numeric import decimal_comma


@pytest.mark.parametrize(
    ("span", "value"),
    [
        ("1000,99", Fraction(100099, 100)),
        ("2,74", Fraction(274, 100)),
        ("-2,5", Fraction(-5, 2)),
        ("1,2345", Fraction(12345, 10000)),
        ("1,234", None),
        ("1,2,3", None),
        ("x,5", None),
    ],
)
def test_decimal_comma(span: str, value: Fraction | None) -> None:
    number = decimal_comma(span)
    assert (number.value if number else None) == value


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("1,000", "1000"),
        ("1 000", "1000"),
        (r"1\,000", "1000"),
        (r"11,\! 111,\! 100", "11111100"),
        ("1,000.99", "1000.99"),
        ("32, 349", "32,349"),  # a list: the thousands comma has no space after it
        ("(12,102)", "(12,102)"),  # a pair, not twelve thousand
        ("1000,99", "1000,99"),  # a decimal comma only counts against a decimal (see verify)
    ],
)
def test_separators_in_normalize(span: str, expected: str) -> None:
    assert normalize(span) == expected


LOCALES = [
    ("1000.99", "1000,99", True),
    ("1,22", "1.22", True),
    ("2.74", r"\boxed{2,74}", True),
    ("1000.99", "1,000.99", True),
    ("1000.99", "1 000.99", True),
    ("1000", r"\boxed{1\,000}", True),
    ("0.4", ".4", True),
    ("32349", r"is $\boxed{32, 349}$", False),  # two numbers
    ("32349", r"is $\boxed{32,\! 349}$", True),
    ("(12, 102)", "(12,102)", True),
    ("1000.99", "1000,98", False),
    ("1.234", "1,234", False),  # 1,234 is a thousand and more
    ("15", "1,5", False),  # a decimal comma only against a decimal
    ("12", r"\boxed{1,2}", False),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), LOCALES)
def test_locales_in_verify(gold: str, pred: str, expected: bool) -> None:
    assert verify(gold, pred) is expected


def test_locales_in_verify_batch() -> None:
    golds, preds, expected = zip(*LOCALES, strict=True)
    assert verify_batch(list(golds), list(preds)) == list(expected)
