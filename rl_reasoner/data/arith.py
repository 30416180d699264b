"""Synthetic multi-digit addition (and subtraction) with difficulty levels and a programmatic teacher.

Level ``d`` adds two ``d``-digit numbers. Easy items (1 digit) can be answered directly; hard items
need the per-digit carry steps a small model cannot do "in its head". The teacher writes four trace
styles in the R1 format (``<think>…</think>`` then ``\\boxed{…}``):

* ``direct``  – empty thinking, just the answer;
* ``draft``   – Chain-of-Draft (Xu et al., 2025: think step by step, but write only a terse draft of each
  step): the column results alone, from the right, carries included and no operand restated
  (``478+356``: ``D: 14,13,8``; its tag is two characters, not ``Draft:``, since the tag is overhead and a
  draft is about its tokens). No default style mix includes it;
* ``concise`` – the operands restated once, then one line per digit column (``a+b=sum``): the carries
  are left to be done in the head while writing the answer (a shortcut that gets harder as carries
  chain over more columns);
* ``verbose`` – one line per digit with its carry written out (``a+b+carry=sum``), then 1–3 re-check
  passes over them (the explicit, partly redundant reasoning a long-CoT teacher shows).

Each style opens with a fixed prefix (:data:`STYLE_PREFIX`), so a model can be *forced* into a style
by appending that prefix to the prompt: that is how the eval stage finds the oracle, among the styles
the SFT data uses (:func:`used_styles`; a style the SFT model never saw would only cost an eval pass).

The task is built so that the shortest *reliable* style differs by level (:func:`designed_styles`):
direct at level 1 (100 sums a model memorises), verbose from level 2 on (composing the column sums into
the answer in the head fails once carries cross columns). Measured on an SFT checkpoint of the demo
recipe forced into each style (fa17bb0, seed 0, 300 problems per level): direct 100 / 2 / 0 %, concise
100 / 75 / 47 %, verbose 100 / 100 / 100 % at levels 1 / 2 / 3. (When concise still wrote the carries,
verbose only repeated its lines and was never the only reliable style on any seed.)

**Subtraction** (``ops: [add, sub]``, :data:`OPS`; the default is addition only): level ``d`` asks
``a-b=?`` with ``a >= b`` both of ``d`` digits, so every sum has its backward question (``478+356=?`` and
``834-478=?``). Its traces mirror the addition ones column by column, with borrows where addition has
carries: concise writes each column as if it borrowed only for itself (``14-8=6``) and leaves the borrow
it passes on to the head; verbose writes the borrow in (``13-7-1=5``); draft writes each column's
``x - y - borrow``, negative where the column borrows (``834-478``: ``D: -4,-5,3``). Concise
subtraction opens differently (``<think>\\nSubtract``): :func:`style_prefix` gives a style's opening for
an operation. Rows name their operation (``op``) only when the recipe's ops are not the default
``["add"]``, so a default run's files are byte-identical to those made before subtraction existed; a row
without ``op`` is an addition (:func:`row_op`). The design and the measurements above are addition's;
subtraction's shortest reliable style per level has not been measured.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

STYLES = ("direct", "draft", "concise", "verbose")  # shortest first
THINK_OPEN = "<think>\n"
STYLE_PREFIX = {
    "direct": "<think>\n</think>",
    "draft": "<think>\nD:",
    "concise": "<think>\nAdd",
    "verbose": "<think>\nLet me",
}
OPS = ("add", "sub")
DEFAULT_OPS = ("add",)
SIGN = {"add": "+", "sub": "-"}
_SIZE_LINE = re.compile(r"\A<think>\n\d+-digit\n")  # a trace's size line (:func:`size_line`)
# Where an operation's opening differs from STYLE_PREFIX (the addition openings, unchanged since the start).
OP_PREFIX = {"add": {}, "sub": {"concise": "<think>\nSubtract"}}


def style_prefix(style: str, op: str = "add", head: str = "") -> str:
    """The opening of ``style`` for operation ``op``: appended to a prompt it forces that style. ``head``:
    what the trace writes first inside ``<think>`` (:func:`size_line`), before the style's first word.

    >>> style_prefix("concise", head=size_line(478, 356))
    '<think>\\n3-digit\\nAdd'
    """
    opening = OP_PREFIX[op].get(style, STYLE_PREFIX[style])
    return f"{THINK_OPEN}{head}{opening.removeprefix(THINK_OPEN)}"


def size_line(a: int, b: int) -> str:
    """``data.size_line``'s first thinking line: the operands' size in digits, the problem's level."""
    return f"{len(str(max(a, b)))}-digit\n"


