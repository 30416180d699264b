"""Reverse-thinking SFT data (``data.revthink``) for the arith task: RevThink (Chen et al., 2024,
"Reverse Thinking Makes LLMs Stronger Reasoners").

For each SFT problem the task's teacher gives its forward trace, a *backward question* (the same fact
asked the other way round) and the backward trace:

* ``a+b=?`` (answer ``c``) -> ``c-a=?`` (answer ``b``) or ``c-b=?`` (answer ``a``), picked by the
  problem's own rng; ``a-b=?`` (answer ``c``) -> ``c+b=?`` (answer ``a``);
* the backward trace is the task's trace of the backward problem, in the forward row's style.

With ``noise`` p each forward and each backward trace is corrupted, independently, with probability p:
one column line of its ``<think>`` block gets a wrong last digit in its result (a ``draft`` trace: one
of its column values; a ``direct`` trace has no column lines, so its boxed answer gets it). A trace
*verifies* (:func:`verifies`) when every column line is arithmetically right (parsed and summed as
ints, never evaluated), every draft value is its column's value, and the boxed answer is right. With
``filter`` on, a problem is kept only when both its traces verify (the consistency check), so the kept
fraction is about (1-p)^2; off, every problem is kept, corrupted traces included (the control).

Each kept problem gives one SFT row per objective in ``objectives``:

* ``forward``  – the task's row: forward prompt -> forward trace;
* ``question`` – forward prompt + :data:`QUESTION_CUE` -> the backward question (``478+356=?\\n``
  ``Backward question:\\n`` -> ``834-478=?``);
* ``backward`` – backward prompt -> backward trace.

So N SFT problems (``data.train_size`` counts problems) give up to 3N rows. Every row has ``id``
(``<problem id>-<objective>``), ``problem`` (the SFT problem's id), ``objective``, ``level`` (the
problem's), ``op`` (of its prompt's question), ``prompt``, ``answer`` (a question row's: the backward
question), ``completion`` and ``style`` (None on question rows). The test time question is the forward
one; the data stage also writes ``eval_backward``: the eval problems' backward questions.

No eval fact reaches training: an eval problem and its backward question state one fact (:func:`fact`),
and SFT and GRPO problems whose fact is an eval problem's are redrawn at their level and op
(:func:`avoid_facts`); :func:`check_no_eval_leak` then checks every question in every training row.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rl_reasoner.data.arith import (
    STYLE_PREFIX,
    THINK_OPEN,
    borrow_steps,
    digit_steps,
    make_problem,
    prompt_text,
    result,
    trace,
)
from rl_reasoner.errors import UsageError

OBJECTIVES = ("forward", "question", "backward")
QUESTION_CUE = "Backward question:\n"
MAX_DRAWS = 1000  # redraws of a problem whose fact is an eval problem's before giving up

Problem = tuple[str, int, int]  # (op, a, b): the question ``a<op>b=?``
_QUESTION = re.compile(r"(\d+)([+-])(\d+)=\?")
_COLUMN_LINE = re.compile(r"^(\d+)((?:[+-]\d+)+)=(-?\d+)$", flags=re.MULTILINE)
DRAFT_TAG = STYLE_PREFIX["draft"].removeprefix(THINK_OPEN)  # what opens a draft line: "D:"
_DRAFT_LINE = re.compile(rf"^{re.escape(DRAFT_TAG)} (.*)$", flags=re.MULTILINE)
_BOXED = re.compile(r"\\boxed\{(-?\d+)\}")
_OP_OF_SIGN = {"+": "add", "-": "sub"}


class RevThinkError(UsageError):
    """RevThink data cannot be built as asked (an eval fact in training, or nothing kept)."""


def questions(text: str) -> list[Problem]:
    """Every ``a+b=?`` / ``a-b=?`` question in ``text``.

    >>> questions("478+356=?\\nBackward question:\\n834-478=?")
    [('add', 478, 356), ('sub', 834, 478)]
    """
    return [(_OP_OF_SIGN[sign], int(a), int(b)) for a, sign, b in _QUESTION.findall(text)]


def fact(op: str, a: int, b: int) -> Problem:
    """The addition that states the fact of ``a<op>b``, smaller operand first: a problem and its backward
    questions give the same fact.

    >>> fact("add", 478, 356), fact("sub", 834, 478), fact("sub", 834, 356)
    (('add', 356, 478), ('add', 356, 478), ('add', 356, 478))
    """
    low, high = (a, b) if op == "add" else (b, a - b)
    return ("add", min(low, high), max(low, high))


def backward_problem(op: str, a: int, b: int, rng: random.Random) -> Problem:
    """The backward question of ``a<op>b``: ``c-a`` or ``c-b`` (picked by ``rng``) of ``a+b=c``, ``c+b``
    of ``a-b=c``.

    >>> backward_problem("sub", 834, 478, random.Random(0))
    ('add', 356, 478)
    """
    c = result(a, b, op)
    if op == "add":
        return ("sub", c, a) if rng.random() < 0.5 else ("sub", c, b)
    return ("add", c, b)


def column_values(op: str, a: int, b: int) -> list[int]:
    """Each column's result from the right (what a draft trace writes): sums, or ``x - y - borrow``."""
    steps = digit_steps(a, b) if op == "add" else borrow_steps(a, b)
    return [value for *_, value in steps]


