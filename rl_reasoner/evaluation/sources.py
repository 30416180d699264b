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

RECIPE_PREFIX = "recipe:"
_ARITH_PROMPT = re.compile(r"(\d+)\+(\d+)=\?\n")


class DataError(ValueError):
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
        if path.is_file() and path.suffix == ".jsonl":
            from rl_reasoner.stages.common import read_jsonl

            raw, where = read_jsonl(path), str(path)
        elif path.is_file() and path.suffix == ".parquet":
            import pyarrow.parquet as pq

            raw, where = pq.read_table(path).to_pylist(), str(path)
        elif path.exists():
            raise DataError(f"eval data {source}: unsupported file type; use .jsonl, .parquet or recipe:PATH")
        elif (
            source.startswith((".", "/", "~"))
            or source.count("/") > 1
            or path.suffix in (".jsonl", ".parquet")
        ):
            raise DataError(f"eval data {source}: no such file")
        else:
            raw, where = _hub_rows(spec), f"hub dataset {source!r} (split {spec.split!r})"
    if not raw:
        raise DataError(f"eval data {where} has no rows")
    return _map_columns(raw[: spec.limit] if spec.limit else raw, spec, where)


def _recipe_rows(path: str) -> list[dict]:
    from rl_reasoner.data.arith import build_splits
    from rl_reasoner.recipe import RecipeError, load_recipe

    try:
        recipe = load_recipe(path, [])
    except RecipeError as exc:
        raise DataError(f"eval data recipe:{path}: {exc}") from None
    data = recipe.data
    if data.task == "hub":  # the rows the pipeline's data stage would hold out (data/hub.py)
        from rl_reasoner.data.hub import build_hub_splits

        try:
            return build_hub_splits(
                data.hub, data.train_size, data.grpo_size, data.eval_per_level, recipe.seed
            )["eval"]
        except ValueError as exc:
            raise DataError(f"eval data recipe:{path}: {exc}") from None
    splits = build_splits(
        data.levels, data.train_size, data.grpo_size, data.eval_per_level, data.style_mix, recipe.seed
    )
    return splits["eval"]


def _hub_rows(spec: DataSpec) -> list[dict]:
    from rl_reasoner.model_ref import hub_offline

    try:
        from datasets import load_dataset

        dataset = load_dataset(spec.source, spec.config, split=spec.split)
    except Exception as exc:  # any failure means the id cannot be used here: say which id and why
        first = str(exc).splitlines()[0] if str(exc) else "no detail"
        offline = " while the Hub is offline (HF_HUB_OFFLINE is set)" if hub_offline() else ""
        raise DataError(
            f"eval data {spec.source!r} is not a local file and cannot be loaded as a hub dataset{offline} "
            f"({type(exc).__name__}: {first}); pass a .jsonl/.parquet file or recipe:PATH instead"
        ) from None
    return dataset.to_list()


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
