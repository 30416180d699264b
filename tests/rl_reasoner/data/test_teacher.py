"""``data.teacher``: SFT traces sampled from a real (tiny) model, verified against each row's answer and
selected; the recipe checks and the data stage's record of it.

The teacher is the chain model of ``conftest.py``: to any prompt ending in a newline it writes ``\\boxed{12}``
when every sampled step stays on the chain, else it wanders off; so its samples are a mix of right answers,
wrong ones and truncated ones, and it is right only on rows whose answer is 12.
"""

import json
import shutil

import pytest

from rewards.verify import verify
from rl_reasoner.data.arith import trace, trace_style
from rl_reasoner.data.tasks import task_of
from rl_reasoner.data.teacher import (
    Sample,
    TeacherError,
    distil_sft_rows,
    reliable_lengths,
    sample_teacher,
    style_mix_by_level,
    teacher_rows,
)
from rl_reasoner.generation import load_policy
from rl_reasoner.pipeline import Pipeline
from rl_reasoner.preflight import PreflightError, preflight
from rl_reasoner.recipe import RecipeError, TeacherSection, load_recipe

SMOKE = "recipes/tiny-arith/smoke.yaml"
K, BUDGET = 8, 32
ROWS = [
    {"id": f"sft-{i}", "level": 1 + i % 2, "prompt": f"{a}+{12 - a}=?\n", "answer": "12", "style": "verbose",
     "completion": trace(a, 12 - a, "verbose")}
    for i, a in enumerate(range(3, 10))
] + [{"id": "sft-7", "level": 1, "prompt": "4+9=?\n", "answer": "13", "style": "direct",
      "completion": trace(4, 9, "direct")}]


@pytest.fixture(scope="module")
def samples(answer_model):
    model, tokenizer = load_policy(str(answer_model), device="cpu")
    settings = TeacherSection(model=str(answer_model), k=K, max_new_tokens=BUDGET)
    return sample_teacher(model, tokenizer, ROWS, settings, seed=0)


def _by_id(rows):
    return {row["id"]: row for row in rows}


def test_every_prompt_gets_k_samples_verified_against_its_own_answer(samples):
    assert [len(row_samples) for row_samples in samples] == [K] * len(ROWS)
    for row, row_samples in zip(ROWS, samples, strict=True):
        for s in row_samples:
            ended = s.tokens < BUDGET
            assert s.correct == (ended and verify(row["answer"], s.text, mode="strict") is True)
    flat = [s for row_samples in samples for s in row_samples]
    assert any(s.correct for s in flat) and not all(s.correct for s in flat)  # a real mix to select from
    assert not any(s.correct for s in samples[-1])  # it writes 12: never right on the row whose answer is 13


def test_shortest_correct_keeps_the_shortest_verified_sample_and_drops_prompts_without_one(samples):
    selected = _by_id(teacher_rows(ROWS, samples, "shortest_correct", trace_style))
    dropped = {row["id"] for row, row_samples in zip(ROWS, samples, strict=True)
               if not any(s.correct for s in row_samples)}
    assert "sft-7" in dropped and set(selected) == {row["id"] for row in ROWS} - dropped
    for row, row_samples in zip(ROWS, samples, strict=True):
        if row["id"] in dropped:
            continue
        chosen = selected[row["id"]]
        correct = [s for s in row_samples if s.correct]
        shortest = min(s.tokens for s in correct)
        assert chosen["completion"] in [s.text for s in correct if s.tokens == shortest]
        assert verify(row["answer"], chosen["completion"], mode="strict") is True
        assert chosen["teacher"] == {"samples": K, "correct": len(correct), "tokens": shortest}
        assert {k: chosen[k] for k in ("id", "level", "prompt", "answer")} == {
            k: row[k] for k in ("id", "level", "prompt", "answer")}
        assert "style" not in chosen  # "\boxed{12}" opens none of the arith styles
    first_correct_longer = [next(s for s in rs if s.correct).tokens > min(s.tokens for s in rs if s.correct)
                            for rs in samples if any(s.correct for s in rs)]
    assert any(first_correct_longer)  # somewhere "the first correct one" would have been the wrong pick


def test_shortest_reliable_keeps_the_shortest_verified_sample_longer_than_every_wrong_one(samples):
    selected = _by_id(teacher_rows(ROWS, samples, "shortest_reliable", trace_style))
    differs = 0
    for row, row_samples in zip(ROWS, samples, strict=True):
        correct = [s for s in row_samples if s.correct]
        if not correct:
            assert row["id"] not in selected
            continue
        chosen = selected[row["id"]]
        assert verify(row["answer"], chosen["completion"], mode="strict") is True
        wrong = max((s.tokens for s in row_samples if not s.correct), default=-1)
        longer = [s.tokens for s in correct if s.tokens > wrong]
        expected = min(longer) if longer else max(s.tokens for s in correct)
        assert chosen["teacher"]["tokens"] == expected
        differs += expected != min(s.tokens for s in correct)
    assert differs  # somewhere a right answer as short as a wrong one was passed over


