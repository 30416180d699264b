"""Tests for rewards.verify: labeled equivalence cases, extraction, safety guards, timeouts, counters."""

import ast
import threading
import time
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewards.verify as verify_module
from rewards.verify import (
    TAIL_CHARS,
    counters_snapshot,
    extract_answer,
    normalize,
    reset_counters,
    verify,
    verify_batch,
)
from rewards.verify.pool import clear_worker_caches

CASES = [
    # integers with thousands separators
    ("sep-comma", "1000", r"\boxed{1,000}", True),
    ("sep-thinspace", "1000", r"\boxed{1\,000}", True),
    ("sep-space", "1000", r"\boxed{1 000}", True),
    ("sep-gsm8k", "1234567", "#### 1,234,567", True),
    ("sep-wrong-value", "1000", r"\boxed{1,001}", False),
    ("sep-tuple-not-thousands", "12", r"\boxed{1,2}", False),
    ("sep-gold-has-comma", "10,000", r"\boxed{10000}", True),
    # negatives
    ("neg-equal", "-5", r"\boxed{-5}", True),
    ("neg-sign-matters", "-5", r"\boxed{5}", False),
    ("neg-unicode-minus", "-3", "\\boxed{\u22123}", True),
    ("neg-frac-vs-decimal", r"-\frac{1}{2}", r"\boxed{-0.5}", True),
    ("neg-zero", "0", r"\boxed{-0}", True),
    # decimals vs fractions
    ("dec-half", "0.5", r"\boxed{\frac{1}{2}}", True),
    ("dec-slash", "0.25", r"\boxed{1/4}", True),
    ("dec-third-rounded", r"\frac{1}{3}", r"\boxed{0.33}", False),
    ("dec-third-precise", r"\frac{1}{3}", r"\boxed{0.3333333333333}", True),
    ("dec-trailing-zero", "2.50", r"\boxed{2.5}", True),
    ("dec-integer-point-zero", "3", r"\boxed{3.0}", True),
    ("dec-close-but-wrong", "3", r"\boxed{3.01}", False),
    ("dec-leading-dot", "0.5", r"\boxed{.5}", True),
    # \frac spellings
    ("frac-short-gold", r"\frac12", r"\boxed{\frac{1}{2}}", True),
    ("frac-dfrac", r"\frac{1}{2}", r"\boxed{\dfrac{1}{2}}", True),
    ("frac-tfrac-short", r"\frac{1}{2}", r"\boxed{\tfrac12}", True),
    ("frac-unreduced", r"\frac{1}{2}", r"\boxed{\frac{2}{4}}", True),
    ("frac-wrong", r"\frac12", r"\boxed{\frac{1}{3}}", False),
    ("frac-mixed-braces", r"\frac{10}{4}", r"\boxed{\frac{5}2}", True),
    ("frac-divide-by-zero", "1", r"\boxed{1/0}", False),
    # scientific notation
    ("sci-e", "1000", r"\boxed{1e3}", True),
    ("sci-times", "1000", r"\boxed{1\times 10^{3}}", True),
    ("sci-negative-exponent", "0.0015", r"\boxed{1.5 \times 10^{-3}}", True),
    ("sci-wrong-exponent", "1000", r"\boxed{1e4}", False),
    # relative (never absolute) tolerance
    ("tol-tiny-powers-of-two", r"\frac{1}{2^{99}}", r"\boxed{\frac{1}{2^{98}}}", False),
    ("tol-tiny-decimals", str(1 / 2**99), rf"\boxed{{{1 / 2**98}}}", False),
    ("tol-tiny-decimals-equal", "1e-30", r"\boxed{1.0000000000001e-30}", True),
    ("tol-tiny-decimals-off", "1e-30", r"\boxed{1.00001e-30}", False),
    ("tol-large-integers-exact", "123456789012", r"\boxed{123456789013}", False),
    ("tol-huge-exact-rationals", r"\frac{1}{3}", r"\boxed{\frac{333333333333}{999999999999}}", True),
    # square roots
    ("sqrt-8", r"2\sqrt{2}", r"\boxed{\sqrt{8}}", True),
    ("sqrt-commuted", r"2\sqrt{2}", r"\boxed{\sqrt{2}\cdot 2}", True),
    ("sqrt-wrong", r"2\sqrt{2}", r"\boxed{\sqrt{6}}", False),
    ("sqrt-of-square", "2", r"\boxed{\sqrt{4}}", True),
    ("sqrt-short", r"\sqrt2", r"\boxed{\sqrt{2}}", True),
    # pi
    ("pi-half", r"\frac{\pi}{2}", r"\boxed{\pi/2}", True),
    ("pi-sum", r"2\pi", r"\boxed{\pi+\pi}", True),
    ("pi-rounded", r"\pi", r"\boxed{3.14}", False),
    ("pi-wrong-denominator", r"\frac{\pi}{3}", r"\boxed{\frac{\pi}{6}}", False),
    ("pi-area", r"\pi r^2", r"\boxed{r^{2}\pi}", True),
    ("pi-many-digits", "3.14159265358979", r"\boxed{\pi}", True),
    # polynomials
    ("poly-commuted", "x^2+1", r"\boxed{1+x^2}", True),
    ("poly-expanded", "(x+1)^2", r"\boxed{x^2+2x+1}", True),
    ("poly-factored", "x^2-1", r"\boxed{(x-1)(x+1)}", True),
    ("poly-wrong", "x+1", r"\boxed{x+2}", False),
    # normalisation
    ("norm-units", "5", r"\boxed{5\text{ cm}}", True),
    ("norm-degrees", "90", r"\boxed{90^\circ}", True),
    ("norm-dollars-and-dot", "7", r"\boxed{$7$.}", True),
    ("norm-left-right", "10", r"\boxed{\left(10\right)}", True),
    ("norm-assignment", "5", r"\boxed{x = 5}", True),
    ("norm-currency", "12", r"\boxed{\$12}", True),
    # extraction
    ("ext-nested-boxed", "5", r"\boxed{\boxed{5}}", True),
    ("ext-last-boxed-wins", "5", r"first \boxed{3}, then finally \boxed{5}", True),
    ("ext-earlier-boxed-ignored", "3", r"first \boxed{3}, then finally \boxed{5}", False),
    ("ext-fbox", "5", r"\fbox{5}", True),
    ("ext-boxed-no-braces", "5", r"so $\boxed 5$", True),
    ("ext-answer-tag", "42", "<think>hmm</think><answer>42</answer>", True),
    ("ext-answer-tag-wrong", "42", "<answer>41</answer>", False),
    ("ext-gsm8k", "72", "Natalia sold 48+24 = 72 clips.\n#### 72", True),
    ("ext-gsm8k-wrong", "72", "#### 71", False),
    ("ext-answer-is", "18", "So the answer is 18.", True),
    ("ext-final-answer-is", "18", "The final answer is: $18$", True),
    ("ext-answer-is-latex", r"\frac{3}{4}", r"Thus the answer is \frac{3}{4}. Done", True),
    # missing / unclosed predictions
    ("miss-no-answer", "5", "I don't know.", False),
    ("miss-empty", "5", "", False),
    ("miss-empty-boxed", "5", r"\boxed{}", False),
    ("miss-unclosed", "5", r"\boxed{5", False),
    ("miss-last-unclosed", "5", r"\boxed{5} and then \boxed{\frac{1}{2}", False),
    # gold handling
    ("gold-empty", "", r"\boxed{5}", None),
    ("gold-blank", "   ", r"\boxed{5}", None),
    ("gold-boxed", r"\boxed{7}", r"\boxed{7}", True),
    ("gold-empty-boxed", r"\boxed{}", r"\boxed{7}", None),
    ("gold-unparsable", r"\frac{1}{", r"\boxed{1}", None),
    ("gold-unparsable-same-text", r"\frac{1}{", r"<answer>\frac{1}{</answer>", None),
    ("gold-unparsable-no-prediction", r"\frac{1}{", "nothing here", None),
    ("gold-power-tower", r"9^{9^{9^{9}}}", r"\boxed{1}", None),
]


