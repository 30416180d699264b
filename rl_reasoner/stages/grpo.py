"""GRPO stage: TRL's ``GRPOTrainer`` from the SFT checkpoint with rewards composed in the recipe."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rl_reasoner.reward_funcs import build_reward_funcs
from rl_reasoner.stages.common import (
    finish_reporting,
    last_checkpoint,
    load_jsonl_dataset,
    trainer_device_args,
)

# Settings the stage sets unless the recipe says otherwise (all are plain GRPOConfig fields).
GRPO_DEFAULTS: dict[str, Any] = {
    "activation_checkpointing": False,  # TRL turns it on; it only costs time at tiny sizes
    "save_strategy": "steps",
    "save_total_limit": 1,
    "logging_steps": 5,
    "log_completions": True,  # a table of sampled completions with each reward (wandb + parquet)
}


def build_grpo_config(
    out_dir: Path, grpo_args: Mapping[str, Any], reward_specs: Sequence[Any], *, seed: int, report_to: str
):
    """The ``GRPOConfig`` a stage runs with (also used by ``rl-reasoner check`` to validate a recipe)."""
    from trl import GRPOConfig

    return GRPOConfig(
        output_dir=str(out_dir),
        seed=seed,
        report_to=report_to,
        run_name=f"{out_dir.parent.name}/{out_dir.name}",
        reward_weights=[float(spec.weight) for spec in reward_specs],
        **{**GRPO_DEFAULTS, **trainer_device_args(grpo_args), **grpo_args},
    )


def run_grpo(
    model_path: str,
    prompts_file: Path,
    out_dir: Path,
    grpo_args: Mapping[str, Any],
    reward_specs: Sequence[Any],
    *,
    seed: int,
    report_to: str,
) -> Path:
    """Train ``model_path`` with GRPO on the prompts in ``prompts_file``; final model saved in ``out_dir``."""
    from transformers import AutoTokenizer
    from trl import GRPOTrainer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    config = build_grpo_config(out_dir, grpo_args, reward_specs, seed=seed, report_to=report_to)
    funcs = build_reward_funcs(
        reward_specs, num_generations=config.num_generations, eos_token_ids=[tokenizer.eos_token_id]
    )
    extra = [c for func in funcs for c in getattr(func, "columns", ())]  # e.g. an L1 reward's target_column
    dataset = load_jsonl_dataset(prompts_file, columns=("prompt", "answer", "id", *extra))
    trainer = GRPOTrainer(
        model=model_path,
        reward_funcs=funcs,
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    trainer.train(resume_from_checkpoint=last_checkpoint(out_dir))
    finish_reporting(report_to)
    trainer.save_model(str(out_dir))  # every process: ZeRO-3/FSDP gather the sharded weights here
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(out_dir))
    return out_dir


def run_grpo_unit(pipeline, unit: str, out: Path) -> None:
    from rl_reasoner.stages.data import base_model_path

    recipe = pipeline.recipe
    baseline = unit.removeprefix("grpo-") if unit != "grpo" else None
    specs = recipe.baselines[baseline].rewards if baseline else recipe.rewards
    start = base_model_path(pipeline) if recipe.model.grpo_from == "base" else str(pipeline.run_dir / "sft")
    run_grpo(
        start,
        pipeline.run_dir / "data" / "grpo.jsonl",
        out,
        recipe.grpo,
        specs,
        seed=recipe.seed,
        report_to=pipeline.report_to,
    )
