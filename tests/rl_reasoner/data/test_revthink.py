"""``data.revthink``: backward questions of the arith problems, the three SFT objectives, trace noise and the
consistency filter, the backward eval split and the eval-leak check; the recipe checks and the data stage.

Whether a trace was corrupted is judged here without the module's verifier: a clean trace is exactly the
task's own trace of its problem (``trace`` with the row's style and re-check count)."""

import json
import random
import re

import pytest

from rl_reasoner.cli import main
from rl_reasoner.data.arith import OPS, STYLES, build_splits, make_problem, trace
from rl_reasoner.data.revthink import (
    QUESTION_CUE,
    RevThinkError,
    backward_problem,
    check_no_eval_leak,
    corrupt,
    revthink_splits,
    verifies,
)
from rl_reasoner.data.tasks import task_of
from rl_reasoner.pipeline import Pipeline
from rl_reasoner.recipe import RecipeError, RevThinkSection, load_recipe

SMOKE = "recipes/tiny-arith/smoke.yaml"
ALL_STYLES = {style: 1.0 for style in STYLES}
ALL = ["forward", "question", "backward"]
NOISE = 0.2


def _problem(text):
    """(op, a, b) of a question ``a+b=?`` / ``a-b=?`` parsed here with plain ints."""
    a, sign, b = re.fullmatch(r"(\d+)([+-])(\d+)=\?\n?", text).groups()
    return ("add" if sign == "+" else "sub"), int(a), int(b)


def _fact(op, a, b):
    """The unordered pair of addends of the fact ``a<op>b`` states."""
    return tuple(sorted((a, b) if op == "add" else (b, a - b)))


def _clean(completion, op, a, b, style):
    return completion == trace(a, b, style, rechecks=max(completion.count("Check:"), 1), op=op)


def _clean_row(row):
    return _clean(row["completion"], *_problem(row["prompt"]), row["style"])


def _splits(train_size, levels=(2, 3), eval_per_level=20, seed=0):
    return build_splits(list(levels), train_size, 50, eval_per_level, ALL_STYLES, seed, ops=list(OPS))


def _by_problem(rows, objective):
    return {row["problem"]: row for row in rows if row["objective"] == objective}


@pytest.fixture(scope="module")
def noisy():
    """A few thousand problems with noise, the filter off and on (the same draws)."""
    splits = _splits(4000)
    off = revthink_splits(splits, RevThinkSection(objectives=ALL, noise=NOISE, filter=False), seed=0)
    on = revthink_splits(splits, RevThinkSection(objectives=ALL, noise=NOISE), seed=0)
    return splits, off, on


def test_backward_questions_ask_the_same_fact_the_other_way_round():
    rng, picked = random.Random(1), set()
    for i in range(400):
        op, level = OPS[i % 2], 1 + i % 4
        a, b = make_problem(level, rng, op)
        back_op, x, y = backward_problem(op, a, b, rng)
        c = a + b if op == "add" else a - b
        if op == "add":
            assert back_op == "sub" and x == c and y in (a, b) and x - y == (b if y == a else a)
            picked.add(y == a)
        else:
            assert (back_op, x, y) == ("add", c, b) and x + y == a
    assert picked == {True, False}  # both operands get asked for


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("style", STYLES)
def test_clean_traces_verify_and_a_corrupted_one_has_one_wrong_result_and_does_not(op, style):
    rng = random.Random(7)
    for _ in range(30):
        a, b = make_problem(3, rng, op)
        clean = trace(a, b, style, rechecks=2, op=op)
        assert verifies(clean, op, a, b)
        assert not verifies(clean, op, a, b + 1)  # right lines, wrong problem: the boxed answer is off
        bad = corrupt(clean, rng)
        changed = [(x, y) for x, y in zip(clean.splitlines(), bad.splitlines(), strict=True) if x != y]
        assert len(changed) == 1 and not verifies(bad, op, a, b)
        before, after = changed[0]
        if style == "direct":
            assert before.startswith("\\boxed{")  # no column lines: the answer gets the wrong digit
        else:
            assert before.split("=")[:-1] == after.split("=")[:-1] or style == "draft"  # operands kept
            assert "</think>" not in before and "\\boxed" not in before  # a line of the <think> block


def test_noise_corrupts_the_expected_share_of_each_direction(noisy):
    _, (out, summary), _ = noisy
    rows = out["sft"]
    forward, backward = _by_problem(rows, "forward"), _by_problem(rows, "backward")
    assert summary["problems"] == summary["kept"] == len(forward) == len(backward) == 4000
    bad_forward = [p for p, row in forward.items() if not _clean_row(row)]
    bad_backward = [p for p, row in backward.items() if not _clean_row(row)]
    assert abs(len(bad_forward) / 4000 - NOISE) < 0.02 and abs(len(bad_backward) / 4000 - NOISE) < 0.02
    both = len(set(bad_forward) & set(bad_backward)) / 4000
    assert abs(both - NOISE**2) < 0.02  # independent draws
    for problem in bad_forward:
        assert not verifies(forward[problem]["completion"], *_problem(forward[problem]["prompt"]))


