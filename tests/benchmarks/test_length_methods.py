"""benchmarks/length_methods.py without training: its recipe passes preflight, reused stages count as done,
the failure analysis flags what it says it flags, and the report reads the eval stage's outputs."""

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from rl_reasoner.pipeline import Pipeline
from rl_reasoner.preflight import preflight
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
    level = {"prompts": 100, "pass@1": acc, "mean_tokens": tokens, "truncation_rate": 0.0}
    hard = {"prompts": 100, "pass@1": hard_acc, "mean_tokens": hard_tokens, "truncation_rate": 0.0}
    overall = {"prompts": 200, "pass@1": (acc + hard_acc) / 2, "mean_tokens": (tokens + hard_tokens) / 2,
               "truncation_rate": 0.0}
    return {"overall": overall, "levels": {"1": level, "2": hard}}


def test_failures_flag_cut_reasoning_and_no_shortening_but_not_a_good_method(bench):
    forced = {"forced-concise": _summary(1.0, 27, 0.96, 46), "forced-verbose": _summary(1.0, 100, 0.99, 170)}
    results = {
        "models": {
            "sft": {**_summary(1.0, 100, 0.99, 170), "variants": forced},
            "grpo-accuracy-only": _summary(1.0, 100, 0.99, 170),
            "grpo-good": _summary(1.0, 27, 0.99, 170),
            "grpo-cuts": _summary(1.0, 27, 0.90, 46),
        },
        "oracle": {**_summary(1.0, 27, 0.99, 170), "levels": {
            "1": {**_summary(1.0, 27, 0.99, 170)["levels"]["1"], "style": "concise"},
            "2": {**_summary(1.0, 27, 0.99, 170)["levels"]["2"], "style": "verbose"},
        }},
    }
    labels = {u: u.removeprefix("grpo-") for u in results["models"]}
    styles = {"grpo-cuts": {"2": {"concise": 0.9, "verbose": 0.1}}}
    found = bench.failures(results, styles, labels)
    assert set(found) == {"cuts"}
    accuracy, cut = found["cuts"]
    assert accuracy.startswith("accuracy 95.0% is 4.5 points below SFT's 99.5%")
    assert cut.startswith("cut reasoning at level 2: 46 tokens < the oracle's 170") and "concise 90%" in cut
    assert cut.endswith("(SFT forced into each style there: concise 96%, verbose 99%)")
    results["models"]["grpo-lazy"] = _summary(1.0, 98, 0.99, 168)
    assert bench.failures(results, styles, labels | {"grpo-lazy": "lazy"})["lazy"][0].startswith("did not")


def test_the_report_reads_the_eval_stage_outputs(bench, eval_dir, tmp_path, monkeypatch):
    """collect + write_doc on a run whose eval/ is in the pipeline's schema (see conftest.eval_dir)."""
    run_dir = eval_dir.parent
    manifest = {"git_commit": "abc123", "stages": {u: {"status": "done", "seconds": 60.0}
                                                     for u in ("data", "sft", "grpo", "grpo-accuracy-only",
                                                               "grpo-below_mean_bonus", "eval")}}
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    base = recipe_to_dict(load_recipe(ROOT / "recipes/tiny-arith/demo.yaml"))
    chosen = bench.methods(base["grpo"]["max_completion_length"])[:2]
    monkeypatch.setattr(bench, "subprocess", SimpleNamespace(run=lambda *a, **k: SimpleNamespace(stdout="")))
    report = bench.collect(run_dir, bench.build_recipe(base, chosen), base, chosen, wall_s=600.0)

    assert report["styles"]["sft"] == {"1": {"verbose": 1.0}, "2": {"verbose": 1.0}}  # no forced variant
    assert report["styles"]["grpo-below_mean_bonus"]["2"] == {"concise": 1.0}
    target = report["targets"]["below_mean_bonus: accuracy >= 99 %"]
    assert target == {"value": 0.95, "bound": 0.99, "met": False}
    fails = report["failures"]["below_mean_bonus"]
    assert fails[0] == "accuracy 95.0% is 5.0 points below SFT's 100.0%"
    assert fails[1].endswith("(SFT forced into each style there: direct 30%, concise 90%, verbose 100%)")
    doc = tmp_path / "length-methods.md"
    bench.write_doc(report, doc)
    text = doc.read_text()
    assert "| method | accuracy | mean tokens | x oracle | truncated | level 1 | level 2 |" in text
    assert "held-out split (20 prompts). Cells per level: accuracy · mean completion tokens" in text
    lines = text.splitlines()
    assert ("| below_mean_bonus | 95.0% | 36.5 | 0.41 | 0.0% | 100% · 27 · concise 100% "
            "| 90% · 46 · concise 100% |") in lines
    assert ("| oracle | 100.0% | 89.0 | 1.00 | 0.0% | 100% · 8 · direct 100% "
            "| 100% · 170 · verbose 100% |") in lines
