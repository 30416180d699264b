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


# spellings that already decide alike: short \frac and \sqrt, \cfrac, relations in ASCII or TeX, matrices
SPELLINGS = [
    (r"\frac13", r"\boxed{\frac{1}{3}}", True),
    (r"\frac1{\sqrt3}", r"\boxed{\frac{\sqrt{3}}{3}}", True),
    (r"2\sqrt3", r"\boxed{2\sqrt{3}}", True),
    (r"\frac{1}{3}", r"\boxed{\cfrac{1}{3}}", True),
    (r"\frac{1}{3}", r"\boxed{\cfrac{1}{4}}", False),
    ("x >= 2", r"\boxed{x \geq 2}", True),
    (r"x \geq 2", r"\boxed{[2, \infty)}", True),
    ("x>=2", r"\boxed{x > 2}", False),
    (r"x \lt 3", r"\boxed{x < 3}", True),
    (r"x \gt 3", r"\boxed{x>3}", True),
    (r"x \le 3", r"\boxed{x <= 3}", True),
    ("x<3", r"\boxed{x <= 3}", False),
    (r"x \neq 3", r"\boxed{x != 3}", True),
    (r"x \ne 3", r"\boxed{x \neq 4}", False),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\boxed{\begin{bmatrix}1&2\\3&4\end{bmatrix}}", True),
    (
        r"\begin{pmatrix}1&2\\3&4\end{pmatrix}",
        r"\boxed{\left(\begin{array}{cc}1&2\\3&4\end{array}\right)}",
        True,
    ),
    (r"\begin{pmatrix}\frac12&x\\3&4\end{pmatrix}", r"\boxed{\begin{array}{cc}0.5&x\\3&4\end{array}}", True),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\boxed{\begin{bmatrix}1&2\\3&5\end{bmatrix}}", False),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\boxed{\begin{vmatrix}1&2\\3&4\end{vmatrix}}", False),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), SPELLINGS)
def test_spellings(gold: str, pred: str, expected: bool) -> None:
    assert verify(gold, pred) is expected


def test_spellings_in_a_batch() -> None:
    golds, preds, expected = zip(*SPELLINGS, strict=True)
    assert verify_batch(list(golds), list(preds)) == list(expected)


# a bounded function value is an interval too; \pm and \mp stand for both values, inside any item of a list
BOUNDS_AND_PM = [
    ("$0<f(x)<1$", r"\boxed{(0,1)}", True),
    ("$(0,1)$", r"\boxed{0<f(x)<1}", True),
    ("$0<f(x)<1$", r"\boxed{(0,2)}", False),
    ("$0<f(x)<1$", r"\boxed{0<f(x) \le 1}", False),
    (
        r"$x = \frac{1}{2}, x = \frac{-1 \pm \sqrt{13}}{4}$",
        r"\boxed{x = \frac{1}{2}, x = \frac{-1 \pm \sqrt{13}}{4}}",
        True,
    ),
    (
        r"$x = \frac{1}{2}, x = \frac{-1 \pm \sqrt{13}}{4}$",
        r"\boxed{x = \frac{1}{2}, x = \frac{-1 + \sqrt{13}}{4}}",
        False,
    ),
    (r"$\frac{-1 \pm \sqrt{13}}{4}$", r"\boxed{\frac{-1 - \sqrt{13}}{4}, \frac{-1 + \sqrt{13}}{4}}", True),
    (r"$2 \mp 1$", r"\boxed{1, 3}", True),
    (r"$2 \pm 1$", r"\boxed{3}", False),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), BOUNDS_AND_PM)
def test_bounded_functions_and_plus_minus(gold: str, pred: str, expected: bool) -> None:
    assert verify(gold, pred) is expected


