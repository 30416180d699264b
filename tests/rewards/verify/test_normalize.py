"""Tests for rewards.verify.normalize: the answer-writing conventions it canonicalises, unit by unit and
through ``verify``/``verify_batch``."""

import pytest

from rewards.verify import normalize, verify, verify_batch
from rewards.verify.normalize import align_sides


def _both(golds: list[str], preds: list[str]) -> list[bool | None]:
    """verify_batch's results, after checking that verify gives the same one by one."""
    batch = verify_batch(golds, preds)
    assert batch == [verify(g, p) for g, p in zip(golds, preds, strict=True)]
    return batch


# --- a TeX group around the whole answer only groups --------------------------------------------------


@pytest.mark.parametrize(
    ("span", "expected"),
    [("{1,2,3}", "1,2,3"), ("{{5}}", "5"), (r"\{1,2\}", r"\{1,2\}"), ("{1}+{2}", "{1}+{2}"), ("{x", "{x")],
)
def test_outer_group_is_unwrapped(span: str, expected: str) -> None:
    assert normalize(span) == expected


def test_outer_group_in_verify() -> None:
    golds = ["1,2,3", "(1,3)", r"\{1,2\}", "1,2,3"]
    preds = ["$${1, 2, 3}$$", "${1,3}$", r"$\{2,1\}$", "${1,2,4}$"]
    assert _both(golds, preds) == [True, True, True, False]


# --- equations: chains keep their ends, labels of the gold are dropped ----------------------------------

SIDES = [
    # (gold, pred, aligned gold, aligned pred)
    ("x=11", "x=5+5+1=7=11", "x=11", "x=11"),
    ("z=1+1=2", "z=3+3=2", "z=2", "z=2"),
    ("5", "2+3=5", "5", "5"),
    ("1,2", "x=1,x=2", "1,2", "1,2"),
    ("(p,q)=(3,2)", "(3,2)", "(3,2)", "(3,2)"),
    ("AB=4,CD=5", "4,5", "4,5", "4,5"),
    ("V_{1}:V_{2}=11:21", "11:21", "11:21", "11:21"),
    (r"\frac{NO}{BO}=\frac{1}{\sqrt{6}}", "x", r"\frac{1}{\sqrt{6}}", "x"),
    ("f(x)=1", "1", "1", "1"),
    ("2x=4", "2", "2x=4", "2"),  # not a label: an equation to solve
    ("x=1,2y=4", "1,2", "x=1,2y=4", "1,2"),  # every part must be labelled
    ("p=5,q=2;p=7,q=2", "(5,2),(7,2)", "p=5,q=2;p=7,q=2", "(5,2),(7,2)"),
    ("3", "x<=3", "3", "x<=3"),
    ("3", "x==3", "3", "x==3"),
    ("x=3", "y=3", "x=3", "y=3"),
]


@pytest.mark.parametrize(("gold", "pred", "gold_after", "pred_after"), SIDES)
def test_align_sides(gold: str, pred: str, gold_after: str, pred_after: str) -> None:
    assert align_sides(gold, pred) == (gold_after, pred_after)


EQUATIONS = [
    ("$x = 11$", "$x = 5+5+1 = 7 =11$", True),
    ("$x = 11$", "$x = 5+5+1 = 11 = 12$", False),  # the last side is the answer
    ("$z = 1 + 1 = 2$", "$z = 3+3 = 2$", True),
    ("$10/9$", r"Answer $ \frac{1}{2} \$ = \frac{10}{9} $", True),
    ("5", r"\boxed{2+3=5}", True),
    ("5", r"\boxed{5=2+4}", False),
    ("$(p,q)=(3,2)$", r"$\boxed{(3, 2)}$", True),
    ("$(p,q)=(3,2)$", r"$\boxed{(2, 3)}$", False),
    ("$AB=4,CD=5$", r"$\boxed{4, 5}$", True),
    ("$V_{1}:V_{2}=11:21$", "$11:21$", True),
    ("$$|AB|=1$$", "$$1$$", True),
    ("$$f(x)=1$$", "$$2$$", False),
    ("$x=3,y=5$", r"$x = \boxed{3}$ and $y = \boxed{5}$", True),
    ("$x=3,y=5$", r"$x = \boxed{3}$ and $y = \boxed{4}$", False),
    ("$y_{1}=2x+3, y_{2}=x^{2}$", r"\(y_1 = \boxed{3+2x}\) and \(y_2 = \boxed{x \cdot x}\)", True),
    ("2x=4", r"\boxed{4}", False),
    ("x=3", r"\boxed{y=3}", False),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), EQUATIONS)
