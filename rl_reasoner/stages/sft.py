"""Cold-start SFT stage: TRL's ``SFTTrainer`` on prompt/completion rows, loss on completions only."""

from __future__ import annotations

from pathlib import Path

from rl_reasoner.console import quiet_trl_deprecations, use_short_console
from rl_reasoner.data.tables import load_split
from rl_reasoner.stages.common import finish_reporting, resume_checkpoint
from rl_reasoner.stages.data import base_model_path
from rl_reasoner.trainer_config import sft_config


def run_sft(pipeline, unit: str, out: Path) -> None:
    """Fine-tune the base model on ``data/sft.jsonl``; the final model + tokenizer are saved in ``out``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    recipe, model_path = pipeline.recipe, base_model_path(pipeline)
    dataset = load_split(pipeline.run_dir / "data" / "sft.jsonl", columns=("prompt", "completion"))
    config = sft_config(recipe.sft, out, seed=recipe.seed, report_to=pipeline.report_to)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path)
    with quiet_trl_deprecations():
        trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer)
        use_short_console(trainer)
        trainer.train(resume_from_checkpoint=resume_checkpoint(out))
        finish_reporting(pipeline.report_to)
        trainer.save_model(str(out))  # every process: ZeRO-3/FSDP gather the sharded weights here
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(out))
