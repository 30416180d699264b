"""Runner semantics on the cheap data stage: skip finished, refuse stale, --force keeps a backup."""

import json

import pytest

from rl_reasoner.pipeline import Pipeline, PipelineError
from rl_reasoner.recipe import load_recipe

SMOKE = "recipes/tiny-arith/smoke.yaml"


def run_data(tmp_path, *overrides, force=False, log=None):
    recipe = load_recipe(SMOKE, ["report_to=none", *overrides])
    pipeline = Pipeline(recipe, runs_dir=tmp_path, force=force)
    lines = []
    pipeline.run(["data"], log=lines.append)
    return pipeline, lines


def test_manifest_records_recipe_versions_and_stage_status(tmp_path):
    pipeline, _ = run_data(tmp_path)
    manifest = json.loads((pipeline.run_dir / "manifest.json").read_text())
    assert manifest["recipe"]["name"] == "tiny-arith-smoke"
    assert {"trl", "transformers", "torch", "accelerate"} <= set(manifest["versions"])
    assert manifest["git_commit"] is None or len(manifest["git_commit"]) == 40
    entry = manifest["stages"]["data"]
    assert entry["status"] == "done" and entry["seconds"] >= 0 and entry["result"]["sft"] == 64
    assert (pipeline.run_dir / "data" / "tiny-base" / "config.json").exists()


def test_rerun_skips_a_finished_stage_without_touching_it(tmp_path):
    pipeline, _ = run_data(tmp_path)
    sft_file = pipeline.run_dir / "data" / "sft.jsonl"
    before = sft_file.stat().st_mtime_ns
    _, lines = run_data(tmp_path)
    assert any("data: done" in line and "skipped" in line for line in lines)
    assert sft_file.stat().st_mtime_ns == before


def test_changed_recipe_is_refused_naming_the_key_and_nothing_changes(tmp_path):
    pipeline, _ = run_data(tmp_path)
    snapshot = {p: p.read_bytes() for p in pipeline.run_dir.rglob("*") if p.is_file()}
    with pytest.raises(PipelineError, match=r"data\.train_size: 64 -> 65.*--force"):
        run_data(tmp_path, "data.train_size=65")
    assert {p: p.read_bytes() for p in pipeline.run_dir.rglob("*") if p.is_file()} == snapshot


def test_refusal_lists_only_real_changes_when_the_recipe_has_int_keyed_maps(tmp_path):
    level_mix = "data.style_by_level={1: {direct: 1.0}}"
    run_data(tmp_path, level_mix)  # manifest.json stores the level key as "1", the recipe holds int 1
    with pytest.raises(PipelineError) as caught:
        run_data(tmp_path, level_mix, "data.train_size=65")
    changed = str(caught.value).split("(changed: ")[1].split("). Nothing")[0]
    assert changed == "data.train_size: 64 -> 65"


def _finished_grpo(tmp_path, *overrides, legacy=False):
    """A data run whose manifest says sft and grpo are done with ``overrides`` (grpo fingerprinted as a run
    made before 'replay' was a GRPO input when ``legacy``)."""
    from rl_reasoner.pipeline import fingerprint

    pipeline, _ = run_data(tmp_path, *overrides)
    path = pipeline.run_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    for stage in ("sft", "grpo"):
        stamp = fingerprint(pipeline.recipe_dict, stage, legacy=legacy and stage == "grpo")
        manifest["stages"][stage] = {"status": "done", "fingerprint": stamp}
        (pipeline.run_dir / stage).mkdir(exist_ok=True)
    path.write_text(json.dumps(manifest))


def plan_grpo(tmp_path, *overrides):
    recipe = load_recipe(SMOKE, ["report_to=none", *overrides])
    return Pipeline(recipe, runs_dir=tmp_path).plan(["grpo"])


def test_a_changed_replay_section_makes_a_finished_grpo_stage_stale(tmp_path):
    _finished_grpo(tmp_path, "replay.weight=1.0")
    assert "grpo" not in plan_grpo(tmp_path, "replay.weight=1.0")
    with pytest.raises(PipelineError, match=r"replay\.weight: 1\.0 -> 2\.0"):
        plan_grpo(tmp_path, "replay.weight=2.0")


def test_a_grpo_stage_finished_before_replay_was_an_input_stays_fresh(tmp_path):
    _finished_grpo(tmp_path, "replay.weight=1.0", legacy=True)
    assert "grpo" not in plan_grpo(tmp_path, "replay.weight=1.0")
    with pytest.raises(PipelineError, match=r"sft\.max_steps"):  # other inputs are still checked
        plan_grpo(tmp_path, "replay.weight=1.0", "sft.max_steps=3")


def test_force_redoes_the_stage_and_keeps_the_old_output(tmp_path):
    pipeline, _ = run_data(tmp_path)
    _, lines = run_data(tmp_path, "data.train_size=65", force=True)
    backups = list(pipeline.run_dir.glob("data.bak-*"))
    assert len(backups) == 1 and len((backups[0] / "sft.jsonl").read_text().splitlines()) == 64
    assert len((pipeline.run_dir / "data" / "sft.jsonl").read_text().splitlines()) == 65


def test_unknown_stage_lists_the_valid_ones(tmp_path):
    recipe = load_recipe(SMOKE, ["report_to=none"])
    with pytest.raises(PipelineError, match=r"\['data', 'sft', 'grpo', 'eval'\]"):
        Pipeline(recipe, runs_dir=tmp_path).plan(["trian"])


