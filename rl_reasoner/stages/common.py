"""What the training stages share: where an interrupted stage resumes, and closing its wandb run."""

from __future__ import annotations

from pathlib import Path


def resume_checkpoint(out_dir: Path) -> str | None:
    """The newest ``checkpoint-N`` under ``out_dir`` (an interrupted stage resumes from it), else None."""
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(out_dir)) if Path(out_dir).is_dir() else None


def finish_reporting(report_to: str) -> None:
    """Close this stage's wandb run so the next stage (SFT, GRPO, each baseline) gets its own run."""
    if "wandb" in report_to:
        import wandb

        wandb.finish()
