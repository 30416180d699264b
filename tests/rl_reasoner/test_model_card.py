"""The model card without a model: where GRPO started, the eval numbers it reads from a ``metrics.json``
(and ignores in an old run's eval), and which ``trainer_state.json`` gives the training curve."""

import json

import pytest
from huggingface_hub import ModelCard
from transformers import TrainerState

from rl_reasoner.model_card import load_eval_metrics, trainer_state, write_model_card
from rl_reasoner.model_ref import ModelRef


def summary(prompts, pass1, mean_tokens, truncation_rate):
    """One ``overall``/``levels`` entry of a metrics.json (greedy: one sample per prompt)."""
    return {"prompts": prompts, "samples": prompts, "pass@1": pass1, "maj@1": pass1,
            "mean_tokens": mean_tokens, "median_tokens": round(mean_tokens), "p90_tokens": mean_tokens + 14,
            "truncation_rate": truncation_rate}  # fmt: skip


# a metrics.json as `rl-reasoner eval --out DIR` writes it (rl_reasoner.evaluation.runner.compute_metrics)
METRICS = {
    "config": {"data": {"source": "recipe:recipes/tiny-arith/demo.yaml"}, "n": 1, "temperature": 0.0,
               "max_new_tokens": 256},
    "ks": [1],
    "overall": summary(300, 0.97, 43.7, 0.01),
    "levels": {"1": summary(150, 0.99, 30.2, 0.0), "2": summary(150, 0.95, 57.1, 0.02)},
    "budget_curve": [{"budget": 32, "accuracy": 0.3}, {"budget": 256, "accuracy": 0.97}],
}  # fmt: skip
OLD_RESULTS = {"models": {"grpo": {"overall": {"accuracy": 0.5, "mean_tokens": 20.0, "truncation_rate": 0}}}}
RECIPE = {
    "name": "demo",
    "seed": 7,
    "model": {"base": "Qwen/Qwen2.5-Math-1.5B", "grpo_from": "sft"},
    "rewards": [{"name": "accuracy", "weight": 1.0}, {"name": "below_mean_bonus", "weight": 0.2}],
}


def make_run(tmp_path, recipe=RECIPE, stage="grpo"):
    run = tmp_path / "runs" / "demo"
    (run / stage).mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"recipe": recipe, "git_commit": "abc123"}))
    return ModelRef(str(run / stage), run_dir=run, stage=stage)


def card(source, tmp_path, **kwargs):
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    path = write_model_card(source, out, title="someone/demo", has_chat_template=False, **kwargs)
    return path.read_text()


@pytest.mark.parametrize(
    "grpo_from, start",
    [("sft", "GRPO from the run's SFT checkpoint"), ("base", "GRPO from the base model (no SFT stage)")],
)
def test_the_training_section_says_where_grpo_started(tmp_path, grpo_from, start):
    recipe = {**RECIPE, "model": {**RECIPE["model"], "grpo_from": grpo_from}}
    text = card(make_run(tmp_path, recipe), tmp_path)
    assert f"- {start}; rewards: `accuracy` x 1.0, `below_mean_bonus` x 0.2" in text
    assert text.count("GRPO from") == 1


def test_the_front_matter_is_hub_metadata(tmp_path):
    meta = ModelCard(card(make_run(tmp_path), tmp_path, datasets=["openai/gsm8k"])).data
    assert (meta.library_name, meta.pipeline_tag) == ("transformers", "text-generation")
    assert meta.base_model == "Qwen/Qwen2.5-Math-1.5B" and meta.datasets == ["openai/gsm8k"]
    assert meta.tags == ["rl-reasoner", "trl", "reasoning", "concise-reasoning", "grpo"]


def test_a_tiny_base_model_is_not_hub_metadata(tmp_path):
    recipe = {**RECIPE, "model": {"base": "tiny"}}
    meta = ModelCard(card(make_run(tmp_path, recipe, stage="sft"), tmp_path)).data.to_dict()
    assert "base_model" not in meta and "datasets" not in meta and meta["tags"][-1] == "sft"


def test_the_runs_metrics_json_gives_the_eval_numbers(tmp_path):
    source = make_run(tmp_path)
    (source.run_dir / "eval" / "grpo").mkdir(parents=True)
    (source.run_dir / "eval" / "grpo" / "metrics.json").write_text(json.dumps(METRICS))
    text = card(source, tmp_path)
    assert (
        "- eval (`recipe:recipes/tiny-arith/demo.yaml`, greedy, max 256 new tokens, 300 prompts): "
        "pass@1 97.0%, 43.7 completion tokens on average, 1.0% truncated"
    ) in text
    assert "  - level 1: 99.0% · 30.2 tokens\n  - level 2: 95.0% · 57.1 tokens" in text


def test_given_metrics_replace_the_runs(tmp_path):
    source = make_run(tmp_path)
    (source.run_dir / "eval" / "grpo").mkdir(parents=True)
    (source.run_dir / "eval" / "grpo" / "metrics.json").write_text(json.dumps(METRICS))
    sampled = {**METRICS, "config": {"n": 8, "temperature": 0.6}, "levels": {}}
    sampled["overall"] = {**METRICS["overall"], "pass@1": 0.5}
    text = card(source, tmp_path, metrics=sampled)
    assert "- eval (8 sample(s) per prompt at temperature 0.6, 300 prompts): pass@1 50.0%" in text
    assert "97.0%" not in text and "level 1" not in text


def test_an_old_runs_eval_gives_no_numbers_and_no_error(tmp_path):
    source = make_run(tmp_path)
    (source.run_dir / "eval").mkdir()
    (source.run_dir / "eval" / "results.json").write_text(json.dumps(OLD_RESULTS))
    text = card(source, tmp_path)
    assert "## Training" in text and "pass@1" not in text and "## Length statistics" not in text


def test_load_eval_metrics_takes_the_file_or_its_folder_and_nothing_else(tmp_path):
    (tmp_path / "eval-out").mkdir()
    (tmp_path / "eval-out" / "metrics.json").write_text(json.dumps(METRICS))
    assert load_eval_metrics(tmp_path / "eval-out") == METRICS
    assert load_eval_metrics(tmp_path / "eval-out" / "metrics.json") == METRICS
    (tmp_path / "results.json").write_text(json.dumps(OLD_RESULTS))
    (tmp_path / "torn.json").write_text('{"overall": {"pass@1"')
    (tmp_path / "empty.json").write_text(json.dumps({"overall": {"prompts": 0, "samples": 0}}))
    for path in ("results.json", "torn.json", "empty.json", "missing.json", "missing-folder"):
        assert load_eval_metrics(tmp_path / path) is None, path
    assert load_eval_metrics(tmp_path) is None  # a folder without metrics.json


def save_state(folder, step):
    folder.mkdir(parents=True, exist_ok=True)
    state = TrainerState(global_step=step, log_history=[{"step": step}])
    state.save_to_json(str(folder / "trainer_state.json"))


def test_trainer_state_is_the_folders_own_else_the_newest_checkpoints(tmp_path):
    model = tmp_path / "grpo"
    assert trainer_state(model) is None  # no folder
    model.mkdir()
    assert trainer_state(model) is None  # no state anywhere
    save_state(model / "checkpoint-2", 2)
    save_state(model / "checkpoint-10", 10)  # newer, though it sorts first as text
    assert trainer_state(model)["global_step"] == 10
    save_state(model, 12)
    assert trainer_state(model)["global_step"] == 12
