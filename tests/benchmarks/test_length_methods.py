"""benchmarks/length_methods.py without training: its recipe passes preflight, reused stages count as done,
and the failure analysis flags what it says it flags."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from rl_reasoner.cli import preflight
from rl_reasoner.pipeline import Pipeline
from rl_reasoner.recipe import load_recipe, recipe_from_dict, recipe_to_dict

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("length_methods", ROOT / "benchmarks/length_methods.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_every_method_builds_a_recipe_that_passes_preflight(bench):
    base = recipe_to_dict(load_recipe(ROOT / "recipes/tiny-arith/demo.yaml"))
    every = bench.methods(base["grpo"]["max_completion_length"])
    recipe = recipe_from_dict(bench.build_recipe(base, every))
    preflight(recipe)  # every reward name and parameter is checked against the real reward functions
    assert list(recipe.baselines) == [m.name for m in every] and len(every) == 11
    assert {k: recipe_to_dict(recipe)[k] for k in ("seed", "model", "data", "sft", "grpo", "rewards")} == {
        k: base[k] for k in ("seed", "model", "data", "sft", "grpo", "rewards")
    }


@pytest.fixture
def source_run(tmp_path):
    """A finished data stage and an (empty) finished SFT stage of the smoke recipe, under tmp_path/src."""
    recipe = load_recipe(ROOT / "recipes/tiny-arith/smoke.yaml", ["report_to=none"])
    source = Pipeline(recipe, runs_dir=tmp_path / "src")
    source.run(["data"], log=lambda _: None)
    (source.run_dir / "sft").mkdir()
    source.manifest.update("sft", status="done", fingerprint="made-by-an-older-recipe-schema")
    return source


def test_seeded_data_and_sft_count_as_done_even_when_the_source_predates_a_key(bench, source_run, tmp_path):
    manifest = json.loads((source_run.run_dir / "manifest.json").read_text())
    del manifest["recipe"]["model"]["tiny"]["heads"]  # as if the field was added after that run
    (source_run.run_dir / "manifest.json").write_text(json.dumps(manifest))
    new = bench.build_recipe(source_run.recipe_dict, bench.methods(32)[:2])
    run_dir = tmp_path / "runs" / new["name"]
    run_dir.mkdir(parents=True)
    bench.seed_from_run(source_run.run_dir, run_dir, new)
    plan = Pipeline(recipe_from_dict(new), runs_dir=tmp_path / "runs").plan(["data", "sft", "grpo", "eval"])
    assert plan == ["grpo", "grpo-accuracy-only", "grpo-below_mean_bonus", "eval"]
    seeded = json.loads((run_dir / "manifest.json").read_text())
    assert seeded["reused_from"] == str(source_run.run_dir)
    assert seeded["reused_new_keys"] == ["model.tiny.heads"]


def test_seeding_refuses_a_source_with_a_different_value(bench, source_run, tmp_path):
    new = bench.build_recipe(source_run.recipe_dict, bench.methods(32)[:1])
    new["sft"]["max_steps"] += 1
    with pytest.raises(SystemExit, match=r"differs at sft\.max_steps: 4 -> 5"):
        bench.seed_from_run(source_run.run_dir, tmp_path / "new", new)


def _summary(acc: float, tokens: float, hard_acc: float, hard_tokens: float) -> dict:
    level = {"n": 100, "accuracy": acc, "mean_tokens": tokens, "truncation_rate": 0.0}
    hard = {"n": 100, "accuracy": hard_acc, "mean_tokens": hard_tokens, "truncation_rate": 0.0}
    overall = {"n": 200, "accuracy": (acc + hard_acc) / 2, "mean_tokens": (tokens + hard_tokens) / 2,
               "truncation_rate": 0.0}
    return {"overall": overall, "levels": {"1": level, "2": hard}}


def test_failures_flag_cut_reasoning_and_no_shortening_but_not_a_good_method(bench):
    results = {
        "models": {
            "sft": _summary(1.0, 100, 0.99, 170),
            "grpo-accuracy-only": _summary(1.0, 100, 0.99, 170),
            "grpo-good": _summary(1.0, 27, 0.99, 170),
            "grpo-cuts": _summary(1.0, 27, 0.90, 46),
        },
        "oracle": {**_summary(1.0, 27, 0.99, 170), "levels": {
            "1": {**_summary(1.0, 27, 0.99, 170)["levels"]["1"], "style": "concise"},
            "2": {**_summary(1.0, 27, 0.99, 170)["levels"]["2"], "style": "verbose"},
        }},
        "forced": {"concise": _summary(1.0, 27, 0.96, 46), "verbose": _summary(1.0, 100, 0.99, 170)},
    }
    labels = {u: u.removeprefix("grpo-") for u in results["models"]}
    styles = {"grpo-cuts": {"2": {"concise": 0.9, "verbose": 0.1}}}
    found = bench.failures(results, styles, labels)
    assert set(found) == {"cuts"}
    accuracy, cut = found["cuts"]
    assert accuracy.startswith("accuracy 95.0% is 4.5 points below SFT's 99.5%")
    assert cut.startswith("cut reasoning at level 2: 46 tokens < the oracle's 170") and "concise 90%" in cut
    results["models"]["grpo-lazy"] = _summary(1.0, 98, 0.99, 168)
    assert bench.failures(results, styles, labels | {"grpo-lazy": "lazy"})["lazy"][0].startswith("did not")