def _styled(a: int, b: int, style: str, right: bool) -> Sample:
    text = trace(a, b, style)
    return Sample(text if right else text.replace(f"{{{a + b}}}", f"{{{a + b + 1}}}"), len(text), right)


def test_level_reliable_keeps_each_levels_shortest_style_that_is_right_about_as_often_as_its_best():
    # A verbose-leaning teacher: direct right at level 1 only, concise right at levels 1-2 and at level 3
    # only on every other prompt (by luck), verbose right everywhere but one slipped sample per level.
    rows, samples = [], []
    for level, (a, b) in {1: (7, 5), 2: (47, 38), 3: (478, 356)}.items():
        for i in range(20):
            prompt = f"{a}+{b}=?\n"
            rows.append({"id": f"sft-{level}-{i}", "level": level, "prompt": prompt, "answer": str(a + b)})
            samples.append([_styled(a, b, "direct", level == 1 or i == 0),
                            _styled(a, b, "concise", level < 3 or i % 2 == 0),
                            *(_styled(a, b, "verbose", i != 2 or j == 0) for j in range(2))])
    floors = reliable_lengths(rows, samples, margin=0.05)
    lengths = {style: [len(trace(a, b, style)) for a, b in ((7, 5), (47, 38), (478, 356))]
               for style in ("direct", "concise", "verbose")}
    assert floors == {"1": lengths["direct"][0], "2": lengths["concise"][1], "3": lengths["verbose"][2]}
    chosen = teacher_rows(rows, samples, "level_reliable", trace_style, margin=0.05)
    by_level = {lv: {row["style"] for row in chosen if row["level"] == lv} for lv in (1, 2, 3)}
    assert by_level == {1: {"direct"}, 2: {"concise"}, 3: {"verbose"}}
    assert len(chosen) == len(rows)
    assert all(verify(r["answer"], r["completion"], mode="strict") for r in chosen)
    # the controls: shortest_correct keeps lucky short answers at levels 2 and 3,
    # shortest_reliable (one prompt's samples) drops level 2's concise where a verbose sample slipped
    shortest = teacher_rows(rows, samples, "shortest_correct", trace_style)
    assert {row["style"] for row in shortest if row["level"] == 3} == {"direct", "concise", "verbose"}
    assert {row["style"] for row in shortest if row["level"] == 2} == {"direct", "concise"}
    per_prompt = teacher_rows(rows, samples, "shortest_reliable", trace_style)
    assert "verbose" in {row["style"] for row in per_prompt if row["level"] == 2}
    # with no margin a level's best bin alone is reliable: level 1's direct answers (20 of 20) still are
    assert reliable_lengths(rows, samples, margin=0.0)["1"] == lengths["direct"][0]


def test_level_reliable_keeps_the_longest_right_sample_where_every_right_one_is_short(samples):
    floors = reliable_lengths(ROWS, samples, margin=0.05)
    selected = _by_id(teacher_rows(ROWS, samples, "level_reliable", trace_style, margin=0.05))
    for row, row_samples in zip(ROWS, samples, strict=True):
        correct = [s.tokens for s in row_samples if s.correct]
        if not correct:
            assert row["id"] not in selected
            continue
        floor = floors[str(row["level"])]
        expected = min((t for t in correct if t >= floor), default=max(correct))
        assert selected[row["id"]]["teacher"]["tokens"] == expected


def test_first_control_keeps_the_first_sample_right_or_wrong(samples):
    selected = teacher_rows(ROWS, samples, "first", trace_style)
    assert [row["id"] for row in selected] == [row["id"] for row in ROWS]
    assert [row["completion"] for row in selected] == [row_samples[0].text for row_samples in samples]
    assert any(not row_samples[0].correct for row_samples in samples)  # so wrong traces were kept


def test_shortest_control_keeps_the_shortest_sample_right_or_wrong(samples):
    selected = teacher_rows(ROWS, samples, "shortest", trace_style)
    assert len(selected) == len(ROWS)
    for row, row_samples in zip(selected, samples, strict=True):
        first_shortest = min(row_samples, key=lambda s: s.tokens)
        assert row["completion"] == first_shortest.text and row["teacher"]["tokens"] == first_shortest.tokens
    beats_correct = [min(s.tokens for s in rs) < min((s.tokens for s in rs if s.correct), default=BUDGET + 1)
                     for rs in samples]
    assert any(beats_correct)  # somewhere the shortest sample is not a correct one


