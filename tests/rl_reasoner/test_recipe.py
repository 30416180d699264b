"""Tests for rl_reasoner.recipe: strict YAML recipes."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest
import yaml

import rl_reasoner.recipe as recipe_mod
from rl_reasoner.recipe import (
    Recipe,
    RecipeError,
    RewardSpec,
    TinyModelSpec,
    load_recipe,
    parse_override,
    recipe_from_dict,
    recipe_to_dict,
)

FULL = """\
# run with: rl-reasoner run recipes/tiny-arith/demo.yaml
name: tiny-arith-demo
seed: 3
model:
  base: tiny
  tiny: {layers: 2, hidden: 64, heads: 4, intermediate: 256, max_positions: 256}
data:
  task: arith
  levels: [1, 2, 3]
  train_size: 500
  grpo_size: 50
  eval_per_level: 10
  style_mix: {direct: 0.15, concise: 0.25, verbose: 0.60}
sft: {learning_rate: 1e-4, num_train_epochs: 2, lr_scheduler_type: cosine, bf16: false}
grpo: {num_generations: 4, loss_type: dr_grpo, beta: 0.04, max_completion_length: 128}
rewards:
  - {name: accuracy, weight: 1}
  - {name: below_mean_bonus, weight: 0.5, params: {mode: discrete}}
baselines:
  accuracy-only: {rewards: [{name: accuracy, weight: 1.0}]}
eval: {batch_size: 32, max_new_tokens: null, oracle_threshold: 0.99}
report_to: none
wandb: {project: rl-reasoner, mode: offline}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, overrides: tuple[str, ...] = ()) -> str:
    with pytest.raises(RecipeError) as info:
        load_recipe(path, overrides)
    message = str(info.value)
    assert "\n" not in message, "error messages are one paragraph"
    return message


@pytest.fixture
def full(tmp_path: Path) -> Path:
    return write(tmp_path, "full.yaml", FULL)


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    return write(tmp_path, "minimal.yaml", "name: mini\n")


def test_full_recipe_loads_with_types_converted(full: Path) -> None:
    r = load_recipe(full)
    assert r.name == "tiny-arith-demo" and r.seed == 3
    assert r.model.tiny == TinyModelSpec(layers=2, hidden=64, heads=4, intermediate=256, max_positions=256)
    assert r.data.levels == [1, 2, 3] and r.data.style_mix["verbose"] == 0.60
    assert r.sft["learning_rate"] == pytest.approx(1e-4) and isinstance(r.sft["learning_rate"], float)
    assert r.sft["num_train_epochs"] == 2 and isinstance(r.sft["num_train_epochs"], int)  # ints stay ints
    assert r.grpo == dict(num_generations=4, loss_type="dr_grpo", beta=0.04, max_completion_length=128)
    assert r.rewards[1] == RewardSpec("below_mean_bonus", 0.5, {"mode": "discrete"})
    assert r.rewards[0] == RewardSpec("accuracy", 1.0)
    assert r.baselines["accuracy-only"].rewards == [RewardSpec("accuracy", 1.0)]
    assert r.eval.max_new_tokens is None and r.eval.batch_size == 32
    assert r.report_to == "none" and r.wandb.mode == "offline"


def test_round_trip_through_dict_json_and_yaml(full: Path, tmp_path: Path) -> None:
    r = load_recipe(full)
    data = recipe_to_dict(r)
    assert json.loads(json.dumps(data)) == data
    assert recipe_from_dict(data) == r
    again = write(tmp_path, "again.yaml", yaml.safe_dump(data))
    assert load_recipe(again) == r


def test_defaults_come_from_the_dataclasses(minimal: Path) -> None:
    r = load_recipe(minimal)
    assert r == Recipe(name="mini")
    assert r.model.base == "tiny" and r.data.levels == [1, 2, 3, 4] and r.sft == {} and r.baselines == {}
    assert r.rewards == [RewardSpec("accuracy", 1.0)]


