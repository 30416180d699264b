"""Data stage: the task's splits (jsonl), their SFT traces written by ``data.teacher.model`` when it is set
or made RevThink rows (plus an ``eval_backward`` split) by ``data.revthink.objectives``, fact rows (plus an
``eval_facts`` split) by ``data.facts.keys``, and, for
``model.base: tiny``, the tiny base model."""

from __future__ import annotations

from pathlib import Path

from rl_reasoner.data.arith import write_splits
from rl_reasoner.data.facts import facts_splits
from rl_reasoner.data.revthink import revthink_splits
from rl_reasoner.data.tasks import task_of
from rl_reasoner.data.teacher import distil_sft_rows
from rl_reasoner.errors import UsageError
from rl_reasoner.tiny_model import save_tiny_model


def run_data(pipeline, unit: str, out: Path) -> dict:
    recipe = pipeline.recipe
    task = task_of(recipe)
    splits = task.splits(recipe)
    revthink, reversed_ = recipe.data.revthink, {}
    if revthink.objectives is not None:  # forward, backward-question and backward rows of each SFT problem
        splits, reversed_ = revthink_splits(splits, revthink, recipe.seed)
        print(f"[rl-reasoner] data: revthink {revthink.objectives}: {reversed_}")
    if recipe.model.grpo_from == "sft" and not splits["sft"]:
        raise UsageError(
            "the recipe trains SFT first (model.grpo_from: sft) but its data gave no SFT rows: set "
            "data.hub.completion_column, or model.grpo_from: base to start GRPO from the base model"
        )
    teacher, distilled = recipe.data.teacher, {}
    if teacher.model is not None:  # SFT traces sampled from a trained model instead of the task's own
        splits["sft"], distilled = distil_sft_rows(splits["sft"], teacher, recipe.seed, task.style_of, out)
        print(f"[rl-reasoner] data: teacher {teacher.model}: {distilled}")
    facts = {}
    if recipe.data.facts.keys:  # a factual table stated in paraphrased SFT rows, queried in eval_facts
        splits, facts = facts_splits(splits, recipe.data.facts, recipe.seed)
        print(f"[rl-reasoner] data: facts: {facts}")
    write_splits(splits, out)
    if recipe.model.base == "tiny":
        save_tiny_model(out / "tiny-base", recipe.model.tiny, seed=recipe.seed)
    designed = task.designed(recipe)
    if designed:  # what the eval stage will check on this run's SFT checkpoint
        shown = ", ".join(f"level {level}: {style}" for level, style in designed.items())
        print(f"[rl-reasoner] data: shortest reliable style by design: {shown}")
    return (
        {split: len(rows) for split, rows in splits.items()}
        | ({"designed_styles": designed} if designed else {})
        | ({"teacher": distilled} if distilled else {})
        | ({"revthink": reversed_} if reversed_ else {})
        | ({"facts": facts} if facts else {})
    )


def base_model_path(pipeline) -> str:
    """Where training starts: the tiny model built by the data stage, or a path / hub id."""
    if pipeline.recipe.model.base == "tiny":
        return str(pipeline.run_dir / "data" / "tiny-base")
    return pipeline.recipe.model.base
