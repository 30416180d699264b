"""``data.task: hub``: local jsonl/parquet files through the same ``datasets.load_dataset`` path a hub id
takes (no network here), the column mapping, held-out eval rows and the errors before anything is written."""

import json

import pandas as pd
import pytest

from rl_reasoner.data.hub import build_hub_splits, check_hub_source
from rl_reasoner.data.tables import load_table
from rl_reasoner.pipeline import Pipeline
from rl_reasoner.recipe import HubDataSection, RecipeError, load_recipe

SMOKE = "recipes/tiny-arith/smoke.yaml"


def rows(n: int) -> list[dict]:
    return [
        {"problem": f"What is {i}+1?", "answer": i + 1, "trace": f"<think>{i}+1</think> \\boxed{{{i + 1}}}",
         "difficulty": f"Level {1 + i % 2}"}
        for i in range(n)
    ]


@pytest.fixture
def jsonl(tmp_path):
    path = tmp_path / "math.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows(40)))
    return path


def hub(dataset, **kwargs) -> HubDataSection:
    return HubDataSection(dataset=str(dataset), prompt_template="Q: {question}\nA: <think>", **kwargs)


def test_local_jsonl_becomes_disjoint_splits_with_held_out_eval_rows_per_level(jsonl):
    spec = hub(jsonl, completion_column="trace", level_column="difficulty")
    splits = build_hub_splits(spec, train_size=100, grpo_size=10, eval_per_level=3, seed=0)
    assert [len(splits[s]) for s in ("eval", "grpo", "sft")] == [6, 10, 24]  # 40 rows: 6 held out, 10, rest
    assert sorted(r["level"] for r in splits["eval"]) == ["Level 1"] * 3 + ["Level 2"] * 3
    prompts = [{r["prompt"] for r in splits[s]} for s in ("eval", "grpo", "sft")]
    assert not (prompts[0] & prompts[1] or prompts[0] & prompts[2] or prompts[1] & prompts[2])
    row = splits["grpo"][0]
    i = int(row["prompt"].split()[3].split("+")[0])
    assert row == {"id": row["id"], "level": f"Level {1 + i % 2}", "prompt": f"Q: What is {i}+1?\nA: <think>",
                   "answer": str(i + 1)}
    assert splits["sft"][0]["completion"].startswith("<think>") and "completion" not in splits["eval"][0]
    assert all(r["id"].startswith("eval-") for r in splits["eval"])
    again = build_hub_splits(spec, train_size=100, grpo_size=10, eval_per_level=3, seed=0)
    assert again == splits and build_hub_splits(spec, 100, 10, 3, seed=1) != splits


def test_parquet_eval_dataset_and_no_sft_rows_without_a_completion_column(jsonl, tmp_path):
    evals = tmp_path / "eval.parquet"
    pd.DataFrame(rows(8)).to_parquet(evals)
    assert load_table(str(evals), None, "test").num_rows == 8
    splits = build_hub_splits(hub(jsonl, eval_dataset=str(evals), level_column="difficulty"), 5, 7, 2, seed=0)
    assert (len(splits["eval"]), len(splits["grpo"]), splits["sft"]) == (4, 7, [])
    assert {r["level"] for r in splits["grpo"]} == {"Level 1", "Level 2"}  # read where the table has it


def test_missing_columns_and_unloadable_sources_are_named(jsonl, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"no column\(s\) \['question'\]; their columns are \[.*'problem'"):
        build_hub_splits(hub(jsonl, question_column="question"), 10, 5, 2, seed=0)
    with pytest.raises(ValueError, match=r"the train rows have no column\(s\) \['level'\]"):
        build_hub_splits(hub(jsonl, level_column="level"), 10, 5, 2, seed=0)
    with pytest.raises(ValueError, match="no such file"):
        check_hub_source(hub(tmp_path / "nope.jsonl"))
    with pytest.raises(ValueError, match="no such file"):
        check_hub_source(hub(jsonl, eval_dataset=str(tmp_path / "nope.parquet")))
    check_hub_source(hub("open-r1/OpenR1-Math-220k"))  # a hub id: only the data stage can look
    import datasets

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    message = r"'open-r1/OpenR1-Math-220k' \(config 'default', split 'train'\) could not be loaded: .*Offline"
    with pytest.raises(ValueError, match=message):
        load_table("open-r1/OpenR1-Math-220k", "default", "train")


def test_recipe_validation_of_the_hub_section():
    with pytest.raises(RecipeError, match="'data.task: hub' needs 'data.hub.dataset'"):
        load_recipe(SMOKE, ["data.task=hub"])
    with pytest.raises(RecipeError, match=r"must contain '\{question\}' exactly once"):
        load_recipe(SMOKE, ["data.task=hub", "data.hub.dataset=x.jsonl", "data.hub.prompt_template=Q"])
    with pytest.raises(RecipeError, match="unknown key 'question' in section 'data.hub'; did you mean"):
        load_recipe(SMOKE, ["data.task=hub", "data.hub.dataset=x.jsonl", "data.hub.question=problem"])


def test_data_stage_refuses_sft_without_sft_rows_before_writing(jsonl, tmp_path):
    recipe = load_recipe(SMOKE, ["report_to=none", "data.task=hub", f"data.hub.dataset={jsonl}"])
    pipeline = Pipeline(recipe, runs_dir=tmp_path / "runs")
    with pytest.raises(ValueError, match="gave no SFT rows: set data.hub.completion_column, or model.grpo"):
        pipeline.run(["data"], log=lambda _: None)
    assert not (pipeline.run_dir / "data").exists()
    recipe = load_recipe(SMOKE, ["report_to=none", "data.task=hub", f"data.hub.dataset={jsonl}",
                                 "model.grpo_from=base", "data.eval_per_level=3"])
    pipeline = Pipeline(recipe, runs_dir=tmp_path / "runs2")
    result = pipeline.run(["data"], log=lambda _: None)["stages"]["data"]["result"]
    assert result == {"sft": 0, "grpo": 32, "eval": 3} and pipeline.units("sft") == []
