"""Small helpers shared by the training stages: datasets from jsonl, checkpoints, device flags."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def read_jsonl(path: Path) -> list[dict]:
    with Path(path).open() as f:
        return [json.loads(line) for line in f if line.strip()]


def load_jsonl_dataset(path: Path, columns: Sequence[str]):
    """A ``datasets.Dataset`` from a jsonl file; a clear error when a needed column is missing."""
    from datasets import Dataset

    rows = read_jsonl(path)
    if not rows:
        raise ValueError(f"dataset {path} is empty; expected rows with columns {list(columns)}")
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise ValueError(
            f"dataset {path} lacks column(s) {missing}; it has {sorted(rows[0])}, expected {list(columns)}"
        )
    return Dataset.from_list(rows)


def last_checkpoint(out_dir: Path) -> str | None:
    """Path of the newest ``checkpoint-N`` under ``out_dir`` (an interrupted run resumes from it)."""
    checkpoints = [p for p in Path(out_dir).glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    if not checkpoints:
        return None
    return str(max(checkpoints, key=lambda p: int(p.name.split("-")[-1])))


def trainer_device_args(user_args: Mapping[str, Any]) -> dict[str, Any]:
    """``use_cpu`` and fp32 without CUDA (TRL configs default to bf16), unless the user set ``use_cpu``."""
    import torch

    if torch.cuda.is_available() or "use_cpu" in user_args:
        return {}
    return {"use_cpu": True, "bf16": False}


def finish_reporting(report_to: str) -> None:
    """Close this stage's wandb run so the next stage (SFT, GRPO, each baseline) gets its own run."""
    if "wandb" in report_to:
        import wandb

        wandb.finish()
