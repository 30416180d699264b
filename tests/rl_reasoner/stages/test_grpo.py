"""The GRPOConfig (and SFTConfig) each real-model recipe produces, built as the stage builds them: vLLM
fields, batch sizes over the launched processes, rewards. No GPU, vLLM or network needed."""

from pathlib import Path

import pytest

from rl_reasoner.launch import LaunchError, check_scaleout, one_process_view
from rl_reasoner.recipe import load_recipe
from rl_reasoner.reward_funcs import build_reward_funcs
from rl_reasoner.trainer_config import grpo_config, sft_config

REAL = sorted(p for p in Path("recipes").glob("*/*.yaml") if p.parent.name != "tiny-arith")
# recipe -> (vllm_mode, memory fraction, sleep mode, server host, completions per step over all processes)
EXPECTED = {
    "qwen2.5-math-1.5b/r1-zero-grpo": ("colocate", 0.3, True, None, 128),
    "qwen2.5-math-1.5b/r1-zero-grpo-gpu-smoke": ("colocate", 0.3, True, None, 8),
    "r1-distill-qwen-1.5b/long2short": ("colocate", 0.4, True, None, 128),
    "r1-distill-qwen-1.5b/long2short-gpu-smoke": ("colocate", 0.4, True, None, 8),
    "qwen2.5-7b/sft-grpo-zero3": ("server", None, False, ("127.0.0.1", 8000), 112),
    "qwen2.5-7b/sft-grpo-zero3-gpu-smoke": ("colocate", 0.3, True, None, 8),
}


def key(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_every_real_recipe_is_listed_and_has_a_gpu_smoke_variant_via_inherit():
    assert sorted(map(key, REAL)) == sorted(EXPECTED)
    for path in REAL:
        if not path.stem.endswith("-gpu-smoke"):
            smoke = path.with_name(f"{path.stem}-gpu-smoke.yaml")
            assert f"inherit: {path.name}" in smoke.read_text()
            recipe = load_recipe(smoke)
            assert recipe.grpo["max_steps"] == 10 and (recipe.launch.num_processes or 1) == 1


@pytest.mark.parametrize("path", REAL, ids=key)
def test_recipe_grpo_config_has_the_vllm_settings(path):
    mode, memory, sleep, server, completions = EXPECTED[key(path)]
    recipe = load_recipe(path)
    weights = [spec.weight for spec in recipe.rewards]
    config = grpo_config(one_process_view(recipe), Path("runs/x/grpo"), reward_weights=weights)
    assert (config.use_vllm, config.vllm_mode, config.vllm_enable_sleep_mode) == (True, mode, sleep)
    if memory is not None:
        assert config.vllm_gpu_memory_utilization == memory
    if server is not None:
        assert (config.vllm_server_host, config.vllm_server_port) == server
    assert config.generation_batch_size == completions  # per-device batch x launched processes x steps
    assert config.generation_batch_size % config.num_generations == 0 and config.bf16
    funcs = build_reward_funcs(recipe.rewards, num_generations=config.num_generations, eos_token_ids=[0])
    assert [f.__name__ for f in funcs][0] == "accuracy" and len(funcs) == 2
    assert recipe.data.task == "hub" and recipe.data.hub.eval_dataset == "HuggingFaceH4/MATH-500"
    if recipe.model.grpo_from == "sft":
        assert sft_config(recipe.sft, Path("runs/x/sft")).bf16


def test_long2short_warms_up_its_length_reward():
    params = {r.name: r.params for r in load_recipe("recipes/r1-distill-qwen-1.5b/long2short.yaml").rewards}
    assert params["kimi"] == {"warmup_steps": 50}
    funcs = build_reward_funcs(load_recipe("recipes/r1-distill-qwen-1.5b/long2short-gpu-smoke.yaml").rewards,
                               num_generations=8, eos_token_ids=[0])
    assert funcs[1].warmup_steps == 5


@pytest.mark.parametrize("path", [p for p in REAL if not p.stem.endswith("-gpu-smoke")], ids=key)
def test_full_recipes_do_not_fit_a_machine_without_gpus(path, monkeypatch):
    """Their launch files ask for 7-8 GPU processes: refused by name before anything loads (vLLM and
    DeepSpeed made to look installed so that the launch check is reached)."""
    import importlib.metadata
    import importlib.util

    real_spec, real_version = importlib.util.find_spec, importlib.metadata.version
    fake = {"vllm": object(), "deepspeed": object()}
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: fake.get(n) or real_spec(n, *a))
    monkeypatch.setattr(importlib.metadata, "version", lambda n: "0.30.0" if n == "vllm" else real_version(n))
    recipe = load_recipe(path)
    if recipe.grpo["vllm_mode"] == "colocate":
        with pytest.raises(LaunchError, match="colocate needs a CUDA GPU"):
            check_scaleout(recipe, devices=0)
    else:
        with pytest.raises(LaunchError, match=r"starts 7 processes, one per GPU, but this machine has 0"):
            check_scaleout(recipe, devices=0)
        assert "ZeRO-3, 7 processes" in check_scaleout(recipe, devices=8)[-1]
