"""Synthetic multi-digit addition with difficulty levels and a programmatic teacher.

Level ``d`` adds two ``d``-digit numbers. Easy items (1 digit) can be answered directly; hard items
need the per-digit carry steps a small model cannot do "in its head". The teacher writes three trace
styles in the R1 format (``<think>…</think>`` then ``\\boxed{…}``):

* ``direct``  – empty thinking, just the answer;
* ``concise`` – the operands restated once, then one line per digit column (``a+b=sum``): the carries
  are left to be done in the head while writing the answer (a shortcut that gets harder as carries
  chain over more columns);
* ``verbose`` – one line per digit with its carry written out (``a+b+carry=sum``), then 1–3 re-check
  passes over them (the explicit, partly redundant reasoning a long-CoT teacher shows).

Each style opens with a fixed prefix (:data:`STYLE_PREFIX`), so a model can be *forced* into a style
by appending that prefix to the prompt: that is how the eval stage finds the oracle.

The task is built so that the shortest *reliable* style differs by level (:func:`designed_styles`):
direct at level 1 (100 sums a model memorises), verbose from level 2 on (composing the column sums into
the answer in the head fails once carries cross columns). Measured on an SFT checkpoint of the demo
recipe forced into each style (fa17bb0, seed 0, 300 problems per level): direct 100 / 2 / 0 %, concise
100 / 75 / 47 %, verbose 100 / 100 / 100 % at levels 1 / 2 / 3. (When concise still wrote the carries,
verbose only repeated its lines and was never the only reliable style on any seed.)
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

STYLES = ("direct", "concise", "verbose")
STYLE_PREFIX = {"direct": "<think>\n</think>", "concise": "<think>\nAdd", "verbose": "<think>\nLet me"}


def designed_styles(levels: Sequence[int]) -> dict[str, str]:
    """Per level, the style the task is built to make the shortest reliable one (the eval checks it)."""
    return {str(level): "direct" if level == 1 else "verbose" for level in levels}


def make_problem(level: int, rng: random.Random) -> tuple[int, int]:
    """Two operands with exactly ``level`` digits each (level 1 allows 0)."""
    low = 0 if level == 1 else 10 ** (level - 1)
    high = 10**level - 1
    return rng.randint(low, high), rng.randint(low, high)


def prompt_text(a: int, b: int) -> str:
    return f"{a}+{b}=?\n"


def digit_steps(a: int, b: int) -> list[tuple[int, int, int, int]]:
    """Per-digit column sums from the right: (digit of a, digit of b, carry in, column sum)."""
    da, db = str(a)[::-1], str(b)[::-1]
    steps, carry = [], 0
    for i in range(max(len(da), len(db))):
        x = int(da[i]) if i < len(da) else 0
        y = int(db[i]) if i < len(db) else 0
        total = x + y + carry
        steps.append((x, y, carry, total))
        carry = total // 10
    return steps


def _answer_block(answer: int) -> str:
    return f"</think>\n\\boxed{{{answer}}}"


def trace(a: int, b: int, style: str, rechecks: int = 1) -> str:
    """The teacher's completion for ``a+b`` in one of :data:`STYLES`."""
    answer = a + b
    steps = digit_steps(a, b)
    if style == "direct":
        return f"{STYLE_PREFIX['direct']}\n\\boxed{{{answer}}}"
    if style == "concise":
        lines = [f"{x}+{y}={x + y}" for x, y, _, _ in steps]
        return "\n".join([f"{STYLE_PREFIX['concise']} {a}+{b}:", *lines, _answer_block(answer)])
    if style == "verbose":
        lines = [f"{STYLE_PREFIX['verbose']} add {a} and {b}."]
        for x, y, c, total in steps:
            lines.append(f"{x}+{y}+{c}={total}")
        for _ in range(rechecks):
            lines.append("Check:")
            lines += [f"{x}+{y}+{c}={total}" for x, y, c, total in steps]
        lines.append(f"So the sum is {answer}.")
        lines.append(_answer_block(answer))
        return "\n".join(lines)
    raise ValueError(f"unknown trace style {style!r}; expected one of {STYLES}")


def _normalised_mix(style_mix: Mapping[str, float]) -> tuple[list[str], list[float]]:
    unknown = sorted(set(style_mix) - set(STYLES))
    if unknown or not style_mix or sum(style_mix.values()) <= 0:
        raise ValueError(f"style_mix {dict(style_mix)} must give positive weights to styles among {STYLES}")
    names = list(style_mix)
    return names, [style_mix[n] for n in names]


def _rows(
    levels: Sequence[int], n: int, rng: random.Random, exclude: set[tuple[int, int]]
) -> Iterator[tuple[int, int, int]]:
    """``n`` problems spread evenly over ``levels``; pairs in ``exclude`` are skipped where the level
    has enough distinct pairs (level 1 has only 100, so it may repeat)."""
    for i in range(n):
        level = levels[i % len(levels)]
        for _ in range(100):
            a, b = make_problem(level, rng)
            if (a, b) not in exclude or level == 1:
                break
        yield level, a, b


def build_splits(
    levels: Sequence[int],
    train_size: int,
    grpo_size: int,
    eval_per_level: int,
    style_mix: Mapping[str, float],
    seed: int,
    style_by_level: Mapping[int, Mapping[str, float]] | None = None,
) -> dict[str, list[dict]]:
    """Held-out eval split first, then SFT and GRPO splits that avoid the eval problems.

    SFT styles are drawn from ``style_by_level[level]`` where given, else from ``style_mix``.
    Rows: ``id, level, prompt, answer`` plus ``completion, style`` for SFT rows.
    """
    rng = random.Random(seed)
    mixes = {level: _normalised_mix((style_by_level or {}).get(level, style_mix)) for level in levels}
    splits: dict[str, list[dict]] = {"eval": [], "sft": [], "grpo": []}
    held_out: set[tuple[int, int]] = set()
    for level, a, b in _rows(levels, eval_per_level * len(levels), rng, set()):
        held_out.add((a, b))
        splits["eval"].append(_row(f"eval-{len(splits['eval'])}", level, a, b))
    for level, a, b in _rows(levels, train_size, rng, held_out):
        style = rng.choices(*mixes[level])[0]
        row = _row(f"sft-{len(splits['sft'])}", level, a, b)
        row.update(style=style, completion=trace(a, b, style, rechecks=rng.randint(1, 3)))
        splits["sft"].append(row)
    for level, a, b in _rows(levels, grpo_size, rng, held_out):
        splits["grpo"].append(_row(f"grpo-{len(splits['grpo'])}", level, a, b))
    return splits


def _row(row_id: str, level: int, a: int, b: int) -> dict:
    return {"id": row_id, "level": level, "prompt": prompt_text(a, b), "answer": str(a + b)}


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
