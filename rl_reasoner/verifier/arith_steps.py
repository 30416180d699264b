"""The exact step checker of tiny-arith addition: used only to *evaluate* process labels and verifiers.

The process verifier's training labels come from Monte-Carlo continuations (``verifier.mc_labels``), never
from here; this module says how far those labels and the trained verifier agree with the truth.

What it accepts: a prefix of a completion for ``a+b`` is correct when its lines are, line for line and
character for character, the first lines of a trace the task's teacher (``data.arith.trace``) writes for
``a+b`` in one of its four styles: ``direct``; ``draft`` (the column results, carries included, in order);
``concise`` (``Add a+b:`` then ``x+y=s`` per column from the right); ``verbose`` (``Let me add a and b.``,
then ``x+y+carry=sum`` per column from the right, then any number of ``Check:`` blocks -- zero or more, the
teacher writes one to three -- each repeating those column lines, then ``So the sum is N.`` with
``N = a+b``), each style closed by ``</think>`` and ``\\boxed{N}``; with or without the size line
(``data.size_line``: ``d-digit`` first inside ``<think>``, d the operands' digits). Any other line at
that point (wrong operands, digit, carry or order, a style switch, an extra line) makes that step and every
later one wrong.
The final step (the whole completion) must be a whole trace (a trailing newline aside). Subtraction and
other tasks are not checked (:func:`addition_operands` gives None).
"""

from __future__ import annotations

import re
from itertools import product

from rl_reasoner.data.arith import STYLES, row_op, size_line, trace
from rl_reasoner.verifier.steps import step_prefixes

ADDITION_PROMPT = re.compile(r"(\d+)\+(\d+)=\?\n")


def addition_operands(row: dict) -> tuple[int, int] | None:
    """``(a, b)`` of a tiny-arith addition row (``"a+b=?\\n"``), None for anything else.

    >>> addition_operands({"prompt": "47+35=?\\n"}), addition_operands({"prompt": "47-35=?\\n", "op": "sub"})
    ((47, 35), None)
    """
    match = ADDITION_PROMPT.fullmatch(row.get("prompt", ""))
    if match is None or row_op(row) != "add":
        return None
    return int(match[1]), int(match[2])


def prefix_correct(a: int, b: int, prefix: str, complete: bool) -> bool:
    """Whether ``prefix`` is what a correct trace of ``a+b`` says up to there: its complete lines (those
    ended by ``"\\n"``) begin some teacher trace; with ``complete``, the whole text is one trace.

    >>> steps = ["<think>", "Let me add 47 and 35.", "7+5+0=12", "4+3+1=8", "Check:", "7+5+0=12"]
    >>> prefix_correct(47, 35, "\\n".join(steps) + "\\n", complete=False)
    True
    >>> prefix_correct(47, 35, "<think>\\nLet me add 47 and 35.\\n7+5+1=13\\n", complete=False)
    False
    >>> prefix_correct(47, 35, trace(47, 35, "verbose", rechecks=0), complete=True)
    True
    >>> prefix_correct(47, 35, trace(47, 35, "concise").replace("82", "72"), complete=True)
    False
    >>> sized = trace(47, 35, "concise", head=size_line(47, 35))
    >>> prefix_correct(47, 35, sized, complete=True), prefix_correct(47, 35, sized.replace("2-", "3-"), True)
    (True, False)
    """
    if complete:
        lines = prefix.removesuffix("\n").split("\n")
    else:
        lines = prefix.split("\n")[:-1]  # the text after the last newline is not a finished line
    rechecks = lines.count("Check:")
    for style, head in product(STYLES, ("", size_line(a, b))):
        expected = trace(a, b, style, rechecks=rechecks, head=head).split("\n")
        if lines == expected or (not complete and lines == expected[: len(lines)]):
            return True
    return False


def exact_step_labels(a: int, b: int, completion: str) -> list[bool]:
    """One exact label per step of ``completion`` (``verifier.steps``): is the prefix ending there correct.

    >>> exact_step_labels(3, 4, "<think>\\n</think>\\n\\\\boxed{7}")
    [True, True, True]
    >>> exact_step_labels(3, 4, "<think>\\nD: 8\\n</think>\\n\\\\boxed{8}")
    [True, False, False, False]
    """
    prefixes = step_prefixes(completion)
    last = len(prefixes) - 1
    return [prefix_correct(a, b, prefix, complete=i == last) for i, prefix in enumerate(prefixes)]