def row_op(row: dict) -> str:
    """A row's operation: its ``op`` field, ``add`` when it has none (the default ops write none)."""
    return row.get("op") or "add"


def forced_opening(style: str, row: dict) -> str:
    """What the eval appends to ``row``'s prompt to force ``style``: that style's opening for its op (after
    the row's ``head``, its size line, where it has one)."""
    return style_prefix(style, row_op(row), row.get("head", ""))


def trace_style(row: dict, completion: str) -> str | None:
    """The style a completion of ``row`` is written in, read off its opening (past a size line, whether
    or not the row has one); None when it opens no style.

    >>> trace_style({}, trace(1, 3, "verbose")), trace_style({"op": "sub"}, trace(9, 3, "concise", op="sub"))
    ('verbose', 'concise')
    >>> trace_style({}, trace(47, 38, "concise", head=size_line(47, 38))), trace_style({}, "15") is None
    ('concise', True)
    """
    completion = _SIZE_LINE.sub(THINK_OPEN, completion, count=1)
    return next((s for s in STYLES if completion.startswith(style_prefix(s, row_op(row)))), None)


def used_styles(
    levels: Sequence[int], style_mix: Mapping[str, float], style_by_level: Mapping[int, Mapping[str, float]]
) -> list[str]:
    """The styles the SFT split draws with a positive weight at some generated level, in :data:`STYLES`
    order (the mix of a level is ``style_by_level[level]`` where given, else ``style_mix``)."""
    mixes = [style_by_level.get(level, style_mix) for level in levels]
    return [style for style in STYLES if any(mix.get(style, 0) > 0 for mix in mixes)]


def designed_styles(levels: Sequence[int]) -> dict[str, str]:
    """Per level, the style the task is built to make the shortest reliable one (the eval checks it)."""
    return {str(level): "direct" if level == 1 else "verbose" for level in levels}


def make_problem(level: int, rng: random.Random, op: str = "add") -> tuple[int, int]:
    """Two operands with exactly ``level`` digits each (level 1 allows 0); for ``sub`` the larger first,
    so the difference is >= 0. Both operations draw the same two numbers from ``rng``."""
    low = 0 if level == 1 else 10 ** (level - 1)
    high = 10**level - 1
    a, b = rng.randint(low, high), rng.randint(low, high)
    return (max(a, b), min(a, b)) if op == "sub" else (a, b)


def prompt_text(a: int, b: int, op: str = "add") -> str:
    return f"{a}{SIGN[op]}{b}=?\n"


def result(a: int, b: int, op: str = "add") -> int:
    """The gold answer of ``a <op> b``."""
    return a + b if op == "add" else a - b


def digit_steps(a: int, b: int, slip: bool = False) -> list[tuple[int, int, int, int]]:
    """Per-digit column sums from the right: (digit of a, digit of b, carry in, column sum). ``slip``: the
    flawed teacher's (:func:`slipped_sum`): a column summing to exactly 10 passes no carry on."""
    da, db = str(a)[::-1], str(b)[::-1]
    steps, carry = [], 0
    for i in range(max(len(da), len(db))):
        x = int(da[i]) if i < len(da) else 0
        y = int(db[i]) if i < len(db) else 0
        total = x + y + carry
        steps.append((x, y, carry, total))
        carry = 0 if slip and total == 10 else total // 10
    return steps


def slipped_sum(a: int, b: int) -> int:
    """The flawed teacher's ``a+b`` (``data.teacher_slip``): the carry out of a column that sums to exactly
    10 is dropped, one systematic slip; equal to ``a+b`` where no column sums to 10.

    >>> slipped_sum(478, 356), slipped_sum(955, 45), slipped_sum(37, 73)
    (834, 990, 0)
    """
    steps = digit_steps(a, b, slip=True)
    last = steps[-1][3]
    head = 0 if last == 10 else last // 10
    return sum(t % 10 * 10**i for i, (*_, t) in enumerate(steps)) + head * 10 ** len(steps)


def borrow_steps(a: int, b: int) -> list[tuple[int, int, int, int]]:
    """Per-digit column differences from the right for ``a >= b``: (digit of a, digit of b, borrow in,
    ``x - y - borrow``); a negative value means the column borrows 10 (its digit is the value + 10)."""
    da, db = str(a)[::-1], str(b)[::-1]
    steps, borrow = [], 0
    for i in range(len(da)):
        x = int(da[i])
        y = int(db[i]) if i < len(db) else 0
        value = x - y - borrow
        steps.append((x, y, borrow, value))
        borrow = int(value < 0)
    return steps