def test_load_creates_nothing(full: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    load_recipe(full, ["name=other"])
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    ("override", "key", "section", "suggestion"),
    [
        ("grpo.learning_rat=1e-4", "learning_rat", "grpo", "learning_rate"),
        ("sft.num_train_epoch=1", "num_train_epoch", "sft", "num_train_epochs"),
        ("model.tiny.layer=2", "layer", "model.tiny", "layers"),
        ("rewards.1.wieght=2", "wieght", "rewards[1]", "weight"),
        ("baselines.accuracy-only.reward=[]", "reward", "baselines.accuracy-only", "rewards"),
        ("sede=1", "sede", "(top level)", "seed"),
        ("data.style_mx={}", "style_mx", "data", "style_mix"),
    ],
)
def test_unknown_key_names_key_section_and_suggestion(
    full: Path, override: str, key: str, section: str, suggestion: str
) -> None:
    message = error_of(full, (override,))
    assert f"unknown key '{key}' in section '{section}'; did you mean '{suggestion}'?" in message
    assert "Valid keys are the fields of" in message


def test_unknown_key_in_file_nested_list_and_docs_pointer(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "name: x\nbaselines: {b: {rewards: [{name: a, weight: 1, parms: 0}]}}\n")
    message = error_of(path)
    assert "'parms' in section 'baselines.b.rewards[0]'; did you mean 'params'?" in message
    assert "RewardSpec in rl_reasoner/recipe.py" in message
    grpo = write(tmp_path, "g.yaml", "name: x\ngrpo: {zzzzzz: 1}\n")
    message = error_of(grpo)
    assert "unknown key 'zzzzzz' in section 'grpo'." in message and "trl.GRPOConfig" in message


@pytest.mark.parametrize("key", ["output_dir", "run_name", "resume_from_checkpoint"])
@pytest.mark.parametrize("section", ["sft", "grpo"])
def test_runner_managed_fields_are_rejected(tmp_path: Path, section: str, key: str) -> None:
    path = write(tmp_path, "r.yaml", f"name: x\n{section}: {{{key}: somewhere}}\n")
    message = error_of(path)
    assert f"'{section}.{key}'" in message and "runner sets it under runs/<name>/" in message


def test_missing_file(tmp_path: Path) -> None:
    message = error_of(tmp_path / "nope.yaml")
    assert "no such recipe file" in message and "nope.yaml" in message


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "name: x\nseed: 1\nmodel: {base: tiny\n")
    message = error_of(path)
    assert "bad.yaml" in message and "invalid YAML" in message and "line 4" in message


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", "name: x\nseed: 1\nseed: 2\n")
    message = error_of(path)
    assert "duplicate key 'seed'" in message and "line 3" in message and "dup.yaml" in message


@pytest.mark.parametrize("text", ["- name: x\n", "just a string\n", ""])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    assert "top level must be a mapping" in error_of(write(tmp_path, "r.yaml", text))


def test_an_unknown_task_lists_the_tasks_table(full: Path) -> None:
    from rl_reasoner.data.tasks import TASKS

    message = error_of(full, ("data.task=algebra",))
    assert f"unknown task 'algebra'; valid tasks: {list(TASKS)}" in message