def _cache_sizes(workers: int) -> dict[int, int]:
    """Every worker's parse-cache size, by process id (probes until each worker has answered one)."""
    from rewards.verify import pool
    from rewards.verify.symbolic import parse_cache_size

    executor = pool._get_pool(workers)
    sizes: dict[int, int] = {}
    for _ in range(1000):
        futures = [executor.submit(parse_cache_size) for _ in range(workers)]
        sizes.update(f.result(timeout=60) for f in futures)
        if set(sizes) >= set(executor._processes):
            return sizes
    raise AssertionError("some worker never answered")


def test_clear_worker_caches_is_a_round_trip_that_empties_every_worker() -> None:
    import time

    from rewards.verify import pool
    from rewards.verify.pool import run_symbolic

    items = [(rf"{k}\sqrt{{2}}+\frac{{x}}{{{k}}}", rf"\sqrt{{{2 * k * k}}}+x/{k}") for k in range(2, 30)]
    assert all(r is True for r in run_symbolic(items, timeout_s=5.0, workers=2))
    assert sum(_cache_sizes(2).values()) > 0
    elapsed = []
    for _ in range(3):
        start = time.perf_counter()
        acked = pool.clear_worker_caches(2)
        elapsed.append(time.perf_counter() - start)
    assert acked == set(pool._get_pool(2)._processes)  # every live worker acknowledged
    assert set(_cache_sizes(2).values()) == {0}
    assert min(elapsed) < 0.2  # no blind sleep (the old clear slept 0.3 s in every worker)


def test_sums_with_a_symbolic_limit_are_compared_at_integer_limits() -> None:
    """n in a sum's limit is a count: at a fractional n sympy's numeric sum ran for seconds (a timeout)."""
    from rewards.verify import counters_snapshot, reset_counters

    fib = r"F_n=\sum_{k=0}^{n-1}F_kF_{n-k-1}"
    golds = [fib, fib, r"\sum_{k=1}^{n}k^2", r"\sum_{k=1}^{n}k"]
    preds = [r"F_n=\sum_{k=0}^{n-2}F_kF_{n-k-2}", r"F_n=\sum_{k=0}^{n-1}F_{n-k-1}F_k"]
    preds += [r"\sum_{j=1}^{n}j^2", "n^2"]
    reset_counters()
    results = verify_batch(golds, [rf"\boxed{{{p}}}" for p in preds], timeout_s=1.0)
    assert results == [False, True, True, False]
    assert counters_snapshot()["timeouts"] == 0


SUBSCRIPTED = [
    r"a_3=2,a_{37}=19", r"F_n=\sum_{k=0}^{n-1}F_kF_{n-k-1}", r"x_1+x_2=5", r"a_nb_n", r"\sum_{i=1}^{n}a_i",
    r"x_{1}^{2}+x_1", r"\log_2 8", r"a_{n+1}=2a_n", r"u_1u_2", r"T_{10}", r"\frac{a_1}{b_2}", r"\sqrt{x_1}",
    r"|x_1|", r"\begin{pmatrix}a_1&0\\0&1\end{pmatrix}", "204_5",
]


@pytest.mark.parametrize("latex", SUBSCRIPTED)
def test_subscripts_parse_fast_to_the_same_expression(latex: str) -> None:
    """x_1 alone sends ANTLR's fast (SLL) prediction to the 5-80 ms full-LL retry; x_{1}^{1} does not."""
    from latex2sympy2_extended.latex2sympy2 import NormalizationConfig, normalize_latex

    from rewards.verify import symbolic

    text = symbolic._BARE_BASE.sub(r"{\1}^", normalize_latex(latex, NormalizationConfig()))
    reference = symbolic._converter_class()()
    reference.sll = False  # the text as written, full LL prediction
    ours, expected = symbolic._latex_to_sympy(latex), reference.parse(text)
    assert str(ours) == str(expected) and symbolic._equal(ours, expected)  # Adds may be re-evaluated
    calls = []
    original = symbolic._converter_class().parse

    def counted(self, text):
        calls.append(self.sll)
        return original(self, text)

    cls = symbolic._converter_class()
    cls.parse = counted
    try:
        symbolic._latex_to_sympy(latex)
    finally:
        cls.parse = original
    assert calls == [True]  # one SLL parse, no retry