def test_selected_rows_get_the_style_the_task_reads_off_the_completion():
    row = {"id": "sft-0", "level": 2, "prompt": "47+38=?\n", "answer": "85", "style": "verbose"}
    row_samples = [Sample(trace(47, 38, "verbose"), 60, True), Sample(trace(47, 38, "concise"), 30, True),
                   Sample(trace(47, 38, "direct"), 9, False)]
    (chosen,) = teacher_rows([row], [row_samples], "shortest_correct", trace_style)
    assert chosen["style"] == "concise" and chosen["teacher"] == {"samples": 3, "correct": 2, "tokens": 30}
    (control,) = teacher_rows([row], [row_samples], "shortest", trace_style)
    assert control["style"] == "direct"
    mix = style_mix_by_level([chosen, control, control | {"level": 1}, {"level": 1}])
    assert mix == {"1": {"direct": 0.5, "other": 0.5}, "2": {"concise": 0.5, "direct": 0.5}}


def test_a_teacher_that_is_never_right_stops_with_the_prompt_count_and_accuracy(answer_model, tmp_path):
    rows = [dict(ROWS[-1], id=f"sft-{i}") for i in range(3)]  # answer 13: the teacher only writes 12
    settings = TeacherSection(model=str(answer_model), k=2, max_new_tokens=16)
    expected = r"none of the 3 SFT prompts correctly \(accuracy 0% over 6 samples"
    with pytest.raises(TeacherError, match=expected):
        distil_sft_rows(rows, settings, seed=0, style_of=trace_style, out=tmp_path)


def _data_stage(tmp_path, *overrides):
    recipe = load_recipe(SMOKE, ["report_to=none", "data.levels=[1]", "data.train_size=120", *overrides])
    pipeline = Pipeline(recipe, runs_dir=tmp_path)
    pipeline.run(["data"], log=lambda _: None)
    data = pipeline.run_dir / "data"
    splits = {name: [json.loads(line) for line in (data / f"{name}.jsonl").open()]
              for name in ("sft", "grpo", "eval")}
    return recipe, splits, json.loads((pipeline.run_dir / "manifest.json").read_text())["stages"]["data"]


def test_data_stage_writes_the_teachers_traces_and_records_them_in_the_manifest(tmp_path, answer_model):
    teacher = [f"data.teacher.model={answer_model}", "data.teacher.k=4", "data.teacher.max_new_tokens=16"]
    recipe, splits, entry = _data_stage(tmp_path, *teacher)
    own = task_of(recipe).splits(recipe)
    assert splits["grpo"] == own["grpo"] and splits["eval"] == own["eval"]  # only the SFT traces change
    summary = entry["result"]["teacher"]
    sft = splits["sft"]
    assert summary["selected"] == len(sft) == entry["result"]["sft"] >= 1
    assert summary["dropped"] == 120 - len(sft) and 0 < summary["accuracy"] < 1
    assert summary["style_mix_by_level"] == {"1": {"other": 1.0}}
    assert {row["answer"] for row in sft} == {"12"}  # every kept trace verified, and the teacher only says 12
    for row in sft:
        assert row["teacher"]["samples"] == 4 and row["teacher"]["correct"] >= 1 and "style" not in row
        assert row["completion"] not in {r["completion"] for r in own["sft"]}


def test_an_earlier_draw_is_reselected_from_its_first_k_samples_without_the_teacher(tmp_path, answer_model):
    teacher = tmp_path / "teacher"
    shutil.copytree(answer_model, teacher)
    draw = [f"data.teacher.model={teacher}", "data.teacher.k=4", "data.teacher.max_new_tokens=16"]
    recipe, first, _ = _data_stage(tmp_path / "a", *draw)
    saved = tmp_path / "a" / "tiny-arith-smoke" / "data" / "teacher-samples.jsonl"
    header, *lines = saved.read_text().splitlines()
    assert json.loads(header)["teacher"] == {"model": str(teacher), "temperature": 1.0, "max_new_tokens": 16,
                                             "k": 4}
    records = [json.loads(line) for line in lines]
    assert len(records) == 120 and {len(r["samples"]) for r in records} == {4}
    shutil.rmtree(teacher)  # what follows must not sample: the teacher is gone
    reuse = [*draw, f"data.teacher.samples={saved}"]
    _, again, _ = _data_stage(tmp_path / "b", *reuse)
    assert again["sft"] == first["sft"]  # all 4 samples: the same selection
    _, two, entry = _data_stage(tmp_path / "c", *reuse, "data.teacher.k=2")
    expected = {}  # the shortest correct of each row's first two samples, judged here from the file
    for r, row in zip(records, task_of(recipe).splits(recipe)["sft"], strict=True):
        right = [s for s in r["samples"][:2]
                 if not s["truncated"] and verify(row["answer"], s["text"], mode="strict") is True]
        if right:
            expected[r["id"]] = min(right, key=lambda s: s["tokens"])["text"]
    assert {row["id"]: row["completion"] for row in two["sft"]} == expected
    assert all(row["teacher"]["samples"] == 2 for row in two["sft"]) and len(expected) < len(first["sft"])
    assert entry["result"]["teacher"]["selected"] == len(expected)