@pytest.mark.parametrize(
    ("gold", "completion", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_labeled_case(gold: str, completion: str, expected: bool | None) -> None:
    assert verify(gold, completion) is expected


def test_verify_batch_matches_verify_elementwise() -> None:
    golds = [c[1] for c in CASES]
    completions = [c[2] for c in CASES]
    batch = verify_batch(golds, completions)
    assert batch == [verify(g, c) for g, c in zip(golds, completions, strict=True)]
    assert batch == [c[3] for c in CASES]


def test_verify_batch_duplicates_and_length_mismatch() -> None:
    completions = [r"\boxed{x^{2}}", r"\boxed{x^3}", r"\boxed{x^{2}}"]
    assert verify_batch(["x^2"] * 3, completions) == [True, False, True]
    assert verify_batch([], []) == []
    golds = [f"{k}x" for k in range(7)]
    completions = [rf"\boxed{{x \cdot {k} + {k % 2}}}" for k in range(7)]  # symbolic, several waves
    assert verify_batch(golds, completions, workers=2) == [k % 2 == 0 for k in range(7)]
    with pytest.raises(ValueError, match="differ in length"):
        verify_batch(["1"], [])


@pytest.mark.parametrize(
    ("text", "span"),
    [
        (r"a \boxed{\frac{a}{b}} b", r"\frac{a}{b}"),
        (r"\boxed{\{1,2\}}", r"\{1,2\}"),
        (r"\boxed{a\}b}", r"a\}b"),
        (r"\boxed{1} \boxed{2}", "1,2"),  # consecutive boxes: one list answer
        (r"\boxed{1} so \boxed{2}", "2"),
        (r"\boxed {  3 }", "3"),
        (r"\boxed{x", None),
        ("<answer>\n  12\n</answer> trailing", "12"),
        ("<answer>unclosed", None),
        ("#### 5\nextra line", "5"),
        ("The answer is 3.5 apples. Yes.", "3.5"),
        ("", None),
    ],
)
def test_extract_answer(text: str, span: str | None) -> None:
    assert extract_answer(text) == span


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("1,000,000", "1000000"),
        ("1,2,345", "1,2,345"),
        ("0,111", "0,111"),
        ("1,000.5", "1000.5"),
        (r"\pi r^2", r"\pi r^2"),
        (r"\left( 3 \right)", "(3)"),
        (r"\frac 1 2", r"\frac{1}{2}"),
        (r"\sqrt3", r"\sqrt{3}"),
        (r"\text{(B)}", "(B)"),
    ],
)
def test_normalize(span: str, expected: str) -> None:
    assert normalize(span) == expected


