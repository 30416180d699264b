"""Tasks: the recipe's ``data.task`` name -> how its splits are made, what is checked before any training,
and the trace styles the eval's oracle can force (a task without any has no oracle)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from rl_reasoner.data.arith import build_splits, designed_styles, forced_opening, trace_style, used_styles
from rl_reasoner.data.hub import build_hub_splits, check_hub_source

Splits = dict[str, list[dict]]  # "sft", "grpo", "eval" -> rows (id, level, prompt, answer[, completion])


@dataclass(frozen=True)
class Task:
    splits: Callable[[Any], Splits]
    """The recipe's splits (deterministic in ``recipe.seed``)."""
    check: Callable[[Any], None] = lambda recipe: None
    """Raises ValueError for what can be known wrong before the data stage runs."""
    forced_styles: Callable[[Any], Mapping[str, Callable[[dict], str]]] = lambda recipe: {}
    """The oracle's candidates for the recipe: trace style -> a function giving, for an eval row, the opening
    that forces that style (appended to its prompt; it may depend on the row, e.g. on its operation)."""
    designed: Callable[[Any], dict[str, str]] = lambda recipe: {}
    """Level -> the style the task is built to make the shortest reliable one; the data stage records it
    and the eval stage checks the oracle against it (``{}``: nothing designed, nothing checked)."""
    style_of: Callable[[dict, str], str | None] = lambda row, completion: None
    """The trace style a completion of a row is written in (a teacher's SFT traces get it as ``style``);
    None: the task cannot tell."""


def _arith_splits(recipe: Any) -> Splits:
    d = recipe.data
    sizes = (d.train_size, d.grpo_size, d.eval_per_level)
    return build_splits(d.levels, *sizes, d.style_mix, recipe.seed, d.style_by_level, d.ops, d.val_per_level,
                        d.teacher_slip, d.size_line)


def _arith_forced(recipe: Any) -> dict[str, Callable[[dict], str]]:
    d = recipe.data
    styles = used_styles(d.levels, d.style_mix, d.style_by_level)  # the ones its SFT model saw
    return {style: partial(forced_opening, style) for style in styles}


def _hub_splits(recipe: Any) -> Splits:
    d = recipe.data
    return build_hub_splits(d.hub, d.train_size, d.grpo_size, d.eval_per_level, recipe.seed)


TASKS: dict[str, Task] = {
    "arith": Task(
        _arith_splits,
        forced_styles=_arith_forced,
        designed=lambda recipe: designed_styles(recipe.data.levels),
        style_of=trace_style,
    ),
    "hub": Task(_hub_splits, check=lambda recipe: check_hub_source(recipe.data.hub)),
}


def task_of(recipe: Any) -> Task:
    """The recipe's task; a ValueError lists the valid names."""
    if recipe.data.task not in TASKS:
        raise ValueError(f"unknown data.task {recipe.data.task!r}; valid tasks: {list(TASKS)}")
    return TASKS[recipe.data.task]
