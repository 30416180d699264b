"""``rl-reasoner check``, and the first step of every run: everything that can be found wrong with a recipe
without training, reported before any model is loaded or any file written."""

from __future__ import annotations

import warnings
from pathlib import Path

from rl_reasoner.errors import UsageError
from rl_reasoner.model_ref import is_hub_id
from rl_reasoner.recipe import Recipe


class PreflightError(UsageError):
    """The recipe is well-formed but cannot run here (missing model path, invalid trainer settings)."""


def preflight(recipe: Recipe) -> list[str]:
    """Checks the model paths, launch file and vLLM, the task's data, both trainer configs, every reward and
    the eval backend; returns notes on the set-up (launcher, vLLM mode)."""
    from rl_reasoner.data.tasks import task_of
    from rl_reasoner.evaluation.backends import check_backend
    from rl_reasoner.launch import check_scaleout, one_process_view
    from rl_reasoner.reward_funcs import build_reward_funcs
    from rl_reasoner.trainer_config import grpo_config, sft_config

    if recipe.model.base != "tiny":
        _check_model_path("model.base", recipe.model.base, "use 'tiny' to build the offline tiny model, ")
    if recipe.data.teacher.model is not None and recipe.data.teacher.samples is None:  # else never loaded
        _check_model_path("data.teacher.model", recipe.data.teacher.model, "use ")
    if recipe.data.teacher.samples is not None and not Path(recipe.data.teacher.samples).is_file():
        raise PreflightError(
            f"data.teacher.samples {recipe.data.teacher.samples!r} is not a file; point it at the "
            "data/teacher-samples.jsonl of an earlier run with the same teacher, or remove it to sample"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            notes = check_scaleout(recipe)  # before trainer configs: a missing vLLM or DeepSpeed named first
            task_of(recipe).check(recipe)
            check_backend(recipe.eval.backend)
            sft_config(recipe.sft, seed=recipe.seed)
            grpo_args = one_process_view(recipe)  # with a launch: section, batch sizes x processes
            for specs in [recipe.rewards, *(b.rewards for b in recipe.baselines.values())]:
                weights = [spec.weight for spec in specs]
                config = grpo_config(grpo_args, reward_weights=weights, seed=recipe.seed)
                build_reward_funcs(specs, num_generations=config.num_generations, eos_token_ids=[0])
        except (ValueError, TypeError) as exc:
            raise PreflightError(f"recipe {recipe.name!r} cannot run: {exc}") from None
    _check_replay(recipe, config.beta)
    _check_gate(recipe, config.save_strategy)
    return notes + _resume_notes(config)


def _check_model_path(key: str, path: str, hint: str) -> None:
    """``path`` is an existing local folder or looks like a hub id (owner/name); ``hint`` starts the fix."""
    if not Path(path).exists() and not is_hub_id(path, owner_required=True):
        raise PreflightError(
            f"{key} {path!r} is neither an existing local folder nor a hub id (owner/name); "
            f"{hint}a folder saved with save_pretrained, or a hub id"
        )


def _resume_notes(config) -> list[str]:
    """TRL restarts its generation count on resume and regenerates a half-used round, so only a checkpoint at
    a round boundary resumes into the run an uninterrupted one would have been."""
    round_steps = config.num_iterations * config.steps_per_generation  # micro-steps per generation round
    every = config.save_steps
    if config.save_strategy != "steps" or round_steps == 1 or every < 1 or every != int(every):
        return []
    if (int(every) * config.gradient_accumulation_steps) % round_steps == 0:
        return []
    return [
        f"grpo.save_steps={int(every)} saves inside a generation round ({config.num_iterations} iterations x "
        f"{config.steps_per_generation} steps per generation): a run resumed from such a checkpoint "
        "generates that round's samples again with the current policy, so it continues, but not as the "
        "uninterrupted run would; save at a multiple of the round to make a resume exact"
    ]


def _check_replay(recipe: Recipe, beta: float) -> None:
    """Replay needs SFT rows and, to pick the confident tokens, TRL's reference model (beta > 0)."""
    replay = recipe.replay
    if replay.weight == 0:
        return
    if replay.max_entropy is not None and beta == 0:
        raise PreflightError(
            f"replay.max_entropy={replay.max_entropy} needs the reference model, which TRL only loads when "
            "grpo.beta > 0; set grpo.beta (e.g. 0.04) or replay.max_entropy: null to replay every token"
        )
    if recipe.data.task == "hub" and not recipe.data.hub.completion_column:
        raise PreflightError(
            "replay.weight > 0 replays the SFT rows, but this hub dataset has none: set "
            "data.hub.completion_column (the column with the worked solutions) or replay.weight: 0"
        )


def _check_gate(recipe: Recipe, save_strategy: str) -> None:
    """The gate measures on the val split at every checkpoint: it needs both."""
    if recipe.gate.max_drop is None:
        return
    if recipe.data.val_per_level == 0:
        raise PreflightError(
            f"gate.max_drop={recipe.gate.max_drop} measures each checkpoint on the val split, but "
            "data.val_per_level is 0 (no split): set data.val_per_level (e.g. 100) or gate.max_drop: null"
        )
    save_strategy = getattr(save_strategy, "value", save_strategy)  # transformers' enum or its string
    if save_strategy != "steps":
        raise PreflightError(
            f"gate.max_drop={recipe.gate.max_drop} checks each GRPO checkpoint, but grpo.save_strategy is "
            f"{save_strategy!r}: set grpo.save_strategy: steps and grpo.save_steps, or gate.max_drop: null"
        )