def test_answer_outside_the_tail_is_not_searched() -> None:
    assert verify("5", r"\boxed{5}" + " " * TAIL_CHARS) is False
    assert verify("5", r"\boxed{5}" + " " * (TAIL_CHARS - 20)) is True


INJECTIONS = [
    r"\boxed{__import__('os').system('touch /tmp/pwned_rr')}",
    "<answer>__import__('os').system('touch /tmp/pwned_rr')</answer>",
    '#### __import__("os").system("touch /tmp/pwned_rr")',
    r"\boxed{exec('open(\"/tmp/pwned_rr\", \"w\")')}",
    r"\boxed{eval(\"__import__('os').system('touch /tmp/pwned_rr')\")}",
    r"\boxed{lambda: __import__('os').system('touch /tmp/pwned_rr')}",
]


@pytest.mark.parametrize("completion", INJECTIONS)
def test_injection_is_wrong_and_harmless(completion: str) -> None:
    marker = Path("/tmp/pwned_rr")
    marker.unlink(missing_ok=True)
    assert verify("0", completion) is False
    assert verify("x", completion) is False
    assert verify_batch(["0"], [completion]) == [False]
    assert not marker.exists()


def test_injection_as_gold_is_never_correct() -> None:
    marker = Path("/tmp/pwned_rr")
    marker.unlink(missing_ok=True)
    gold = "__import__('os').system('touch /tmp/pwned_rr')"
    assert verify(gold, rf"\boxed{{{gold}}}") is not True
    assert not marker.exists()


VERIFY_FILES = sorted(Path(verify_module.__file__).parent.glob("*.py"))