@pytest.mark.parametrize(
    ("override", "where", "expected"),
    [
        ("sft.bf16=1", "sft.bf16", "bool | None"),
        ("sft.bf16=0", "sft.bf16", "bool | None"),
        ("sft.bf16='true'", "sft.bf16", "bool | None"),
        ("grpo.log_completions=1", "grpo.log_completions", "bool"),
        ("seed=true", "seed", "int"),
        ("grpo.num_generations=4.5", "grpo.num_generations", "int | None"),
        ("grpo.max_grad_norm=big", "grpo.max_grad_norm", "float"),
        ("grpo.label_names=[1, x]", "grpo.label_names", "list[str] | None"),
        ("data.levels=1", "data.levels", "list[int]"),
        ("report_to=tensorboard", "report_to", "Literal['wandb', 'none']"),
        ("wandb.mode=sometimes", "wandb.mode", "Literal['offline', 'online', 'disabled']"),
        ("data.task=3", "data.task", "str"),
        ("rewards.0.weight=heavy", "rewards[0].weight", "float"),
        ("rewards.0.params=[1]", "rewards[0].params", "dict[str, Any]"),
        ("eval.max_new_tokens=1.5", "eval.max_new_tokens", "int | None"),
        ("model.base=3", "model.base", "str"),
        ("grpo.trackio_static_space_id=0", "grpo.trackio_static_space_id", "str | None | Literal[False]"),
    ],
)
def test_wrong_types_name_the_key_expected_type_and_value(
    full: Path, override: str, where: str, expected: str
) -> None:
    message = error_of(full, (override,))
    assert f"invalid value for '{where}': expected {expected}, got" in message
    assert repr(parse_override(override)[1]) in message


def test_bool_fields_accept_only_booleans(full: Path) -> None:
    r = load_recipe(full, ["sft.bf16=true", "grpo.log_completions=false"])
    assert r.sft["bf16"] is True and r.grpo["log_completions"] is False


def test_enum_and_choices_fields(full: Path) -> None:
    assert load_recipe(full, ["sft.lr_scheduler_type=cosine_with_restarts"]).sft["lr_scheduler_type"] == (
        "cosine_with_restarts"
    )
    message = error_of(full, ("sft.lr_scheduler_type=cosin",))
    assert "'sft.lr_scheduler_type'" in message and "'cosine'" in message
    message = error_of(full, ("grpo.log_level=loud",))
    assert "'grpo.log_level'" in message and "'loud' is not one of" in message and "'info'" in message


def test_grpo_fields_accepted(full: Path) -> None:
    r = load_recipe(full, ["grpo.num_generations=8", "grpo.loss_type=grpo", "grpo.epsilon_high=0.28"])
    assert r.grpo["num_generations"] == 8 and r.grpo["loss_type"] == "grpo" and r.grpo["epsilon_high"] == 0.28


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("data.levels=[0, 1]", "'levels' must be distinct numbers in 1..9"),
        ("data.levels=[]", "'levels' must be distinct numbers in 1..9"),
        ("data.levels=[2, 2]", "'levels' must be distinct numbers in 1..9"),
        ("data.train_size=0", "in section 'data': 'train_size' must be > 0"),
        ("data.style_mix={fast: 1.0}", "'style_mix' key 'fast' is not one of the styles"),
        ("data.style_mix={direct: 0, verbose: 0}", "'style_mix' weights must sum to > 0"),
        ("data.style_mix={direct: -1, verbose: 2}", "weight for 'direct' must be >= 0"),
        ("data.style_by_level={1: {fast: 1}}", "'style_by_level.1' key 'fast' is not one of the styles"),
        ("data.ops=[mul]", "in section 'data': 'ops' must be distinct operations among ['add', 'sub']"),
        ("data.ops=[]", "'ops' must be distinct operations among ['add', 'sub'] (at least one), got []"),
        ("data.ops=[sub, sub]", "'ops' must be distinct operations among ['add', 'sub'] (at least one)"),
        ("data.ops=add", "invalid value for 'data.ops': expected list[str], got str 'add'"),
        ("data.teacher_slip=1.5", "'teacher_slip' must be in [0, 1], and 0 unless 'task: arith', got 1.5"),
        ("data.teacher_slip=-0.1", "'teacher_slip' must be in [0, 1]"),
        ("eval.oracle_threshold=0", "'oracle_threshold' must be in (0, 1]"),
        ("eval.oracle_threshold=1.5", "'oracle_threshold' must be in (0, 1]"),
        ("eval.batch_size=0", "'batch_size' must be > 0"),
        ("model.tiny.heads=3", "in section 'model.tiny': 'hidden' (64) must be divisible by 'heads' (3)"),
        ("name=runs/x", "'name' must match [A-Za-z0-9._-]+"),
        ("name=..", "'name' must match [A-Za-z0-9._-]+"),
        ("seed=-1", "'seed' must be >= 0"),
        ("baselines={'a b': {rewards: []}}", "baseline name must match"),
    ],
)
def test_value_constraints(full: Path, override: str, fragment: str) -> None:
    assert fragment in error_of(full, (override,))


