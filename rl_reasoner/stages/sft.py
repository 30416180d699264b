"""Cold-start SFT stage: TRL's ``SFTTrainer`` on prompt/completion rows, loss on completions only.

A row with ``"masked": true`` keeps its place in the data, so every batch holds the same rows in the same
order as without the flag, but none of its tokens is trained on (its labels are all ignored). It is the
leave-out retrain that changes nothing else: deleting rows instead reshuffles every other row too (the
sampler's permutation depends on the row count), and that alone moves what a small model recalls.
"""

from __future__ import annotations

from pathlib import Path

from rl_reasoner.console import quiet_trl_deprecations, use_short_console
from rl_reasoner.data.tables import load_split
from rl_reasoner.stages.common import finish_reporting, resume_checkpoint
from rl_reasoner.stages.data import base_model_path
from rl_reasoner.trainer_config import sft_config

MASK_COLUMN = "masked"


def run_sft(pipeline, unit: str, out: Path) -> None:
    """Fine-tune the base model on ``data/sft.jsonl``; the final model + tokenizer are saved in ``out``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    recipe, model_path = pipeline.recipe, base_model_path(pipeline)
    path = pipeline.run_dir / "data" / "sft.jsonl"
    dataset = load_split(path, columns=("prompt", "completion"))
    masked = masked_rows(dataset, path)
    config = sft_config(recipe.sft, out, seed=recipe.seed, report_to=pipeline.report_to)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path)
    with quiet_trl_deprecations():
        trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer)
        if masked:
            trainer.train_dataset = mask_labels(trainer.train_dataset, masked, len(dataset), path)
        use_short_console(trainer)
        trainer.train(resume_from_checkpoint=resume_checkpoint(out))
        finish_reporting(pipeline.report_to)
        trainer.save_model(str(out))  # every process: ZeRO-3/FSDP gather the sharded weights here
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(out))


def masked_rows(dataset, path: Path) -> set[int]:
    """Indices of the rows whose ``masked`` field is true (none without the column); a clear error for a
    value that is not true, false or absent."""
    if MASK_COLUMN not in dataset.column_names:
        return set()
    values = dataset[MASK_COLUMN]
    bad = next((i for i, v in enumerate(values) if v not in (True, False, None)), None)
    if bad is not None:
        raise ValueError(
            f"row {bad} of {path} has {MASK_COLUMN}={values[bad]!r}; expected true (kept in the batches, not "
            "trained on), false, or no such field"
        )
    return {i for i, v in enumerate(values) if v is True}


def mask_labels(prepared, masked: set[int], rows: int, path: Path):
    """``prepared`` (TRL's tokenized dataset, row for row the split) with every label of ``masked`` rows
    set to -100, so they are drawn into their batches as before and add no loss."""
    if len(prepared) != rows or "labels" not in prepared.column_names:
        raise ValueError(
            f"{path} has rows marked {MASK_COLUMN}, but TRL's prepared dataset has {len(prepared)} of its "
            f"{rows} rows and columns {prepared.column_names}: rows can be masked only when none is dropped "
            "(raise sft.max_length) and the loss is on completions (labels built from the completion mask)"
        )
    return prepared.map(
        lambda row, i: {"labels": [-100] * len(row["labels"]) if i in masked else row["labels"]},
        with_indices=True,
        desc="Masking rows",
    )
