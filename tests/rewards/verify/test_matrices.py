"""Matrices in process (``rewards.verify.matrices``): the worker's verdict wherever it decides, None where
the parser's reading is not certain, and bounded work."""

from __future__ import annotations

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


NINE_BY_NINE = r"\begin{pmatrix}" + r"\\".join(["&".join(["1"] * 9)] * 9) + r"\end{pmatrix}"
BIG = r"\begin{pmatrix}" + r"\\".join(["&".join(["7^{99}"] * 8)] * 8) + r"\end{pmatrix}"


@pytest.mark.parametrize(
    "span",
    [
        NINE_BY_NINE,  # a side over MAX_SIZE
        BIG * 5,  # literals over MAX_LITERALS
        "+".join([P] * 5),
        r"\begin{pmatrix}" + r"\begin{pmatrix}1\end{pmatrix}" + r"\end{pmatrix}",  # nested
    ],
)
def test_past_the_bounds_nothing_is_read(span: str) -> None:
    assert read_matrix(span) is None
    assert matrices_equal(span, P) is None
    assert matrices_equal(span, span) is None


def test_the_largest_read_does_bounded_work(monkeypatch) -> None:
    """A product of MAX_LITERALS 8x8 matrices of 7^99 is read, with at most (MAX_LITERALS - 1) * MAX_SIZE^3
    entry products: counted, not timed (a timed bound failed on a slower CI machine)."""
    from rewards.verify import matrices

    calls, real_mul = [], matrices.mul

    def counted(a, b):
        calls.append(1)
        return real_mul(a, b)

    monkeypatch.setattr(matrices, "mul", counted)
    span = BIG * matrices.MAX_LITERALS
    m = read_matrix(span)
    assert m is not None and len(m) == len(m[0]) == matrices.MAX_SIZE
    assert len(calls) <= (matrices.MAX_LITERALS - 1) * matrices.MAX_SIZE**3
    assert matrices_equal(span, span) is True and matrices_equal(span, P) is False  # shapes differ