def test_the_filter_keeps_exactly_the_uncorrupted_problems(noisy):
    _, (everything, _), (out, summary) = noisy
    all_rows, rows = everything["sft"], out["sft"]
    forward, backward = _by_problem(all_rows, "forward"), _by_problem(all_rows, "backward")
    clean = {p for p in forward if _clean_row(forward[p]) and _clean_row(backward[p])}
    kept = {row["problem"] for row in rows}
    assert kept == clean and summary["kept"] == len(clean)
    assert [row for row in all_rows if row["problem"] in kept] == rows  # the same rows, only fewer
    assert summary["rows_by_objective"] == {name: len(clean) for name in ALL}
    assert abs(summary["kept_fraction"] - (1 - NOISE) ** 2) <= 0.02


def test_every_row_says_what_it_teaches_and_every_backward_answer_is_right():
    splits = _splits(300, levels=(1, 2, 3), eval_per_level=5)
    out, summary = revthink_splits(splits, RevThinkSection(objectives=ALL), seed=3)
    rows = out["sft"]
    assert summary["kept"] == summary["problems"] == 300 and len(rows) == 900  # no noise: 3N rows
    assert len({row["id"] for row in rows}) == 900
    for problem in {row["problem"] for row in rows}:
        by = {row["objective"]: row for row in rows if row["problem"] == problem}
        op, a, b = _problem(by["forward"]["prompt"])
        assert by["question"]["prompt"] == by["forward"]["prompt"] + QUESTION_CUE
        assert by["question"]["completion"] + "\n" == by["backward"]["prompt"]
        back_op, x, y = _problem(by["backward"]["prompt"])
        answer = x + y if back_op == "add" else x - y
        assert str(answer) == by["backward"]["answer"] and answer in (a, b)  # lands on a forward operand
        assert _fact(back_op, x, y) == _fact(op, a, b) and back_op != op
        assert f"\\boxed{{{answer}}}" in by["backward"]["completion"]
        assert by["backward"]["style"] == by["forward"]["style"] and by["question"]["style"] is None
        assert len({row["level"] for row in by.values()}) == 1
    for row in out["eval_backward"]:
        op, x, y = _problem(row["prompt"])
        assert row["op"] == op and int(row["answer"]) == (x + y if op == "add" else x - y)


def test_a_subset_of_objectives_gives_only_those_rows():
    splits = _splits(200)
    out, summary = revthink_splits(splits, RevThinkSection(objectives=["backward", "question"]), seed=0)
    assert {row["objective"] for row in out["sft"]} == {"question", "backward"}
    assert summary["rows_by_objective"] == {"question": 200, "backward": 200} and len(out["sft"]) == 400
    out, _ = revthink_splits(splits, RevThinkSection(objectives=["forward"]), seed=0)
    assert [(row["prompt"], row["completion"]) for row in out["sft"]] == [
        (row["prompt"], row["completion"]) for row in splits["sft"]]  # forward alone: the task's own rows


def _eval_facts(out):
    return {_fact(*_problem(row["prompt"])) for name in ("eval", "eval_backward") for row in out[name]}


def test_training_problems_sharing_an_eval_fact_are_redrawn_so_none_reaches_training():
    splits = _splits(400, levels=(1, 2), eval_per_level=15)
    before = {_fact(*_problem(row["prompt"])) for row in splits["sft"] + splits["grpo"]}
    assert before & _eval_facts({"eval": splits["eval"], "eval_backward": []})  # the task's own data leaks
    out, summary = revthink_splits(splits, RevThinkSection(objectives=ALL), seed=0)
    assert summary["redrawn"] > 0 and summary["problems"] == 400 and len(out["grpo"]) == len(splits["grpo"])
    assert out["eval"] == splits["eval"]
    for row in out["sft"] + out["grpo"]:
        asked = [row["prompt"].removesuffix(QUESTION_CUE)] + ([row["completion"]] if "=?" in
                                                               row.get("completion", "") else [])
        assert not {_fact(*_problem(text)) for text in asked} & _eval_facts(out)
        if row.get("objective") in ("forward", "backward"):
            assert _clean_row(row)


def test_the_leak_check_fires_on_an_eval_fact_in_any_form():
    splits = _splits(100)
    out, _ = revthink_splits(splits, RevThinkSection(objectives=ALL), seed=0)
    check_no_eval_leak(out)
    op, a, b = _problem(out["eval"][0]["prompt"])
    c = a + b if op == "add" else a - b
    other_way = f"{c}-{b}=?" if op == "add" else f"{b}+{c}=?"  # neither the eval nor its backward form
    leaks = [
        ("grpo", {"id": "grpo-x", "prompt": out["eval"][0]["prompt"]}),
        ("sft", {"id": "sft-x", "prompt": out["eval_backward"][0]["prompt"], "completion": ""}),
        ("sft", {"id": "sft-y", "prompt": "11+12=?\n" + QUESTION_CUE, "completion": other_way}),
    ]
    for split, row in leaks:
        expected = rf"1 training rows ask an eval problem's fact.*'{row['id']}'"
        with pytest.raises(RevThinkError, match=expected):
            check_no_eval_leak(out | {split: [*out[split], row]})