@pytest.mark.parametrize("other", ["data.revthink.objectives=[forward]", "data.teacher.model=/some/teacher"])
def test_a_size_line_only_goes_on_the_task_s_own_traces(full: Path, other: str) -> None:
    assert load_recipe(full, ("data.size_line=true",)).data.size_line is True
    message = error_of(full, ("data.size_line=true", other))
    assert "'size_line' writes the arith task's own traces: false with a teacher or revthink" in message


def test_ops_default_to_addition_and_belong_to_the_arith_task(full: Path) -> None:
    assert load_recipe(full).data.ops == ["add"]
    assert load_recipe(full, ("data.ops=[sub, add]",)).data.ops == ["sub", "add"]
    hub = ("data.task=hub", "data.hub.dataset=rows.jsonl")
    assert load_recipe(full, hub).data.ops == ["add"]
    message = error_of(full, (*hub, "data.ops=[add, sub]"))
    assert "'ops' only applies to 'task: arith'" in message and "\n" not in message


def test_draft_is_a_style_a_recipe_may_mix_in_but_no_default_mix_has(full: Path) -> None:
    drafted = load_recipe(full, ("data.style_by_level={3: {draft: 1.0}}",))
    assert drafted.data.style_by_level == {3: {"draft": 1.0}}
    assert "draft" not in load_recipe(full).data.style_mix and "draft" not in Recipe(name="x").data.style_mix
    message = error_of(full, ("data.style_mix={drafty: 1.0}",))
    assert "is not one of the styles ['direct', 'draft', 'concise', 'verbose']" in message


def test_missing_required_keys(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "r.yaml", "seed: 1\n"))
    assert "missing required key 'name' in section '(top level)'" in message
    path = write(tmp_path, "w.yaml", "name: x\nrewards: [{name: accuracy}]\n")
    assert "missing required key 'weight' in section 'rewards[0]'" in error_of(path)