def test_only_rank_zero_writes_the_manifest(tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "1")  # as torchrun/accelerate set it on the second process
    recipe = load_recipe(SMOKE, ["report_to=none"])
    pipeline = Pipeline(recipe, runs_dir=tmp_path)
    pipeline.manifest.update("data", status="running")
    assert pipeline.manifest.stage("data")["status"] == "running"  # in memory on every process
    assert not (pipeline.run_dir / "manifest.json").exists()
    monkeypatch.setenv("RANK", "0")
    pipeline.manifest.update("data", status="running")
    written = json.loads((pipeline.run_dir / "manifest.json").read_text())
    assert written["stages"]["data"]["status"] == "running"


def test_run_under_a_multi_process_launcher_refuses_data_and_eval(tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    recipe = load_recipe(SMOKE, ["report_to=none"])
    with pytest.raises(PipelineError, match="every process would run the data and eval stages; put the"):
        Pipeline(recipe, runs_dir=tmp_path).run(["data"], log=lambda _: None)
    assert not (tmp_path / recipe.name).exists()


def test_vllm_server_address_is_not_part_of_the_grpo_fingerprint(tmp_path):
    from rl_reasoner.pipeline import fingerprint as stage_fingerprint
    from rl_reasoner.recipe import recipe_to_dict

    def fingerprint(*overrides):
        return stage_fingerprint(recipe_to_dict(load_recipe(SMOKE, list(overrides))), "grpo")

    assert fingerprint("grpo.vllm_server_host=node7", "grpo.vllm_server_port=8001") == fingerprint()
    assert fingerprint("launch.config_file=launch/accelerate/cpu-2proc.yaml") == fingerprint()
    assert fingerprint("grpo.vllm_mode=server") != fingerprint()


def test_default_data_ops_keep_the_fingerprints_of_runs_made_before_the_key_existed(tmp_path):
    from rl_reasoner.pipeline import fingerprint
    from rl_reasoner.recipe import recipe_to_dict

    now = recipe_to_dict(load_recipe(SMOKE, ["report_to=none"]))
    before = {**now, "data": {k: v for k, v in now["data"].items() if k != "ops"}}
    both = recipe_to_dict(load_recipe(SMOKE, ["report_to=none", "data.ops=[add, sub]"]))
    for stage in ("data", "sft", "grpo", "eval"):
        assert fingerprint(now, stage) == fingerprint(before, stage)
        assert fingerprint(both, stage) != fingerprint(now, stage)

    pipeline, _ = run_data(tmp_path)  # rewrite its manifest as the code before data.ops wrote it
    path = pipeline.run_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["recipe"]["data"]["ops"]
    path.write_text(json.dumps(manifest))
    _, lines = run_data(tmp_path)
    assert any("data: done" in line and "skipped" in line for line in lines)
    with pytest.raises(PipelineError) as caught:
        run_data(tmp_path, "data.train_size=65")
    assert str(caught.value).split("(changed: ")[1].split("). Nothing")[0] == "data.train_size: 64 -> 65"


def test_a_teacher_is_a_data_input_and_no_teacher_keeps_the_fingerprints_of_runs_made_before_it(tmp_path):
    from rl_reasoner.pipeline import fingerprint
    from rl_reasoner.recipe import recipe_to_dict

    def recipe(*overrides):
        return recipe_to_dict(load_recipe(SMOKE, ["report_to=none", *overrides]))

    now = recipe()
    before = {**now, "data": {k: v for k, v in now["data"].items() if k != "teacher"}}
    off = recipe("data.teacher.k=2")  # no model: nothing is sampled, the data is the task's own
    on = recipe("data.teacher.model=org/teacher")
    other = recipe("data.teacher.model=org/teacher", "data.teacher.k=2")
    for stage in ("data", "sft", "grpo", "eval"):
        assert fingerprint(now, stage) == fingerprint(before, stage) == fingerprint(off, stage)
        assert len({fingerprint(now, stage), fingerprint(on, stage), fingerprint(other, stage)}) == 3

    run_data(tmp_path)
    with pytest.raises(PipelineError, match=r"changed: data\.teacher: None -> {'model': 'org/teacher'"):
        run_data(tmp_path, "data.teacher.model=org/teacher")


def test_revthink_objectives_are_a_data_input_and_none_keeps_the_fingerprints_of_runs_made_before_them():
    from rl_reasoner.pipeline import fingerprint
    from rl_reasoner.recipe import recipe_to_dict

    def recipe(*overrides):
        return recipe_to_dict(load_recipe(SMOKE, ["report_to=none", *overrides]))

    now = recipe()
    before = {**now, "data": {k: v for k, v in now["data"].items() if k != "revthink"}}
    off = recipe("data.revthink.noise=0.3", "data.revthink.filter=false")  # no objectives: the task's data
    on = recipe("data.revthink.objectives=[forward, backward]")
    noisy = recipe("data.revthink.objectives=[forward, backward]", "data.revthink.noise=0.3")
    for stage in ("data", "sft", "grpo", "eval"):
        assert fingerprint(now, stage) == fingerprint(before, stage) == fingerprint(off, stage)
        assert len({fingerprint(now, stage), fingerprint(on, stage), fingerprint(noisy, stage)}) == 3