@pytest.mark.parametrize("path", VERIFY_FILES, ids=lambda p: p.name)
def test_module_never_calls_string_evaluators(path: Path) -> None:
    tree = ast.parse(path.read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert not names & {"eval", "exec", "compile", "__import__", "sympify", "parse_expr", "S", "Rational"}
    attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not attributes & {"sympify", "parse_expr", "S", "Rational", "parse_latex"}
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert imported & {"sympify", "parse_expr", "S", "Rational"} == set()


NUMBER_HEAVY = [
    (r"\frac{1}{2^{99}}", "2^{-99}", True),
    (r"\sqrt{3}", r"\frac{\sqrt{12}}{2}", True),
    ("1,000", "10^{3}", True),
    ("0.5x+0.0015", r"\frac{x}{2}+1.5\times10^{-3}", True),
    ("3.14159", r"\pi", False),
    ("y=2x+1", "2x-y+1=0", True),
    ("(0,1]", "(0,1)", False),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), NUMBER_HEAVY)
def test_symbolic_path_never_reaches_the_string_evaluator(monkeypatch, gold, pred, expected) -> None:
    """latex2sympy builds numbers with ``sympy.Number(text)``, i.e. ``sympify`` -> ``eval``; ours must not."""
    import sympy.parsing.sympy_parser as sympy_parser

    from rewards.verify import symbolic

    def refuse(*args, **kwargs):
        raise AssertionError(f"parse_expr called on {args[:1]!r}")

    monkeypatch.setattr(sympy_parser, "parse_expr", refuse)
    symbolic._parse.cache_clear()
    try:
        assert symbolic.symbolic_equal(gold, pred) is expected
    finally:
        symbolic._parse.cache_clear()


@pytest.mark.parametrize(
    "latex",
    ["x^2", "3x^{2}+2x", r"\pi^{1/2}", r"e^{-1}", r"\sin^2x+\cos^2x", "x_1^2", r"\lambda^3", "xy^2", "2^{x}"],
)
def test_superscript_rewrite_keeps_the_meaning(latex: str) -> None:
    """``{x}^2`` (our SLL-friendly rewrite) parses to the same expression as latex2sympy's ``x^2``."""
    import sympy
    from latex2sympy2_extended import latex2sympy

    from rewards.verify import symbolic

    ours, theirs = symbolic._latex_to_sympy(latex), latex2sympy(latex)
    assert sympy.simplify(ours - theirs) == 0


@pytest.mark.parametrize(
    "latex",
    ["x>2", r"x\geq -1", "2<x", r"0<x\le 1", r"x<\sqrt{2}", "|x|<3", r"|x|\ge 3", "|x|>0", r"|t|\le 5"]
    + ["-x>-1", r"-x\geq -1", "2x+1<5", r"3-\frac{x}{2}\le 0", r"1\leq|z|\leq\frac{3}{2}", r"-2<1-3x\le 7"],
)
def test_simple_bounds_match_the_inequality_solver(latex: str) -> None:
    from rewards.verify import symbolic

    expr = symbolic._parse(latex)
    fast = symbolic._bound_interval(expr)
    assert fast is not None and fast == expr.as_set()


def _warm_pool(workers: int | None = None) -> None:
    """Make sure the worker pool exists, so that timings measure the deadline and not the pool start.

    (A verify_batch call is no warm-up: the fast path answers easy pairs without starting the pool.)
    """
    verify_module._CACHE.clear()
    assert len(clear_worker_caches(workers or verify_module.DEFAULT_WORKERS)) >= 1


def _timed(fn, *args, **kwargs):
    start = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - start


def _in_thread(fn, *args, **kwargs):
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("out", _timed(fn, *args, **kwargs)))
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    return box["out"]


@pytest.mark.parametrize("runner", [_timed, _in_thread], ids=["main-thread", "worker-thread"])
def test_power_tower_returns_within_deadline(runner) -> None:
    _warm_pool()
    result, elapsed = runner(verify, "1", r"\boxed{9^{9^{9^{9}}}}")
    assert result is False and elapsed < 1.0 + 0.5
    result, elapsed = runner(verify_batch, ["1"], [r"\boxed{9^{9^{9}}}"], timeout_s=0.5)  # passes the guards
    assert result == [False] and elapsed < 0.5 + 0.5