def test_equations_in_verify(gold: str, pred: str, expected: bool) -> None:
    assert verify(gold, pred) is expected


def test_equations_in_verify_batch() -> None:
    golds, preds, expected = zip(*EQUATIONS, strict=True)
    assert _both(list(golds), list(preds)) == list(expected)


# --- percent written as a word --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("28 percent", "28%"),
        ("28 Percentage", "28%"),
        ("28pct", "28%"),
        (r"28\text{ percent}", "28%"),
        (r"28\%", "28%"),
        ("28 percentile", "28percentile"),  # another word
        ("percent", "percent"),  # no number before it
    ],
)
def test_percent_words(span: str, expected: str) -> None:
    assert normalize(span) == expected


PERCENTS = [
    (r"$28\%$", "28 percent", True),
    (r"$28\%$", "28 pct", True),
    (r"$28\%$", r"$\boxed{28 percentage}", True),
    ("0.28", r"\boxed{28 percent}", True),
    (r"$28\%$", "29 percent", False),
    (r"$28\%$", "28 percentile", False),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), PERCENTS)
def test_percent_words_in_verify(gold: str, pred: str, expected: bool) -> None:
    assert verify(gold, pred) is expected


def test_percent_words_in_verify_batch() -> None:
    golds, preds, expected = zip(*PERCENTS, strict=True)
    assert _both(list(golds), list(preds)) == list(expected)


# --- small spellings: \textnormal units, \mathrm{e}, "1, 2, and 3" --------------------------------------


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (r"125\textnormal{ miles}", "125"),
        (r"1 - \frac{1}{\mathrm{e}}", r"1-\frac{1}{e}"),
        (r"\mathit{i}", "i"),
        (r"3\mathrm{m}", "3"),  # a unit letter other than e and i
        ("19, 46, and 82", "19,46,82"),
        (r"19, 46, \text{ and } 82", "19,46,82"),
    ],
)
def test_small_spellings(span: str, expected: str) -> None:
    assert normalize(span) == expected


SPELLINGS = [
    ("$125$ miles", r"The distance is $\boxed{125\textnormal{ miles}}.$", True),
    ("$125$ miles", r"$\boxed{126}$", False),
    (r"$1 - \frac{1}{\mathrm{e}}$", r"$1 - e^{-1}$", True),
    (r"$1 - \frac{1}{\mathrm{e}}$", r"$1 + \frac{1}{\mathrm{e}}$", False),
    ("$19, 46, and 82$", r"$19, 46, \text{ and } 82$", True),
    ("$19, 46, and 82$", r"$19, 46, \text{ and } 83$", False),
    ("It is 28%. Final Answer: The final answer is $28\\%$. I hope it is correct.", r"\boxed{28\%}", True),
    ("It is 28%. Final Answer: The final answer is $28\\%$. I hope it is correct.", r"\boxed{29\%}", False),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), SPELLINGS)
def test_small_spellings_in_verify(gold: str, pred: str, expected: bool) -> None:
    assert verify(gold, pred) is expected


def test_small_spellings_in_verify_batch() -> None:
    golds, preds, expected = zip(*SPELLINGS, strict=True)
    assert _both(list(golds), list(preds)) == list(expected)