def test_inheritance_deep_merges_mappings_and_replaces_lists(full: Path, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    child = write(tmp_path / "sub", "child.yaml", (
        "inherit: ../full.yaml\nname: child\nmodel: {tiny: {layers: 6}}\ndata: {levels: [5]}\n"
        "grpo: {beta: 0.0}\n"
    ))
    r = load_recipe(child)
    assert r.name == "child" and r.seed == 3
    assert r.model.tiny.layers == 6 and r.model.tiny.hidden == 64
    assert r.data.levels == [5] and r.data.train_size == 500
    assert r.grpo["beta"] == 0.0 and r.grpo["num_generations"] == 4
    grandchild = write(tmp_path, "grand.yaml", "inherit: sub/child.yaml\nseed: 9\n")
    r2 = load_recipe(grandchild)
    assert (r2.name, r2.seed, r2.model.tiny.layers, r2.sft["lr_scheduler_type"]) == ("child", 9, 6, "cosine")


def test_inheritance_cycle_and_missing_parent(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "inherit: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "inherit: a.yaml\nseed: 1\n")
    message = error_of(a)
    assert "inheritance cycle" in message and "a.yaml -> " in message and "b.yaml" in message
    assert "inheritance cycle" in error_of(write(tmp_path, "self.yaml", "inherit: self.yaml\nname: s\n"))
    message = error_of(write(tmp_path, "orphan.yaml", "inherit: gone.yaml\nname: o\n"))
    assert "no such recipe file" in message and "gone.yaml" in message and "orphan.yaml" in message


def test_inherit_errors_outside_files(tmp_path: Path) -> None:
    assert "'inherit' must be a file path" in error_of(write(tmp_path, "r.yaml", "inherit: [a]\nname: x\n"))
    with pytest.raises(RecipeError, match="'inherit' only works in recipe files"):
        recipe_from_dict({"name": "x", "inherit": "a.yaml"})


def test_parse_override() -> None:
    assert parse_override("grpo.learning_rate=1e-4") == (["grpo", "learning_rate"], 0.0001)
    assert parse_override("rewards.1.weight=0.3") == (["rewards", "1", "weight"], 0.3)
    assert parse_override("data.levels=[1, 2]") == (["data", "levels"], [1, 2])
    assert parse_override("eval.max_new_tokens=") == (["eval", "max_new_tokens"], None)
    assert parse_override("name=a=b") == (["name"], "a=b")
    for bad in ("grpo.beta", "=3", "grpo..beta=1"):
        with pytest.raises(RecipeError, match="must look like key.path=value"):
            parse_override(bad)


def test_overrides_apply_after_inheritance(full: Path, tmp_path: Path) -> None:
    child = write(tmp_path, "child.yaml", "inherit: full.yaml\nname: child\n")
    overrides = ["name=foo", "rewards.1.weight=0.3", "grpo.learning_rate=5e-6", "model.tiny.layers=1"]
    r = load_recipe(child, overrides)
    assert r.name == "foo" and r.rewards[1].weight == 0.3 and r.model.tiny.layers == 1
    assert r.grpo["learning_rate"] == pytest.approx(5e-6) and isinstance(r.grpo["learning_rate"], float)
    assert r.rewards[1].params == {"mode": "discrete"}  # the rest of the list item is kept


def test_overrides_fill_sections_left_to_defaults(minimal: Path) -> None:
    r = load_recipe(minimal, ["model.tiny.layers=2", "eval.max_new_tokens=64"])
    assert r.model.tiny == TinyModelSpec(layers=2) and r.eval.max_new_tokens == 64


def test_override_errors(full: Path, minimal: Path) -> None:
    assert "'5' is not an index into 'rewards' (2 items)" in error_of(full, ("rewards.5.weight=1",))
    assert "'x' is not an index into 'rewards'" in error_of(full, ("rewards.x.weight=1",))
    assert "the recipe sets no list 'rewards' to index" in error_of(minimal, ("rewards.0.weight=1",))
    assert "'model.base' is a str" in error_of(full, ("model.base.path=1",))
    message = error_of(full, ("grpo.learning_rat=1",))
    assert "unknown key 'learning_rat' in section 'grpo'; did you mean 'learning_rate'?" in message


def test_float_fields_accept_numeric_strings_only(full: Path) -> None:
    assert load_recipe(full, ["eval.oracle_threshold='9e-1'"]).eval.oracle_threshold == 0.9
    assert recipe_from_dict({"name": "x", "grpo": {"beta": "1e-3"}}).grpo["beta"] == 0.001
    assert "expected float, got str 'abc'" in error_of(full, ("eval.oracle_threshold=abc",))


def test_recipe_from_dict_reports_source() -> None:
    with pytest.raises(RecipeError, match=r"invalid recipe cli-args: unknown key 'sed'"):
        recipe_from_dict({"name": "x", "sed": 1}, source="cli-args")
    with pytest.raises(RecipeError, match="top level must be a mapping"):
        recipe_from_dict([1, 2])  # type: ignore[arg-type]


def test_every_dataclass_field_is_documented() -> None:
    tree = ast.parse(Path(recipe_mod.__file__).read_text(encoding="utf-8"))
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    checked = 0
    for name, obj in vars(recipe_mod).items():
        if not (dataclasses.is_dataclass(obj) and getattr(obj, "__module__", "") == recipe_mod.__name__):
            continue
        body = classes[name].body
        for i, stmt in enumerate(body):
            if isinstance(stmt, ast.AnnAssign):
                doc = body[i + 1] if i + 1 < len(body) else None
                where = (name, ast.unparse(stmt.target))
                assert isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant), where
                assert isinstance(doc.value.value, str) and doc.value.value.strip(), where
                checked += 1
    assert checked >= 30
