"""Cold-start SFT stage: TRL's ``SFTTrainer`` on prompt/completion rows, loss on completions only."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rl_reasoner.stages.common import (
    finish_reporting,
    last_checkpoint,
    load_jsonl_dataset,
    trainer_device_args,
)

# Settings the stage sets unless the recipe says otherwise (all are plain SFTConfig fields).
SFT_DEFAULTS: dict[str, Any] = {
    "completion_only_loss": True,
    "activation_checkpointing": False,  # TRL turns it on; it only costs time at tiny sizes
    "train_sampling_strategy": "group_by_length",  # batches of similar length: far less padding
    "save_strategy": "steps",
    "save_total_limit": 1,
    "logging_steps": 25,
}


def build_sft_config(out_dir: Path, sft_args: Mapping[str, Any], *, seed: int, report_to: str):
    """The ``SFTConfig`` the stage runs with (also used by ``rl-reasoner check`` to validate a recipe)."""
    from trl import SFTConfig

    return SFTConfig(
        output_dir=str(out_dir),
        seed=seed,
        report_to=report_to,
        run_name=f"{out_dir.parent.name}/{out_dir.name}",
        **{**SFT_DEFAULTS, **trainer_device_args(sft_args), **sft_args},
    )


def run_sft(
    model_path: str,
    train_file: Path,
    out_dir: Path,
    sft_args: Mapping[str, Any],
    *,
    seed: int,
    report_to: str,
) -> Path:
    """Fine-tune ``model_path`` on ``train_file`` and save the final model + tokenizer in ``out_dir``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    dataset = load_jsonl_dataset(train_file, columns=("prompt", "completion"))
    config = build_sft_config(out_dir, sft_args, seed=seed, report_to=report_to)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path)
    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer)
    trainer.train(resume_from_checkpoint=last_checkpoint(out_dir))
    finish_reporting(report_to)
    trainer.save_model(str(out_dir))  # every process: ZeRO-3/FSDP gather the sharded weights here
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(out_dir))
    return out_dir


def run_sft_unit(pipeline, unit: str, out: Path) -> None:
    from rl_reasoner.stages.data import base_model_path

    run_sft(
        base_model_path(pipeline),
        pipeline.run_dir / "data" / "sft.jsonl",
        out,
        pipeline.recipe.sft,
        seed=pipeline.recipe.seed,
        report_to=pipeline.report_to,
    )
