"""Lists, sets, tuples and intervals in process (``rewards.verify.finite_sets``): the worker's verdict
wherever it decides, None where the parser's reading is not certain, and bounded work."""

from __future__ import annotations

import pytest

from rewards.verify import verify
from rewards.verify.finite_sets import lists_equal, read_answer, worker_text

PAIRS = [  # (gold, pred, fast verdict) as the worker receives them; None where the worker must decide
    ("(2,1),(1,2)", "(1,2),(2,1)", True),  # the first is a pair, the second an open interval
    ("(2,1),(1,2)", "(2,1),(2,1)", False),
    ("(37,3,3,13),(17,3,3,7)", "(17,3,3,7),(37,3,3,13),(17,3,3,7)", True),  # repeats merge
    ("(1,2),(3,4)", "(3,4),(1,2)", True),
    ("(1,2),(3,4)", "(1,2),(3,5)", False),
    ("(1,1),(2,2)", "(2,2),(1,1)", True),  # empty as intervals: pairs
    ("(1,2)", "(1,2]", False),
    ("(1,2)", "[1,2]", False),
    ("[2,1]", "(2,1)", True),  # both pairs
    ("(1,2)", "(2,1)", False),  # an interval is no pair
    ("(1,2),(1,2)", "(1,2)", False),  # a set of one interval is no interval
    (r"\{(1,2)\}", "(1,2),(1,2)", True),
    (r"(\sqrt{2},1),(1,\sqrt{2})", r"(1,\sqrt{2}),(\sqrt{2},1)", True),
    (r"(\pi,3),(3,\pi)", r"(3,\pi),(\pi,3)", True),
    (r"\(\\frac{1}{5},\\frac{1}{6}\)", r"(\frac{1}{5},\frac{1}{6})", True),  # the parser halves \\frac
    (r"(3,\frac{\pi}{2})", r"\(3,\\frac{\\pi}{2}\)", True),
    (r"\(1,2\)", "(1,2)", True),
    ("(1,2,3)", "[1,2,3]", True),
    ("(1,2,3)", "(1,3,2)", False),
    (r"\pm2021", "-2021,2021", True),
    (r"\pm2021", "2021", False),  # a set is no number
    (r"1\pm\sqrt{19}", r"1\pm\sqrt{19}", True),
    (r"3\pm2\sqrt{2}", r"3-\sqrt{8},3+\sqrt{8}", True),
    ("-3,2", "2", False),
    ("1,2", "12", False),
    ("-1,1", r"\pm2", False),
    ("5", "(5,6)", False),
    ("-2x^{2}+4x+3,3x^{2}+12x+10", "-2(x-1)^2+5,3(x+2)^2-2", True),
    ("x+1,x-1", "x+1,x+2", False),
    (r"\frac{1}{2},\frac{1}{3}", "0.5,0.333", False),
    (r"\frac{1}{2},\frac{1}{3}", r"0.5,\frac{1}{3}", True),
    ("x=1,x=2", "x=2,x=1", True),  # assignments: the set of their values
    ("k=45,n=2", "45,2", True),
    (r"p=-1,p=\frac{15}{8}", r"p=\frac{15}{8},p=-1", True),
    ("x=1,x=2", "x=1,x=3", False),
    ("a=4,-8,-10", "-10,-8,4", True),  # Eq(a, {4, -8, -10}) stands for the set
    ("n=1,2,3", "n=1,2,3", True),
    ("n=1,2,3", "3", False),
    ("(0;0;0),(0;-2;0)", "(0,-2,0),(0,0,0)", True),  # ; inside a tuple is a ,
    ("(1;2)", "(1,2)", False),  # a pair, not an interval
    ("(1;2)", "(1,2;)", None),
    ("-12;-11;-10", r"\{-12,-11,-10\}", True),
    ("1;2", "(1,2)", False),
    # declined: the parser's reading is not certain, or not read here
    ("1,2;3", "1,2,3", None),  # a set of tuples to the parser
    ("[1;2]", "[1,2]", None),
    ("n=2,3,4", "n=1,2,3", None),  # two equations
    ("x=1,y=1", "1,2", None),  # equal values written differently
    ("x=1,2,y=3", "1,2,3", None),
    ("x=y,y=1", "1,1", None),
    (r"\frac{1}{2},1/2", r"\frac{1}{2}", False),  # a set is no number, however many items it keeps
    (r"\frac{1}{2},1/2", r"\frac{1}{2},3", None),  # merged by sympy or not
    ("(0.5,1),(1,2)", "(1,2),(0.5,1)", None),  # decimals in a pair
    ("(i,1),(2,3)", "(2,3),(i,1)", None),  # no real interval
    ("[1,1]", "1", None),  # a single point
    ("(2,1]", "(2,1)", None),  # empty
    ("(1,x),(2,3)", "(2,3),(1,x)", None),  # a variable end
    ("1,000", "1000", None),  # a number to the parser
    (r"\{1\},2", r"2,\{1\}", None),  # a set inside a set
    ("(1,2),(3,4)", "(1,2)or(3,4)", None),
    ("2", "3", None),  # two values: fastpath's
]


@pytest.mark.parametrize(("gold", "pred", "expected"), PAIRS)
def test_fast_verdicts(gold: str, pred: str, expected: bool | None) -> None:
    assert lists_equal(worker_text(gold), worker_text(pred)) is expected


@pytest.fixture(scope="module")
def symbolic():
    pytest.importorskip("latex2sympy2_extended")
    from rewards.verify import symbolic as module

    return module


@pytest.mark.parametrize(("gold", "pred", "expected"), [p for p in PAIRS if p[2] is not None])
def test_fast_verdicts_are_the_workers(symbolic, gold: str, pred: str, expected: bool) -> None:
    assert symbolic.symbolic_equal(gold, pred) is expected


def test_what_it_reads_the_parser_reads(symbolic) -> None:
    spans = [s for pair in PAIRS for s in pair[:2] if read_answer(worker_text(s)) is not None]
    assert len(spans) > 50
    for span in spans:
        symbolic._parse(span)  # raises when the parser does not read it


def test_a_missing_prediction_is_false_when_the_gold_reads() -> None:
    assert lists_equal("(1,2),(3,4)", None) is False
    assert lists_equal("(i,1),(2,3)", None) is None


def test_through_verify() -> None:
    assert verify("(1, 2), (2, 1)", r"The pairs are \boxed{(2,1),(1,2)}.") is True
    assert verify(r"\pm 2021", r"\boxed{2021}") is False


@pytest.mark.parametrize(
    "span",
    [
        ",".join(f"({k},{k + 1})" for k in range(200)),
        ",".join(["(1,2)"] * 25),
        ",".join(f"x^{{{k % 9}}}+{k}" for k in range(24)),
        "(" * 40 + "1,2" + ")" * 40,
        ",".join(["(7^{999},1)"] * 10),
        r"\{" * 30 + "1" + r"\}" * 30,
    ],
)
def test_bounds_refuse_or_decide_quickly(span: str, cpu_seconds) -> None:
    with cpu_seconds() as spent:
        lists_equal(span, span[::-1])
        lists_equal(span, span)
    assert spent() < 0.2
