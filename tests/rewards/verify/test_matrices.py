"""Matrices in process (``rewards.verify.matrices``): the worker's verdict wherever it decides, None where
the parser's reading is not certain, and bounded work."""

from __future__ import annotations

import time

import pytest

from rewards.verify import verify
from rewards.verify.finite_sets import worker_text
from rewards.verify.matrices import matrices_equal, read_matrix

P = r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"
I2 = r"\begin{pmatrix}1&0\\0&1\end{pmatrix}"
COLUMN = r"\begin{pmatrix}1\\2\end{pmatrix}"
THIRD_FIFTH = r"\begin{pmatrix}\frac{1}{3}\\\frac{1}{5}\end{pmatrix}"

PAIRS = [  # (gold, pred, fast verdict) as the worker receives them; None where the worker must decide
    (P, r"[\begin{array}{cc}1&2\\3&4\end{array}]", True),
    (P, r"(\begin{array}{cc}1&2\\3&4\end{array})", True),
    (P, r"\begin{bmatrix}1&2\\3&4\end{bmatrix}", True),
    (P, r"\begin{matrix}1&2\\3&4\end{matrix}", True),
    (P, r"\begin{pmatrix}1&2\\3&4\\\end{pmatrix}", True),  # a trailing row break
    (P, r"\begin{pmatrix}1&2\\3&5\end{pmatrix}", False),
    (P, r"\begin{pmatrix}1&3\\2&4\end{pmatrix}", False),
    (P, r"\begin{pmatrix}1&2&3\\3&4&5\end{pmatrix}", False),  # shapes differ
    (r"\begin{pmatrix}6&8\\10&12\end{pmatrix}", P + "+" + r"\begin{pmatrix}5&6\\7&8\end{pmatrix}", True),
    (r"\begin{pmatrix}0&0\\0&0\end{pmatrix}", P + "-" + P, True),
    (I2, I2 + I2, True),
    (r"\begin{pmatrix}7&10\\15&22\end{pmatrix}", P + P, True),
    (r"\begin{pmatrix}7&10\\15&22\end{pmatrix}", P + r"\cdot" + P, True),
    (r"\begin{pmatrix}7&10\\15&22\end{pmatrix}", P + r"\times" + P, True),
    (r"\begin{pmatrix}5\end{pmatrix}", r"\begin{pmatrix}1&2\end{pmatrix}" + COLUMN, True),
    (r"\begin{pmatrix}2&4\\6&8\end{pmatrix}", "2" + P, True),
    (r"\begin{pmatrix}-1&-2\\-3&-4\end{pmatrix}", "-" + P, True),
    (r"\begin{pmatrix}\frac{1}{2}\\1\end{pmatrix}", COLUMN + r"-\frac{1}{2}" + COLUMN, True),
    (r"\begin{pmatrix}\sqrt{2}\\\sqrt{8}\end{pmatrix}", r"\sqrt{2}" + COLUMN, True),
    (f"({THIRD_FIFTH})", r"\begin{pmatrix}0.33\\0.2\end{pmatrix}", False),
    (r"\begin{pmatrix}\frac{1}{2}\\\pi\end{pmatrix}", r"\begin{pmatrix}0.5\\\pi\end{pmatrix}", True),
    (COLUMN, "(1,2)", False),  # a matrix is no tuple
    (COLUMN, "1,2", False),
    (r"\begin{pmatrix}3\end{pmatrix}", "3", False),
    # declined: not read here, or the parser's reading is not certain
    (r"\begin{pmatrix}i&2\end{pmatrix}", r"\begin{pmatrix}i&2\end{pmatrix}", None),  # i stays a variable
    (COLUMN + "+" + r"\begin{pmatrix}1&2\end{pmatrix}", COLUMN, None),  # the parser raises
    (r"\begin{pmatrix}0.1\end{pmatrix}", "3" + r"\begin{pmatrix}0.1\end{pmatrix}", None),  # float arithmetic
    (r"\begin{vmatrix}1&2\\3&4\end{vmatrix}", "-2", None),  # a determinant
    (P + "^2", r"\begin{pmatrix}7&10\\15&22\end{pmatrix}", None),
    (P + "2", "2" + P, None),
    (r"\begin{array}{cc}1&2\\3&4\\\end{array}", P, None),  # \\\end: the parser mangles it
    (r"\begin{pmatrix}x&1\end{pmatrix}", r"\begin{pmatrix}x&1\end{pmatrix}", None),
    (r"\begin{pmatrix}1&2\\3\end{pmatrix}", r"\begin{pmatrix}1&2\\3\end{pmatrix}", None),  # ragged
    ("(1,2)", "(1,2)", None),  # no matrix
]


@pytest.mark.parametrize(("gold", "pred", "expected"), PAIRS)
def test_fast_verdicts(gold: str, pred: str, expected: bool | None) -> None:
    assert matrices_equal(worker_text(gold), worker_text(pred)) is expected


@pytest.fixture(scope="module")
def symbolic():
    pytest.importorskip("latex2sympy2_extended")
    from rewards.verify import symbolic as module

    return module


@pytest.mark.parametrize(("gold", "pred", "expected"), [p for p in PAIRS if p[2] is not None])
def test_fast_verdicts_are_the_workers(symbolic, gold: str, pred: str, expected: bool) -> None:
    assert symbolic.symbolic_equal(gold, pred) is expected


def test_what_it_reads_the_parser_reads(symbolic) -> None:
    spans = [s for pair in PAIRS for s in pair[:2] if read_matrix(worker_text(s)) is not None]
    assert len(spans) > 40
    for span in spans:
        symbolic._parse(span)  # raises when the parser does not read it


def test_through_verify() -> None:
    assert verify(P, r"\boxed{\left[\begin{array}{cc}1&2\\3&4\end{array}\right]}") is True
    doubled = r"\begin{pmatrix}2&4\\6&8\end{pmatrix}"
    assert verify(doubled, r"\boxed{2\begin{pmatrix}1&2\\3&5\end{pmatrix}}") is False


@pytest.mark.parametrize(
    "span",
    [
        r"\begin{pmatrix}" + r"\\".join(["&".join(["1"] * 9)] * 9) + r"\end{pmatrix}",
        (r"\begin{pmatrix}" + r"\\".join(["&".join(["7^{99}"] * 8)] * 8) + r"\end{pmatrix}") * 4,
        "+".join([P] * 5),
        r"\begin{pmatrix}" + r"\begin{pmatrix}1\end{pmatrix}" + r"\end{pmatrix}",
    ],
)
def test_bounds_refuse_or_decide_quickly(span: str) -> None:
    start = time.thread_time()  # this thread's CPU time: the bound is about work done here, not the clock
    matrices_equal(span, P)
    matrices_equal(span, span)
    # 0.5 s: an unbounded compare of these spans takes seconds to minutes; these take 0.07 s here. CI failed
    # at 0.52 s of *process* time, which also counts other threads of the process (torch's idle workers)
    assert time.thread_time() - start < 0.5
