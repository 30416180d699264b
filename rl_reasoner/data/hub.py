"""``data.task: hub``: question/answer rows from a dataset instead of the synthetic task.

The source is a ``datasets.load_dataset`` id (e.g. ``open-r1/OpenR1-Math-220k``) or a local
.jsonl/.json/.parquet/.csv file, read through the same ``load_dataset`` call (the local file with the
``json``/``parquet``/``csv`` builder). Rows become the pipeline's splits with the arith task's columns
(``id, level, prompt, answer`` and ``completion`` for SFT rows), so every later stage is unchanged.
The eval rows come from ``eval_dataset`` or, without one, are held out of ``split`` first (after a seeded
shuffle, ``eval_per_level`` per level); GRPO prompts and then SFT rows are taken from the rest, disjoint.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rl_reasoner.data.tables import is_table_file, load_table

# The R1-Zero prompt (DeepSeek-R1 paper, table 1); ``{question}`` is replaced by the dataset's question.
R1_ZERO_TEMPLATE = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with "
    "the answer. The final answer is in \\boxed{}.\nUser: {question}\nAssistant: <think>"
)


def check_hub_source(hub) -> None:
    """What can be checked without downloading: the local files named exist."""
    for source in filter(None, (hub.dataset, hub.eval_dataset)):
        if is_table_file(source) and not Path(source).expanduser().is_file():
            raise ValueError(f"data.hub: no such file {source!r}")


def _text(value: Any) -> str | None:
    """A cell as text: lists (e.g. several generations per problem) give their first item."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _rows(table, hub, prefix: str, need_level: bool) -> list[dict]:
    """Mapped rows of ``table`` in its order; rows without a question or an answer are dropped. The level
    column is required where ``need_level`` (eval rows), else read when the table has it."""
    wanted = [hub.question_column, hub.answer_column, hub.completion_column if prefix == "train" else None]
    level = hub.level_column if hub.level_column in table.column_names or need_level else None
    needed = [c for c in (*wanted, level) if c is not None]
    missing = [c for c in needed if c not in table.column_names]
    if missing:
        raise ValueError(
            f"data.hub: the {prefix} rows have no column(s) {missing}; their columns are "
            f"{table.column_names} (map them with data.hub.question_column/answer_column/"
            "completion_column/level_column)"
        )
    rows = []
    for i, raw in enumerate(table.select_columns(sorted(set(needed)))):
        question, answer = _text(raw[hub.question_column]), _text(raw[hub.answer_column])
        if question is None or answer is None:
            continue
        row = {
            "id": f"{prefix}-{i}",
            "level": raw[level] if level else 1,
            "prompt": hub.prompt_template.replace("{question}", question),
            "answer": answer,
        }
        if hub.completion_column and prefix == "train":
            row["completion"] = _text(raw[hub.completion_column])
        rows.append(row)
    return rows


def _take_eval(rows: Sequence[dict], per_level: int) -> tuple[list[dict], list[dict]]:
    """The first ``per_level`` rows of each level, and the rest."""
    counts: dict[Any, int] = {}
    taken, rest = [], []
    for row in rows:
        if counts.get(row["level"], 0) < per_level:
            counts[row["level"]] = counts.get(row["level"], 0) + 1
            taken.append(row)
        else:
            rest.append(row)
    return taken, rest


def build_hub_splits(hub, train_size: int, grpo_size: int, eval_per_level: int, seed: int) -> dict:
    """``{"sft", "grpo", "eval"}`` rows from ``hub`` (a ``HubDataSection``); SFT rows only with a
    ``completion_column``. Raises ValueError before writing anything when a split would be empty."""
    table = load_table(hub.dataset, hub.config, hub.split, what="data.hub.dataset")
    rows = _rows(table, hub, "train", need_level=not hub.eval_dataset)
    random.Random(seed).shuffle(rows)
    if hub.eval_dataset:
        eval_table = load_table(
            hub.eval_dataset, hub.eval_config, hub.eval_split, what="data.hub.eval_dataset"
        )
        eval_rows, _ = _take_eval(_rows(eval_table, hub, "eval", need_level=True), eval_per_level)
    else:
        eval_rows, rows = _take_eval(rows, eval_per_level)
        for row in eval_rows:
            row["id"] = row["id"].replace("train-", "eval-")
            row.pop("completion", None)
    grpo = [{k: v for k, v in row.items() if k != "completion"} for row in rows[:grpo_size]]
    sft = [r for r in rows[grpo_size:] if r.get("completion")][:train_size] if hub.completion_column else []
    if not grpo or not eval_rows:
        raise ValueError(
            f"data.hub.dataset {hub.dataset!r} gave {len(grpo)} GRPO and {len(eval_rows)} eval rows "
            "(rows need a question and an answer); check the split and the column mapping"
        )
    return {"sft": sft, "grpo": grpo, "eval": eval_rows}
