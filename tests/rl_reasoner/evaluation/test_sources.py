import json

import pytest

from rl_reasoner.data.arith import build_splits
from rl_reasoner.evaluation.sources import DataError, DataSpec, load_rows, perturb_rows
from rl_reasoner.recipe import load_recipe

SMOKE = "recipes/tiny-arith/smoke.yaml"


def test_recipe_source_regenerates_the_recipes_eval_split():
    recipe = load_recipe(SMOKE)
    d = recipe.data
    expected = build_splits(d.levels, d.train_size, d.grpo_size, d.eval_per_level, d.style_mix, recipe.seed)[
        "eval"
    ]
    rows = load_rows(DataSpec(f"recipe:{SMOKE}"))
    assert rows == [{k: r[k] for k in ("id", "prompt", "answer", "level")} for r in expected]
    assert load_rows(DataSpec(f"recipe:{SMOKE}", limit=3)) == rows[:3]


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_local_files_with_mapped_columns(tmp_path, suffix):
    raw = [
        {"question": "Tom has 3 apples ...", "solution": "3 + 4 = 7\n#### 7", "difficulty": 1},
        {"question": "What is 2^10?", "solution": "1024", "difficulty": 3},
    ]
    path = tmp_path / f"data.{suffix}"
    if suffix == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in raw))
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(raw), path)
    spec = DataSpec(
        str(path), question_column="question", answer_column="solution", level_column="difficulty"
    )
    rows = load_rows(spec)
    assert rows == [
        {"id": "row-0", "prompt": raw[0]["question"], "answer": "7", "level": 1},
        {"id": "row-1", "prompt": raw[1]["question"], "answer": "1024", "level": 3},
    ]
    columns = (
        r"no column\(s\) \['prompt', 'answer'\]; its columns are \['question', 'solution', 'difficulty'\]"
    )
    with pytest.raises(DataError, match=columns):
        load_rows(DataSpec(str(path)))


def test_unknown_local_paths_and_offline_hub_datasets_are_named(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_rows(DataSpec(str(tmp_path / "missing.jsonl")))
    (tmp_path / "data.txt").write_text("a,b\n")
    with pytest.raises(DataError, match="unsupported file type"):
        load_rows(DataSpec(str(tmp_path / "data.txt")))
    with pytest.raises(DataError, match="'nobody-here/no-such-dataset' is not a local file.*offline"):
        load_rows(DataSpec("nobody-here/no-such-dataset"))


def test_perturbation_keeps_the_level_changes_the_numbers_and_is_seeded():
    rows = load_rows(DataSpec(f"recipe:{SMOKE}"))
    perturbed = perturb_rows(rows, seed=0)
    assert perturbed == perturb_rows(rows, seed=0) != perturb_rows(rows, seed=1)
    for row, new in zip(rows, perturbed, strict=True):
        a, b = (int(x) for x in new["prompt"].removesuffix("=?\n").split("+"))
        assert new["level"] == row["level"] and new["id"] == row["id"] + "-perturbed"
        assert new["answer"] == str(a + b) and new["prompt"] != row["prompt"]
        assert all(len(str(x)) == row["level"] for x in (a, b))


def test_perturbation_refuses_non_arith_rows():
    with pytest.raises(DataError, match="--perturb re-samples arith problems"):
        perturb_rows([{"id": "q1", "prompt": "What is 2^10?", "answer": "1024", "level": 1}], seed=0)
