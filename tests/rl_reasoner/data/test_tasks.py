"""The task table: arith's splits follow the recipe's ops, and its forced openings follow each eval row."""

import pytest

from rl_reasoner.data.arith import STYLE_PREFIX, STYLES
from rl_reasoner.data.tasks import TASKS, task_of
from rl_reasoner.recipe import load_recipe

SMOKE = "recipes/tiny-arith/smoke.yaml"


def test_arith_forces_the_addition_openings_on_rows_without_an_op():
    recipe = load_recipe(SMOKE)
    forced = task_of(recipe).forced_styles(recipe)
    assert list(forced) == list(STYLES)
    row = task_of(recipe).splits(recipe)["eval"][0]
    assert "op" not in row
    assert {style: opening(row) for style, opening in forced.items()} == STYLE_PREFIX


def test_a_forced_style_opens_each_row_as_that_style_s_traces_of_its_op_open():
    recipe = load_recipe(SMOKE, ["data.ops=[add, sub]", "data.train_size=200"])
    splits = task_of(recipe).splits(recipe)
    assert {row["op"] for row in splits["eval"]} == {"add", "sub"}
    forced = task_of(recipe).forced_styles(recipe)
    for row in splits["sft"]:
        assert row["completion"].startswith(forced[row["style"]](row)), row
    sub = next(row for row in splits["eval"] if row["op"] == "sub")
    assert forced["concise"](sub) == "<think>\nSubtract" and forced["verbose"](sub) == STYLE_PREFIX["verbose"]


def test_hub_rows_have_no_forced_styles_and_an_unknown_task_is_named():
    recipe = load_recipe(SMOKE, ["data.task=hub", "data.hub.dataset=rows.jsonl"])
    assert TASKS["hub"].forced_styles(recipe) == {}
    recipe.data.task = "algebra"
    with pytest.raises(ValueError, match=r"unknown data.task 'algebra'; valid tasks: \['arith', 'hub'\]"):
        task_of(recipe)
