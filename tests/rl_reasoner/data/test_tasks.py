"""The task table: arith's splits follow the recipe's ops, and its forced openings follow each eval row."""

import pytest

from rl_reasoner.data.arith import OPS, STYLE_PREFIX, STYLES
from rl_reasoner.data.tasks import TASKS, task_of
from rl_reasoner.recipe import load_recipe

SMOKE = "recipes/tiny-arith/smoke.yaml"
DEMO = "recipes/tiny-arith/demo.yaml"


def test_the_demo_forces_the_three_styles_it_trains_on_with_the_addition_openings():
    recipe = load_recipe(DEMO)
    forced = task_of(recipe).forced_styles(recipe)
    assert list(forced) == ["direct", "concise", "verbose"]  # as before draft existed: same eval, same time
    row = task_of(load_recipe(SMOKE)).splits(load_recipe(SMOKE))["eval"][0]
    assert "op" not in row
    assert {style: opening(row) for style, opening in forced.items()} == {
        style: STYLE_PREFIX[style] for style in forced
    }


def test_a_recipe_that_trains_on_drafts_gets_draft_forced():
    recipe = load_recipe(SMOKE, ["data.style_by_level={2: {draft: 1.0}}"])
    assert list(task_of(recipe).forced_styles(recipe)) == list(STYLES)  # level 1: the demo style_mix
    recipe = load_recipe(SMOKE, ["data.style_by_level={1: {draft: 1.0}, 2: {direct: 1, verbose: 0}}"])
    assert list(task_of(recipe).forced_styles(recipe)) == ["direct", "draft"]


def test_a_forced_style_opens_each_row_as_that_style_s_traces_of_its_op_open():
    mix = "data.style_mix={direct: 1, draft: 1, concise: 1, verbose: 1}"
    recipe = load_recipe(SMOKE, ["data.ops=[add, sub]", "data.train_size=400", mix, "data.style_by_level={}"])
    splits = task_of(recipe).splits(recipe)
    assert {row["op"] for row in splits["eval"]} == {"add", "sub"}
    forced = task_of(recipe).forced_styles(recipe)
    assert {(row["op"], row["style"]) for row in splits["sft"]} == {(op, s) for op in OPS for s in STYLES}
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