def _column_lines(a: int, b: int, op: str, slip: bool = False) -> tuple[list[str], list[str], list[str]]:
    """Concise lines, verbose lines and draft results of each column, from the right."""
    if op == "add":
        steps = digit_steps(a, b, slip)
        concise = [f"{x}+{y}={x + y}" for x, y, _, _ in steps]
        return concise, [f"{x}+{y}+{c}={t}" for x, y, c, t in steps], [str(t) for *_, t in steps]
    concise, verbose, draft = [], [], []
    for x, y, borrow, value in borrow_steps(a, b):
        own = x + 10 * (x < y)  # concise: borrows for itself only, the borrow in is left to the head
        concise.append(f"{own}-{y}={own - y}")
        top = x + 10 * (value < 0)
        verbose.append(f"{top}-{y}-{borrow}={top - y - borrow}")
        draft.append(str(value))
    return concise, verbose, draft


def _answer_block(answer: int) -> str:
    return f"</think>\n\\boxed{{{answer}}}"


def trace(
    a: int, b: int, style: str, rechecks: int = 1, op: str = "add", slip: bool = False, head: str = ""
) -> str:
    """The teacher's completion for ``a+b`` (``a-b`` for ``op="sub"``) in one of :data:`STYLES`; ``slip``
    (addition only): the flawed teacher's, whose carries and answer follow :func:`slipped_sum`; ``head``:
    its first thinking line (:func:`size_line`), none by default."""
    if op not in OPS:
        raise ValueError(f"unknown op {op!r}; expected one of {OPS}")
    if style not in STYLES:
        raise ValueError(f"unknown trace style {style!r}; expected one of {STYLES}")
    slip = slip and op == "add"
    answer, opening = slipped_sum(a, b) if slip else result(a, b, op), style_prefix(style, op, head)
    if style == "direct":
        return f"{opening}\n\\boxed{{{answer}}}"
    concise, verbose, draft = _column_lines(a, b, op, slip)
    if style == "draft":
        return "\n".join([f"{opening} {','.join(draft)}", _answer_block(answer)])
    if style == "concise":
        return "\n".join([f"{opening} {a}{SIGN[op]}{b}:", *concise, _answer_block(answer)])
    task = f"add {a} and {b}" if op == "add" else f"subtract {b} from {a}"
    lines = [f"{opening} {task}.", *verbose]
    for _ in range(rechecks):
        lines += ["Check:", *verbose]
    lines.append(f"So the {'sum' if op == 'add' else 'difference'} is {answer}.")
    lines.append(_answer_block(answer))
    return "\n".join(lines)


def _normalised_mix(style_mix: Mapping[str, float]) -> tuple[list[str], list[float]]:
    unknown = sorted(set(style_mix) - set(STYLES))
    if unknown or not style_mix or sum(style_mix.values()) <= 0:
        raise ValueError(f"style_mix {dict(style_mix)} must give positive weights to styles among {STYLES}")
    names = list(style_mix)
    return names, [style_mix[n] for n in names]