def test_a_level_without_facts_left_outside_the_eval_split_is_refused():
    splits = build_splits([1], 20, 5, 1000, ALL_STYLES, 0)  # 1000 draws cover all 55 level-1 addition facts
    with pytest.raises(RevThinkError, match="no level-1 add problem outside the eval split's facts"):
        revthink_splits(splits, RevThinkSection(objectives=ALL), seed=0)


def _data_stage(tmp_path, *overrides):
    recipe = load_recipe(SMOKE, ["report_to=none", *overrides])
    pipeline = Pipeline(recipe, runs_dir=tmp_path)
    pipeline.run(["data"], log=lambda _: None)
    data = pipeline.run_dir / "data"
    splits = {path.stem: [json.loads(line) for line in path.open()] for path in data.glob("*.jsonl")}
    return recipe, splits, json.loads((pipeline.run_dir / "manifest.json").read_text())["stages"]["data"]


def test_data_stage_writes_revthink_rows_and_a_backward_eval_split_and_records_them(tmp_path):
    on = ["data.revthink.objectives=[forward, question, backward]", "data.revthink.noise=0.3"]
    recipe, splits, entry = _data_stage(tmp_path, "data.ops=[add, sub]", *on)
    own = task_of(recipe).splits(recipe)
    assert set(splits) == {"sft", "grpo", "eval", "eval_backward"} and splits["eval"] == own["eval"]
    summary = entry["result"]["revthink"]
    assert summary["problems"] == 64 and 0 < summary["kept"] < 64
    assert summary["kept_fraction"] == round(summary["kept"] / 64, 4)
    assert summary["rows_by_objective"] == {name: summary["kept"] for name in ALL}
    assert entry["result"]["sft"] == len(splits["sft"]) == 3 * summary["kept"]
    assert entry["result"]["eval_backward"] == len(splits["eval_backward"]) == len(own["eval"])
    for row in splits["sft"]:
        if row["objective"] != "question":
            assert verifies(row["completion"], *_problem(row["prompt"]))  # the filter let no corrupt trace by


def test_without_objectives_the_data_stage_writes_the_tasks_own_splits(tmp_path):
    recipe, splits, entry = _data_stage(tmp_path, "data.revthink.noise=0.5", "data.revthink.filter=false")
    assert splits == task_of(recipe).splits(recipe) and "revthink" not in entry["result"]


@pytest.mark.parametrize(
    "override, message",
    [
        ("data.revthink.objectives=[]", "'objectives' must be distinct names among ['forward', 'question', "
                                        "'backward'] (at least one), or null (off), got []"),
        ("data.revthink.objectives=[forward, forward]", "'objectives' must be distinct names among"),
        ("data.revthink.objectives=[sideways]", "got ['sideways']"),
        ("data.revthink.noise=1", "'noise' (the chance a trace is corrupted) must be in [0, 1), got 1"),
        ("data.revthink.noise=-0.1", "must be in [0, 1), got -0.1"),
        ("data.revthink.noise=lots", "invalid value for 'data.revthink.noise': expected float"),
        ("data.revthink.filter=maybe", "invalid value for 'data.revthink.filter': expected bool"),
        ("data.revthink.objectives=forward", "invalid value for 'data.revthink.objectives'"),
        ("data.revthink.consistency=true", "unknown key 'consistency' in section 'data.revthink'"),
    ],
)
def test_bad_revthink_settings_are_one_paragraph_recipe_errors(override, message):
    with pytest.raises(RecipeError) as caught:
        load_recipe(SMOKE, [override])
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "data.revthink" in str(caught.value)


def test_revthink_needs_the_arith_task_and_its_own_traces(capsys):
    hub = ["data.task=hub", "data.hub.dataset=some/data", "data.revthink.objectives=[forward]"]
    with pytest.raises(RecipeError, match=r"'revthink' only applies to 'task: arith' \(only it can build "
                                          r"backward questions; task 'hub' cannot\)"):
        load_recipe(SMOKE, hub)
    with pytest.raises(RecipeError, match="remove one of data.revthink.objectives and data.teacher.model"):
        load_recipe(SMOKE, ["data.revthink.objectives=[forward]", "data.teacher.model=org/teacher"])
    assert main(["check", SMOKE, "report_to=none", *hub]) == 2
    assert "only applies to 'task: arith'" in capsys.readouterr().err
    assert main(["check", SMOKE, "report_to=none", "data.revthink.objectives=[question, backward]"]) == 0
