"""Tests for rewards.verify.intervals: in-process verdicts on inequalities and intervals, as the worker's."""

import itertools

import pytest

from rewards.verify import verify_batch
from rewards.verify.intervals import as_pieces, sets_equal
from rewards.verify.symbolic import symbolic_equal

SIDES = [
    "x<1", "-x>-1", r"x\lt1", "1>x", r"x\leq1", r"-x\geq-1", "x<=1", "y<1", r"2x+1<3",
    r"x\geq2", r"2\leq x", r"x\ge2", r"[2,\infty)", r"x\in[2,\infty)", r"[2,+\infty)", r"(2,\infty)",
    r"-2\leq x\leq7", r"[-2,7]", r"x\in[-2,7]", r"(-2,7]", r"-2<x\le7", r"-1<\frac{x-5}{3}\leq\frac{2}{3}",
    r"(-\infty,0)\cup(0,\infty)", r"x\in(-\infty,0)\cup(0,\infty)", r"(-\infty,1)", r"(-\infty,1]",
    r"(-\infty,-3]\cup[2,\infty)", r"[-3,2]", r"0<x<\frac{1}{2}", r"(0,0.5)", r"2<x<1", "x<0.5",
    r"x<\frac{1}{2}", r"(-\infty,\frac{1}{2})",
]


def test_agrees_with_the_worker_wherever_it_decides() -> None:
    decided = 0
    for gold, pred in itertools.product(SIDES, repeat=2):
        fast = sets_equal(gold, pred)
        if fast is not None:
            decided += 1
            assert fast is symbolic_equal(gold, pred), (gold, pred)
    assert decided > len(SIDES) * 10


@pytest.mark.parametrize(
    ("gold", "pred", "expected"),
    [("x<1", "-x>-1", True), (r"[2,\infty)", r"x\geq2", True), (r"[2,\infty)", "x>2", False),
     (r"-793<a<10", "(-793,10)", True), (r"x\leq5", r"5\geq x", True), (r"[-2,7]", r"x\in[-2,7]", True),
     (r"(-\infty,0)\cup(0,\infty)", r"x\neq0", None), ("x<1", "x<y", None), ("x<1", None, False),
     (r"[-3,2]", r"(-\infty,-3]\cup[2,\infty)", False), (r"(1,3)", r"(1,2)\cup(2,3)", False),
     (r"(-\infty,1)\cup(2,\infty)", r"(2,\infty)\cup(-\infty,1)", True), (r"(1,2]", r"(1,2)", False),
     (r"(-\infty,1)\cup(2,\infty)", r"(-\infty,1]\cup(2,\infty)", False),
     (r"(-\infty,\infty)", r"(-\infty,\infty)", True), (r"(-\infty,\infty)", r"(-\infty,0)", None)],
)
def test_verdicts(gold: str, pred: str | None, expected: bool | None) -> None:
    assert sets_equal(gold, pred) is expected
    if expected is not None:
        assert symbolic_equal(gold, pred) is expected


@pytest.mark.parametrize(
    "side",
    [r"[0,1]\cup[1,2]", r"[0,2]\cup(1,3)", r"[1,1]", r"[2,1]", r"[2,\infty]", "x<y", r"x\neq3", "x^2<4",
     r"x<\sqrt{2}", r"e<x", "1<2", r"x\in[1,2],x\in[3,4]", "x=1", r"x<1,x>2"],
)
def test_left_to_the_worker(side: str) -> None:
    assert as_pieces(side) is None


def test_decided_without_the_worker(monkeypatch) -> None:
    import rewards.verify as verify_module

    monkeypatch.setattr(verify_module, "run_symbolic", lambda *a, **k: pytest.fail("went to the worker"))
    golds = ["x<1", r"[2,\infty)", r"-2\leq x\leq7", r"(-\infty,1)\cup(1,\infty)"]
    preds = [r"\boxed{-x>-1}", r"\boxed{x\ge 2}", r"\boxed{x\in[-2,7)}", r"\boxed{x\geq 1}"]
    assert verify_batch(golds, preds) == [True, True, False, False]
