"""The exact step checker (evaluation only): every teacher trace passes, and one wrong character anywhere
fails that step and every later one."""

import random

import pytest

from rl_reasoner.data.arith import STYLES, make_problem, size_line, trace
from rl_reasoner.verifier.arith_steps import addition_operands, exact_step_labels, prefix_correct


def problems(n: int = 30) -> list[tuple[int, int]]:
    rng = random.Random(0)
    return [make_problem(rng.choice([1, 2, 3, 4]), rng) for _ in range(n)]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("rechecks", [0, 1, 3, 5])
@pytest.mark.parametrize("sized", [False, True])  # data.size_line's traces open with "d-digit"
def test_every_step_of_every_teacher_trace_is_correct(style, rechecks, sized):
    for a, b in problems():
        completion = trace(a, b, style, rechecks=rechecks, head=size_line(a, b) if sized else "")
        assert exact_step_labels(a, b, completion) == [True] * (completion.count("\n") + 1)


@pytest.mark.parametrize("sized", [False, True])
def test_a_wrong_digit_fails_its_step_and_every_later_one(sized):
    for a, b in problems():
        lines = trace(a, b, "verbose", rechecks=2, head=size_line(a, b) if sized else "").split("\n")
        for i, line in enumerate(lines):
            digits = [j for j, char in enumerate(line) if char.isdigit()]
            if not digits:
                continue
            j = digits[len(digits) // 2]
            wrong = lines[:i] + [line[:j] + str((int(line[j]) + 1) % 10) + line[j + 1 :]] + lines[i + 1 :]
            labels = exact_step_labels(a, b, "\n".join(wrong))
            assert labels == [True] * i + [False] * (len(lines) - i), (a, b, wrong[i])


@pytest.mark.parametrize(
    ("completion", "labels"),
    [
        # the carry left out of the tens column: the column line is wrong, whatever follows
        ("<think>\nLet me add 47 and 35.\n7+5+0=12\n4+3+0=7\nSo the sum is 82.\n</think>\n\\boxed{82}",
         [True, True, True, False, False, False, False]),
        # columns in the wrong order (tens first)
        ("<think>\nLet me add 47 and 35.\n4+3+0=7\n", [True, True, False]),
        # the operands restated swapped
        ("<think>\nLet me add 35 and 47.\n", [True, False]),
        # a check block that skips a column goes wrong at the line that differs
        ("<think>\nLet me add 47 and 35.\n7+5+0=12\n4+3+1=8\nCheck:\n4+3+1=8\n",
         [True, True, True, True, True, False]),
        # a right trace stopped early: every line right, the whole completion is not a trace
        ("<think>\nLet me add 47 and 35.\n7+5+0=12", [True, True, False]),
        # the right trace with a trailing newline: still the whole trace
        (trace(47, 35, "concise") + "\n", [True] * 6),
        # the right answer without the trace is no trace
        ("\\boxed{82}", [False]),
    ],
)
def test_what_the_checker_refuses(completion, labels):
    assert exact_step_labels(47, 35, completion) == labels


def test_the_unfinished_last_line_of_a_prefix_is_not_judged():
    assert prefix_correct(47, 35, "<think>\nLet me add 47 and 35.\n7+5+0=1", complete=False)
    assert not prefix_correct(47, 35, "<think>\nLet me add 47 and 35.\n7+5+0=1", complete=True)


def test_only_addition_prompts_are_checked():
    assert addition_operands({"prompt": "478+356=?\n", "op": "add"}) == (478, 356)
    assert addition_operands({"prompt": "834-478=?\n", "op": "sub"}) is None
    assert addition_operands({"prompt": "What is 2+2?"}) is None