def _rows(
    levels: Sequence[int], ops: Sequence[str], n: int, rng: random.Random, exclude: set[tuple[str, int, int]]
) -> Iterator[tuple[int, str, int, int]]:
    """``n`` problems spread evenly over ``levels``, and within each level over ``ops`` in turn (no random
    draw: one op draws exactly what addition alone always drew); problems in ``exclude`` are skipped where
    the level has enough distinct pairs (level 1 has only 100 sums and 55 differences, so it may repeat)."""
    for i in range(n):
        level, op = levels[i % len(levels)], ops[i // len(levels) % len(ops)]
        for _ in range(100):
            a, b = make_problem(level, rng, op)
            if (op, a, b) not in exclude or level == 1:
                break
        yield level, op, a, b


def build_splits(
    levels: Sequence[int],
    train_size: int,
    grpo_size: int,
    eval_per_level: int,
    style_mix: Mapping[str, float],
    seed: int,
    style_by_level: Mapping[int, Mapping[str, float]] | None = None,
    ops: Sequence[str] = DEFAULT_OPS,
    val_per_level: int = 0,
    teacher_slip: float = 0.0,
    sized: bool = False,
) -> dict[str, list[dict]]:
    """Held-out eval split first, then SFT and GRPO splits that avoid the eval problems, then (when
    ``val_per_level`` > 0) a ``val`` split that avoids them too: drawn last, it leaves the others unchanged.

    SFT styles are drawn from ``style_by_level[level]`` where given, else from ``style_mix``; each level's
    problems take the ``ops`` in turn. Rows: ``id, level, prompt, answer`` plus ``completion, style`` for
    SFT rows, plus ``op`` when ``ops`` is not the default ``["add"]``. ``teacher_slip``: the share of SFT sums
    with a column summing to exactly 10 whose trace the flawed teacher writes (:func:`slipped_sum`; such
    a row's ``answer`` stays the true sum); at 0 no random draw is made, so the data are the same as without.
    ``sized``: every trace opens with its :func:`size_line` and every row carries it as ``head`` (what the
    eval's forced openings and style reading put after ``<think>``).
    """
    if not ops or len(set(ops)) != len(ops) or not set(ops) <= set(OPS):
        raise ValueError(f"ops {list(ops)} must be distinct operations among {OPS} (at least one)")
    rng = random.Random(seed)
    mixes = {level: _normalised_mix((style_by_level or {}).get(level, style_mix)) for level in levels}
    splits: dict[str, list[dict]] = {"eval": [], "sft": [], "grpo": []}
    with_op = tuple(ops) != DEFAULT_OPS
    held_out: set[tuple[str, int, int]] = set()
    for level, op, a, b in _rows(levels, ops, eval_per_level * len(levels), rng, set()):
        held_out.add((op, a, b))
        splits["eval"].append(_row(f"eval-{len(splits['eval'])}", level, op, a, b, with_op, sized))
    for level, op, a, b in _rows(levels, ops, train_size, rng, held_out):
        style = rng.choices(*mixes[level])[0]
        row = _row(f"sft-{len(splits['sft'])}", level, op, a, b, with_op, sized)
        rechecks = rng.randint(1, 3)
        slip = teacher_slip > 0 and op == "add" and slipped_sum(a, b) != a + b and rng.random() < teacher_slip
        row.update(style=style, completion=trace(a, b, style, rechecks, op, slip, row.get("head", "")))
        splits["sft"].append(row)
    for level, op, a, b in _rows(levels, ops, grpo_size, rng, held_out):
        splits["grpo"].append(_row(f"grpo-{len(splits['grpo'])}", level, op, a, b, with_op, sized))
    if val_per_level:
        drawn = enumerate(_distinct_rows(levels, ops, val_per_level, rng, held_out))
        splits["val"] = [_row(f"val-{i}", level, op, a, b, with_op, sized) for i, (level, op, a, b) in drawn]
    return splits


def _distinct_rows(
    levels: Sequence[int], ops: Sequence[str], per_level: int, rng: random.Random, exclude: set
) -> Iterator[tuple[int, str, int, int]]:
    """``per_level`` distinct problems per level (its ``ops`` in turn), none in ``exclude``; a level with
    fewer than that (level 1: 100 sums, which the eval split holds too) gets every one it has: a problem
    measured twice adds nothing to a validation accuracy.

    >>> rows = list(_distinct_rows([1, 2], ["add"], 150, random.Random(0), set()))
    >>> [sum(1 for r in rows if r[0] == level) for level in (1, 2)], len(set(rows)) == len(rows)
    ([100, 150], True)
    """
    for level in levels:
        seen: set[tuple[str, int, int]] = set()
        for _ in range(20 * per_level):
            if len(seen) == per_level:
                break
            op = ops[len(seen) % len(ops)]
            a, b = make_problem(level, rng, op)
            if (op, a, b) not in seen and ((op, a, b) not in exclude or level == 1):
                seen.add((op, a, b))
                yield level, op, a, b


def _row(row_id: str, level: int, op: str, a: int, b: int, with_op: bool, sized: bool = False) -> dict:
    row = {"id": row_id, "level": level, "prompt": prompt_text(a, b, op), "answer": str(result(a, b, op))}
    return row | ({"op": op} if with_op else {}) | ({"head": size_line(a, b)} if sized else {})


def write_splits(splits: Mapping[str, list[dict]], out_dir: str | Path) -> dict[str, Path]:
    """Write each split as ``<out_dir>/<split>.jsonl``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, rows in splits.items():
        path = out / f"{name}.jsonl"
        with path.open("w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
        paths[name] = path
    return paths
