"""The one place TRL trainer configs are built: ``SFTConfig``/``GRPOConfig`` from a recipe section.

Every trainer setting the code needs (budgets, batch sizes, vLLM host and port, …) is read from a config
built here, never copied from TRL by hand: TRL's defaults stay TRL's. The only values added are the
pipeline's own choices below (each says why it differs from TRL), the run paths, and the CPU flags.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rl_reasoner.console import quiet_trl_deprecations

# Where the stages differ from TRL's defaults; a recipe's sft/grpo section overrides any of them.
SFT_SETTINGS: dict[str, Any] = {
    "completion_only_loss": True,  # cold-start SFT learns the trace, not the prompt
    "activation_checkpointing": False,  # TRL turns it on; it only costs time at tiny sizes
    "train_sampling_strategy": "group_by_length",  # batches of similar length: far less padding
    "save_strategy": "steps",
    "save_total_limit": 1,
    "logging_steps": 25,
}
GRPO_SETTINGS: dict[str, Any] = {
    "activation_checkpointing": False,
    "save_strategy": "steps",
    "save_total_limit": 1,
    "logging_steps": 5,
    # The completions table (every reward of every completion) goes to wandb and to
    # <output_dir>/completions/*.parquet; its console copy is off (rl_reasoner.stages.grpo) unless the
    # recipe sets num_completions_to_print.
    "log_completions": True,
}
NOWHERE = Path(os.devnull)  # output_dir of configs built only to be read or checked


def device_args(user_args: Mapping[str, Any]) -> dict[str, Any]:
    """``use_cpu`` and fp32 without CUDA (TRL configs default to bf16), unless the user set ``use_cpu``."""
    import torch

    if torch.cuda.is_available() or "use_cpu" in user_args:
        return {}
    return {"use_cpu": True, "bf16": False}


def _build(config_cls, own: Mapping[str, Any], user_args: Mapping[str, Any], out_dir: Path, **run: Any):
    """``config_cls`` with the run's fields, then our settings, the device flags and the recipe's values."""
    with quiet_trl_deprecations():
        return config_cls(
            output_dir=str(out_dir),
            run_name=f"{out_dir.parent.name}/{out_dir.name}",
            **run,
            **{**own, **device_args(user_args), **user_args},
        )


def sft_config(
    sft_args: Mapping[str, Any], out_dir: Path = NOWHERE, *, seed: int = 0, report_to: str = "none"
):
    """The ``SFTConfig`` the SFT stage runs with (``rl-reasoner check`` builds the same to validate)."""
    from trl import SFTConfig

    return _build(SFTConfig, SFT_SETTINGS, sft_args, out_dir, seed=seed, report_to=report_to)


def grpo_config(
    grpo_args: Mapping[str, Any],
    out_dir: Path = NOWHERE,
    *,
    reward_weights: Sequence[float] | None = None,
    seed: int = 0,
    report_to: str = "none",
):
    """The ``GRPOConfig`` a GRPO unit runs with; read it for any GRPO setting (TRL fills the defaults)."""
    from trl import GRPOConfig

    weights = {"reward_weights": [float(w) for w in reward_weights]} if reward_weights is not None else {}
    return _build(GRPOConfig, GRPO_SETTINGS, grpo_args, out_dir, seed=seed, report_to=report_to, **weights)


def grpo_settings(grpo_args: Mapping[str, Any]) -> dict[str, Any]:
    """The recipe's ``grpo`` section over TRL's ``GRPOConfig`` field defaults: every GRPO setting with TRL's
    own default where the recipe sets none (read from TRL, never copied here). Field by field, since a
    whole GRPOConfig refuses a batch that fits only over several processes."""
    from trl import GRPOConfig

    return {**{f.name: f.default for f in dataclasses.fields(GRPOConfig)}, **grpo_args}


def eval_budget(recipe: Any) -> int:
    """Max new tokens at eval: ``eval.max_new_tokens``, else the budget GRPO trained with."""
    return recipe.eval.max_new_tokens or grpo_settings(recipe.grpo)["max_completion_length"]