def test_slow_comparison_times_out_and_pool_recovers() -> None:
    _warm_pool(workers=2)
    reset_counters()
    # passes the guards; comparing at a random point computes 7^(8732691 * 97/13) exactly: minutes on any CPU
    # (an integral that takes sympy ~0.5 s here was verified inside 0.4 s on a faster CI machine)
    slow = "7^{99\\cdot99\\cdot99\\cdot9x}"
    completions = [r"\boxed{(7^{99\cdot99\cdot99\cdot9})^{x}}", r"\boxed{y=1}"]
    result, elapsed = _in_thread(verify_batch, [slow, "y=1"], completions, timeout_s=0.4, workers=2)
    assert result == [False, True] and elapsed < 0.4 + 0.5
    assert counters_snapshot()["timeouts"] == 1
    assert verify(r"2\sqrt{3}", r"\boxed{\sqrt{12}}") is True  # a fresh pool answers afterwards


def test_concurrent_callers_get_their_own_answers() -> None:
    pairs = [(rf"{k}\sqrt{{2}}", rf"\boxed{{\sqrt{{{2 * k * k}}}}}") for k in range(2, 10)]
    results: dict[int, bool | None] = {}
    threads = [
        threading.Thread(target=lambda i=i, g=g, c=c: results.setdefault(i, verify(g, c)))
        for i, (g, c) in enumerate(pairs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {i: True for i in range(len(pairs))}
    assert verify(r"3\sqrt{2}", r"\boxed{\sqrt{19}}") is False


@pytest.mark.parametrize(
    "completion",
    [
        "a" * 1_000_000 + r"\boxed{5}",
        r"\boxed{5}" + "{" * 1_000_000,
        r"\boxed{" + "9" * 1_000_000 + "}",
        r"\boxed{5}" * 110_000,
        "#### " + "1" * 1_000_000,
        "the answer is " * 80_000,
    ],
    ids=["prose", "open-braces", "digits", "many-boxed", "gsm8k-digits", "answer-is"],
)
def test_megabyte_completion_is_cheap(completion: str, cpu_seconds) -> None:
    # CPU time of this thread, not wall time: a busy CI machine stretched 'answer is' x 80k to 1.2 s of wall
    # time; backtracking in the caller would cost CPU seconds whatever the load
    with cpu_seconds() as spent:
        result = verify("5", completion)
    assert result in (True, False) and spent() < 1.0


def test_counters_move() -> None:
    reset_counters()
    assert counters_snapshot() == {"calls": 0, "extraction_failures": 0, "unparsable_gold": 0, "timeouts": 0}
    verify("5", "no answer at all")
    verify("", r"\boxed{5}")
    verify_batch(["1", "2"], [r"\boxed{1}", r"\boxed{3}"])
    assert counters_snapshot() == {"calls": 4, "extraction_failures": 1, "unparsable_gold": 1, "timeouts": 0}


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=10**12), st.integers(min_value=-(10**12), max_value=10**12))
def test_integers_with_separators_property(n: int, m: int) -> None:
    assert verify(str(n), rf"\boxed{{{n:,}}}") is True
    assert verify(str(n), f"#### {m}") is (n == m)


@settings(max_examples=50, deadline=None)
@given(st.fractions(min_value=0, max_denominator=10**6), st.integers(min_value=1, max_value=1000))
def test_fractions_property(value: Fraction, k: int) -> None:
    a, b = value.numerator * k, value.denominator * k
    assert verify(str(value), rf"\boxed{{{a}/{b}}}") is True
    assert verify(str(value), rf"\boxed{{\frac{{{a}}}{{{b + 1}}}}}") is (a == 0)


def test_works_inside_an_asyncio_loop() -> None:
    import asyncio

    async def main() -> tuple[list, list]:
        direct = verify_batch(["2", "x^2"], [r"\boxed{\sqrt{4}}", r"\boxed{x \cdot x}"])
        loop = asyncio.get_running_loop()
        offloaded = await loop.run_in_executor(None, verify_batch, ["3"], [r"\boxed{\sqrt{9}}"])
        return direct, offloaded

    assert asyncio.run(main()) == ([True, True], [True])