def _line_holds(line: re.Match) -> bool:
    terms = [int(line[1]), *(int(t) for t in re.findall(r"[+-]\d+", line[2]))]
    return sum(terms) == int(line[3])


def _draft_holds(values: str, op: str, a: int, b: int) -> bool:
    try:
        return [int(v) for v in values.split(",")] == column_values(op, a, b)
    except ValueError:
        return False


def verifies(completion: str, op: str, a: int, b: int) -> bool:
    """Whether a trace of ``a<op>b=?`` holds: a ``<think>`` block whose column lines are all arithmetically
    right (and draft values all the problem's column values), then the one right boxed answer.

    >>> verifies(trace(478, 356, "verbose"), "add", 478, 356), verifies(trace(47, 35, "draft"), "add", 47, 36)
    (True, False)
    >>> verifies(trace(478, 356, "verbose").replace("8+6+0=14", "8+6+0=15"), "add", 478, 356)
    False
    """
    if not completion.startswith("<think>\n") or "</think>" not in completion:
        return False
    boxed = _BOXED.findall(completion)
    if len(boxed) != 1 or int(boxed[0]) != result(a, b, op):
        return False
    think = completion[: completion.index("</think>")]
    lines_hold = all(_line_holds(line) for line in _COLUMN_LINE.finditer(think))
    return lines_hold and all(_draft_holds(d[1], op, a, b) for d in _DRAFT_LINE.finditer(think))


def corrupt(completion: str, rng: random.Random) -> str:
    """``completion`` with one result made wrong in its last digit: a column line's or a draft value's,
    picked by ``rng``; the boxed answer's when the ``<think>`` block has neither (a direct trace).

    >>> corrupt(trace(47, 38, "concise"), random.Random(0)) != trace(47, 38, "concise")
    True
    """
    think = completion[: completion.index("</think>")]
    spots = [line.span(3) for line in _COLUMN_LINE.finditer(think)]
    for draft in _DRAFT_LINE.finditer(think):
        start = draft.start(1)
        spots += [(start + v.start(), start + v.end()) for v in re.finditer(r"-?\d+", draft[1])]
    if not spots:
        spots = [_BOXED.search(completion).span(1)]
    _, end = spots[rng.randrange(len(spots))]
    digit = (int(completion[end - 1]) + rng.randint(1, 9)) % 10
    return f"{completion[: end - 1]}{digit}{completion[end:]}"


def _problem_rng(seed: int, row_id: str, what: str = "revthink") -> random.Random:
    return random.Random(f"{what}-{seed}-{row_id}")  # str seeds are hashed deterministically


def problem_rows(row: dict, objectives: Sequence[str], noise: float, seed: int) -> tuple[list[dict], bool]:
    """The RevThink rows of one arith SFT row (one per objective, in :data:`OBJECTIVES` order) and whether
    its forward and backward traces both verify (draws from the problem's own rng: the backward question,
    its trace's re-checks, the forward then the backward corruption)."""
    (op, a, b), style = questions(row["prompt"])[0], row["style"]
    rng = _problem_rng(seed, row["id"])
    back = backward_problem(op, a, b, rng)
    forward = row["completion"]
    backward = trace(back[1], back[2], style, rechecks=rng.randint(1, 3), op=back[0])
    if rng.random() < noise:
        forward = corrupt(forward, rng)
    if rng.random() < noise:
        backward = corrupt(backward, rng)
    consistent = verifies(forward, op, a, b) and verifies(backward, *back)
    back_question = prompt_text(back[1], back[2], back[0])
    made = {
        "forward": (op, row["prompt"], row["answer"], forward, style),
        "question": (op, row["prompt"] + QUESTION_CUE, back_question.strip(), back_question.strip(), None),
        "backward": (back[0], back_question, str(result(back[1], back[2], back[0])), backward, style),
    }
    keys = ("op", "prompt", "answer", "completion", "style")
    rows = [{"id": f"{row['id']}-{name}", "problem": row["id"], "objective": name, "level": row["level"]}
            | dict(zip(keys, made[name], strict=True)) for name in OBJECTIVES if name in objectives]
    return rows, consistent


