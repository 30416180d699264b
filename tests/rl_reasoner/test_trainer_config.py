"""The one home of trainer settings: our choices over TRL's defaults, the recipe's over ours."""

import dataclasses

import pytest
from trl import GRPOConfig

from rl_reasoner.recipe import load_recipe
from rl_reasoner.trainer_config import GRPO_SETTINGS, SFT_SETTINGS, eval_budget, grpo_config, sft_config

SMOKE = "recipes/tiny-arith/smoke.yaml"


def test_our_settings_apply_unless_the_recipe_sets_them():
    config = sft_config({"logging_steps": 3})
    assert config.logging_steps == 3 and config.completion_only_loss is SFT_SETTINGS["completion_only_loss"]
    config = grpo_config({}, reward_weights=[1, 0.25])
    assert config.log_completions is GRPO_SETTINGS["log_completions"] and config.reward_weights == [1.0, 0.25]
    assert config.use_cpu and not config.bf16  # this machine has no CUDA; TRL's bf16 default would fail


def test_the_eval_budget_is_the_recipes_else_what_grpo_trained_with():
    assert eval_budget(load_recipe(SMOKE, ["eval.max_new_tokens=77"])) == 77
    assert eval_budget(load_recipe(SMOKE)) == load_recipe(SMOKE).grpo["max_completion_length"]
    trl_default = {f.name: f.default for f in dataclasses.fields(GRPOConfig)}["max_completion_length"]
    recipe = load_recipe(SMOKE)
    del recipe.grpo["max_completion_length"]  # a recipe that leaves it to TRL
    assert eval_budget(recipe) == trl_default == grpo_config({}).max_completion_length


def test_the_eval_budget_does_not_need_a_batch_that_fits_one_process():
    """A launch recipe's per-device batch may hold only part of a prompt group on one process."""
    recipe = load_recipe(SMOKE, ["grpo.per_device_train_batch_size=2", "grpo.num_generations=8"])
    with pytest.raises(ValueError):
        grpo_config(recipe.grpo)
    assert eval_budget(recipe) == recipe.grpo["max_completion_length"]
