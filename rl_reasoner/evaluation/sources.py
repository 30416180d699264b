"""Eval data as rows ``{"id", "prompt", "answer", "level"}``, and the arith robustness perturbation.

Sources: ``recipe:PATH`` (the recipe's held-out split, regenerated deterministically from its seed), a
local ``.jsonl``/``.parquet`` file, or a hub dataset id. Columns are mapped with ``question_column`` /
``answer_column`` (and ``level_column`` when present); a missing column is an error that lists the
columns the data has. A gold answer written as a GSM8K solution (``… #### 72``) is cut to its answer.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rl_reasoner.data.arith import make_problem, prompt_text
from rl_reasoner.data.tables import is_table_file, load_table
from rl_reasoner.errors import UsageError

RECIPE_PREFIX = "recipe:"
_ARITH_PROMPT = re.compile(r"(\d+)\+(\d+)=\?\n")


class DataError(UsageError):
    """The eval data cannot be loaded or lacks a needed column; the message says which and what exists."""


@dataclass(frozen=True)
class DataSpec:
    source: str
    question_column: str = "prompt"
    answer_column: str = "answer"
    level_column: str = "level"
    split: str = "test"  # hub datasets only
    config: str | None = None  # hub dataset configuration (e.g. "main" for gsm8k)
    limit: int | None = None  # the first N rows only


def load_rows(spec: DataSpec) -> list[dict]:
    """The eval rows ``spec`` names, columns mapped; :class:`DataError` before anything is generated."""
    source = spec.source
    if source.startswith(RECIPE_PREFIX):
        raw, where = _recipe_rows(source.removeprefix(RECIPE_PREFIX)), source
    else:
        path = Path(source).expanduser()
        if path.is_file() and is_table_file(source):
            raw, where = _table_rows(spec), str(path)
        elif path.exists():
            raise DataError(f"eval data {source}: unsupported file type; use .jsonl, .parquet or recipe:PATH")
        elif source.startswith((".", "/", "~")) or source.count("/") > 1 or is_table_file(source):
            raise DataError(f"eval data {source}: no such file")
        else:
            raw, where = _table_rows(spec), f"hub dataset {source!r} (split {spec.split!r})"
    if not raw:
        raise DataError(f"eval data {where} has no rows")
    return _map_columns(raw[: spec.limit] if spec.limit else raw, spec, where)


def _recipe_rows(path: str) -> list[dict]:
    """The rows the pipeline's data stage holds out for eval, rebuilt from the recipe (its task's splits)."""
    from rl_reasoner.data.tasks import task_of
    from rl_reasoner.recipe import RecipeError, load_recipe

    try:
        recipe = load_recipe(path, [])
        return task_of(recipe).splits(recipe)["eval"]
    except (RecipeError, ValueError) as exc:
        raise DataError(f"eval data recipe:{path}: {exc}") from None


def _table_rows(spec: DataSpec) -> list[dict]:
    from rl_reasoner.model_ref import hub_offline

    try:
        return load_table(spec.source, spec.config, spec.split, what="eval data").to_list()
    except ValueError as exc:
        if is_table_file(spec.source):
            raise DataError(str(exc)) from None
        offline = " while the Hub is offline (HF_HUB_OFFLINE is set)" if hub_offline() else ""
        raise DataError(
            f"eval data {spec.source!r} is not a local file and cannot be loaded as a hub dataset{offline} "
            f"({exc}); pass a .jsonl/.parquet file or recipe:PATH instead"
        ) from None


def _map_columns(raw: Sequence[dict], spec: DataSpec, where: str) -> list[dict]:
    columns = list(raw[0])
    missing = [c for c in (spec.question_column, spec.answer_column) if c not in columns]
    if missing:
        raise DataError(
            f"eval data {where} has no column(s) {missing}; its columns are {columns}. "
            f"Map them with --question-column / --answer-column."
        )
    ids = [str(r["id"]) for r in raw] if "id" in columns else []
    if len(set(ids)) != len(raw):
        ids = [f"row-{i}" for i in range(len(raw))]
    return [
        {
            "id": row_id,
            "prompt": str(row[spec.question_column]),
            "answer": _gold(str(row[spec.answer_column])),
            "level": row.get(spec.level_column),
        }
        for row_id, row in zip(ids, raw, strict=True)
    ]


def _gold(answer: str) -> str:
    """A GSM8K-style solution (``reasoning … #### 72``) is reduced to its final answer."""
    return answer.rsplit("####", 1)[1].strip() if "####" in answer else answer


def perturb_rows(rows: Sequence[dict], seed: int) -> list[dict]:
    """The arith problems with fresh numbers of the same level (seeded per row; differs from the
    original where the level allows), the GSM-Symbolic robustness probe."""
    out = []
    for i, row in enumerate(rows):
        match = _ARITH_PROMPT.fullmatch(row["prompt"])
        if not match or not isinstance(row.get("level"), int):
            raise DataError(
                f"--perturb re-samples arith problems (prompts like '12+34=?\\n' with an integer level); "
                f"row {i} ({row['id']}) is {row['prompt']!r} with level {row.get('level')!r}"
            )
        rng = random.Random(f"perturb-{seed}-{row['id']}")
        original = (int(match[1]), int(match[2]))
        for _ in range(100):
            a, b = make_problem(row["level"], rng)
            if (a, b) != original:
                break
        out.append(
            {
                "id": f"{row['id']}-perturbed",
                "prompt": prompt_text(a, b),
                "answer": str(a + b),
                "level": row["level"],
            }
        )
    return out