def avoid_facts(rows: Sequence[dict], taken: set[Problem], seed: int) -> tuple[list[dict], int]:
    """``rows`` with each problem whose fact is in ``taken`` redrawn at its level and op (a new trace, in
    the row's style, for an SFT row), and how many were; a RevThinkError when a level has no fact left."""
    out, redrawn = [], 0
    for row in rows:
        op, a, b = questions(row["prompt"])[0]
        if fact(op, a, b) not in taken:
            out.append(row)
            continue
        rng, redrawn = _problem_rng(seed, row["id"], "revthink-redraw"), redrawn + 1
        for _ in range(MAX_DRAWS):
            a, b = make_problem(row["level"], rng, op)
            if fact(op, a, b) not in taken:
                break
        else:
            raise RevThinkError(
                f"data.revthink: no level-{row['level']} {op} problem outside the eval split's facts in "
                f"{MAX_DRAWS} draws (level 1 has only 55 addition facts, and the eval split and its backward "
                "questions must not reach training); lower data.eval_per_level or leave level 1 out of "
                "data.levels"
            )
        new = row | {"prompt": prompt_text(a, b, op), "answer": str(result(a, b, op))}
        if "completion" in row:
            new["completion"] = trace(a, b, row["style"], rechecks=rng.randint(1, 3), op=op)
        out.append(new)
    return out, redrawn


def backward_eval_rows(rows: Iterable[dict], seed: int) -> list[dict]:
    """The eval problems' backward questions, as eval rows (``id``: ``<eval id>-backward``; ``op`` always)."""
    out = []
    for row in rows:
        op, a, b = questions(row["prompt"])[0]
        back = backward_problem(op, a, b, _problem_rng(seed, row["id"]))
        answer = str(result(back[1], back[2], back[0]))
        out.append({"id": f"{row['id']}-backward", "problem": row["id"], "level": row["level"],
                    "prompt": prompt_text(back[1], back[2], back[0]), "answer": answer, "op": back[0]})
    return out


def _facts(row: dict) -> set[Problem]:
    return {fact(*q) for q in questions(row["prompt"] + row.get("completion", ""))}


def check_no_eval_leak(splits: Mapping[str, Sequence[dict]]) -> None:
    """Raise RevThinkError when a question in an SFT or GRPO row (prompt or completion: problems and
    backward questions) states the fact of an eval or backward eval problem."""
    held_out = {f for name in ("eval", "eval_backward") for row in splits.get(name, ()) for f in _facts(row)}
    leaks = [row["id"] for name in ("sft", "grpo") for row in splits.get(name, ()) if _facts(row) & held_out]
    if leaks:
        raise RevThinkError(
            f"data.revthink: {len(leaks)} training rows ask an eval problem's fact, forward or backward "
            f"(first: {leaks[:5]}); the held-out eval would be trained on"
        )


def revthink_splits(splits: Mapping[str, list[dict]], revthink: Any, seed: int) -> tuple[dict, dict]:
    """The arith splits with RevThink SFT rows (``revthink``: the recipe's ``data.revthink``), GRPO problems
    off the eval facts and an ``eval_backward`` split; and the summary the data stage records
    (``problems``, ``kept``, ``kept_fraction``, ``rows_by_objective``, ``redrawn``)."""
    taken = {fact(*questions(row["prompt"])[0]) for row in splits["eval"]}
    sft, sft_redrawn = avoid_facts(splits["sft"], taken, seed)
    grpo, grpo_redrawn = avoid_facts(splits["grpo"], taken, seed)
    rows, kept = [], 0
    for row in sft:
        made, consistent = problem_rows(row, revthink.objectives, revthink.noise, seed)
        if consistent or not revthink.filter:
            rows += made
            kept += 1
    if not rows:
        raise RevThinkError(f"data.revthink kept none of the {len(sft)} SFT problems (noise "
                            f"{revthink.noise}, filter on); lower data.revthink.noise")
    backward_eval = backward_eval_rows(splits["eval"], seed)
    out = dict(splits) | {"sft": rows, "grpo": grpo, "eval_backward": backward_eval}
    check_no_eval_leak(out)
    by_objective = Counter(row["objective"] for row in rows)
    rows_by_objective = {name: by_objective[name] for name in OBJECTIVES if name in revthink.objectives}
    return out, {"problems": len(sft), "kept": kept, "kept_fraction": round(kept / len(sft), 4),
                 "rows_by_objective": rows_by_objective, "redrawn": sft_redrawn + grpo_redrawn}