@pytest.mark.parametrize(
    "override, message",
    [
        ("data.teacher.k=5", "data.teacher.k is 5 but data.teacher.samples .* holds 4 samples per prompt"),
        ("data.teacher.temperature=0.7", r"was drawn with {temperature: 1.0}, this recipe's data.teacher has "
                                         r"{temperature: 0.7}"),
        ("data.teacher.model=org/other", "was drawn with {model: '.*model'}, .* has {model: 'org/other'}"),
        ("data.train_size=121", "holds 120 prompts that are not this run's 121 SFT prompts"),
    ],
)
def test_an_earlier_draw_of_another_teacher_setting_or_prompt_set_is_refused(tmp_path, answer_model,
                                                                            override, message):
    draw = [f"data.teacher.model={answer_model}", "data.teacher.k=4", "data.teacher.max_new_tokens=16"]
    saved = tmp_path / "a" / "tiny-arith-smoke" / "data" / "teacher-samples.jsonl"
    _data_stage(tmp_path / "a", *draw)
    with pytest.raises(TeacherError, match=message) as caught:
        _data_stage(tmp_path / "b", *draw, f"data.teacher.samples={saved}", override)
    assert "\n" not in str(caught.value)


def test_without_a_teacher_the_data_stage_writes_the_tasks_own_splits(tmp_path):
    recipe, splits, entry = _data_stage(tmp_path)
    assert splits == task_of(recipe).splits(recipe) and "teacher" not in entry["result"]


@pytest.mark.parametrize(
    "override, message",
    [
        ("data.teacher.k=0", "'k' (samples per prompt) must be >= 1, got 0"),
        ("data.teacher.select=longest", "'select' must be one of ['shortest_correct', 'first', 'shortest', "
                                        "'shortest_reliable', 'level_reliable']"),
        ("data.teacher.margin=1", "'margin' must be in [0, 1) (an accuracy gap), got 1"),
        ("data.teacher.margin=-0.1", "'margin' must be in [0, 1) (an accuracy gap), got -0.1"),
        ("data.teacher.temperature=0", "'temperature' must be > 0"),
        ("data.teacher.temperature=-1.5", "'temperature' must be > 0"),
        ("data.teacher.max_new_tokens=0", "'max_new_tokens' must be >= 1, got 0"),
        ("data.teacher.batch_size=0", "'batch_size' must be >= 1, got 0"),
        ("data.teacher.model=''", "'model' must be a folder or hub id, or null"),
        ("data.teacher.model=3", "invalid value for 'data.teacher.model': expected str | None"),
        ("data.teacher.k=two", "invalid value for 'data.teacher.k': expected int"),
        ("data.teacher.draws=8", "unknown key 'draws' in section 'data.teacher'"),
        ("data.teacher.samples=a.jsonl", "'samples' re-selects an earlier draw of data.teacher.model's"),
    ],
)
def test_bad_teacher_settings_are_one_paragraph_recipe_errors(override, message):
    with pytest.raises(RecipeError) as caught:
        load_recipe(SMOKE, [override])
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "data.teacher" in str(caught.value)


def test_a_teacher_neither_a_folder_nor_a_hub_id_is_refused_before_anything_runs(tmp_path, answer_model):
    missing = load_recipe(SMOKE, ["report_to=none", f"data.teacher.model={tmp_path / 'no/such/model'}"])
    with pytest.raises(PreflightError, match="data.teacher.model .* neither an existing local folder nor"):
        preflight(missing)
    preflight(load_recipe(SMOKE, ["report_to=none", f"data.teacher.model={answer_model}"]))
    preflight(load_recipe(SMOKE, ["report_to=none", "data.teacher.model=Qwen/Qwen2.5-Math-1.5B"]))
    absent = [f"data.teacher.model={answer_model}", f"data.teacher.samples={tmp_path / 'none.jsonl'}"]
    with pytest.raises(PreflightError, match="data.teacher.samples .*none.jsonl' is not a file; point it at"):
        preflight(load_recipe(SMOKE, ["report_to=none", *absent]))
