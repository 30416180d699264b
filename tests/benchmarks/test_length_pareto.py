"""benchmarks/length_pareto.py without training: the point table makes valid baselines (the point with the
recipe's own rewards is the main unit), a seed's run reuses its source's data and SFT and, where their inputs
are equal, its grpo and accuracy-only units, the per-seed numbers come from the eval stage's outputs, the
mean/worst-seed maths, and the page, table, JSON and plot it writes."""

import json
from pathlib import Path

import pytest
import yaml

from rl_reasoner.evaluation.runner import ORIGINAL
from rl_reasoner.pipeline import Pipeline, fingerprint
from rl_reasoner.recipe import load_recipe, recipe_from_dict, recipe_to_dict
from rl_reasoner.reward_constraint import CONSTRAINT_DEFAULTS
from rl_reasoner.reward_funcs import REWARDS, build_reward_funcs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench(load_bench):
    return load_bench("length_pareto")


def available(points):
    """The points whose length reward is registered (constrained_bonus may still be on its way)."""
    return [p for p in points if all(r["name"] in REWARDS for r in p.rewards)]


def test_the_point_table_is_three_strengths_per_method_plus_accuracy_only(bench):
    assert set(bench.POINTS) == {"absolute", "below_mean_bonus", "kimi", "constrained_bonus"}
    points = bench.sweep_points()
    assert points[0].label == "accuracy-only" and points[0].rewards == ({"name": "accuracy", "weight": 1.0},)
    assert len(points) == 1 + 4 * 3
    by_label = {p.label: p for p in points}
    assert by_label["absolute-0.0096"].rewards[1] == {
        "name": "absolute",
        "weight": 1.0,
        "params": {"alpha": 0.0096, "max_len": 256},
    }
    assert by_label["kimi-4"].unit == "grpo-kimi-4"
    assert by_label["below_mean_bonus-1"].rewards[1]["weight"] == 1.0
    assert by_label["below_mean_bonus-1"].rewards[1]["params"] == {"mode": "discrete", "mean_over": "all"}
    assert [p.strength for p in points if p.method == "constrained_bonus"] == [1.0, 2.0, 4.0]
    quick = bench.sweep_points(quick=True)
    assert [p.label for p in quick] == [
        "accuracy-only",
        "absolute-0.0096",
        "below_mean_bonus-2",
        "kimi-2",
        "constrained_bonus-2",
    ]
    kimi = [p.label for p in bench.sweep_points(methods=["kimi"])][1:]
    assert kimi == ["kimi-1", "kimi-2", "kimi-4"]


def test_the_recipe_has_one_valid_baseline_per_point_and_the_source_split_size(bench):
    points = available(bench.sweep_points())
    source = {"data": {"eval_per_level": 7}}
    recipe = bench.seed_recipe(ROOT / bench.RECIPE, 2, source, points, ["eval.batch_size=10"])
    demo = recipe_to_dict(load_recipe(ROOT / bench.RECIPE))
    assert (recipe["seed"], recipe["name"], recipe["report_to"]) == (2, "length-pareto-seed2", "none")
    assert recipe["data"]["eval_per_level"] == 7 and recipe["eval"]["batch_size"] == 10
    assert recipe["rewards"] == demo["rewards"] and recipe["grpo"] == demo["grpo"]
    parsed = recipe_from_dict(recipe)  # baseline names are checked here (they become run folders)
    # constrained_bonus at the recipe's weight (epsilon at its default 0.02) is the recipe's own rewards: the
    # main unit
    own = next(r["weight"] for r in demo["rewards"] if r["name"] == "constrained_bonus")
    assert list(parsed.baselines) == [p.label for p in points if p.label != f"constrained_bonus-{own:g}"]
    assert recipe_to_dict(parsed) == recipe  # as the CLI will read it back, so its fingerprints match
    for name, baseline in parsed.baselines.items():  # every reward name and parameter, built as in training
        funcs = build_reward_funcs(baseline.rewards, num_generations=8, eos_token_ids=[0])
        assert len(funcs) == (1 if name == "accuracy-only" else 2)


def test_a_seeds_run_reuses_its_source_data_and_sft(bench, tmp_path):
    src_recipe = load_recipe(
        ROOT / bench.QUICK_RECIPE, ["seed=3", "name=smoke-seed3", "report_to=none", "data.eval_per_level=5"]
    )
    source = Pipeline(src_recipe, runs_dir=tmp_path / "src")
    source.run(["data"], log=lambda _: None)
    (source.run_dir / "sft").mkdir()
    source.manifest.update("sft", status="done", fingerprint="from-the-source-run")
    (tmp_path / "src" / "notes").mkdir()
    assert bench.find_sources(tmp_path / "src", None) == {3: source.run_dir}
    with pytest.raises(SystemExit, match="need one run folder for seed 4, found"):
        bench.find_sources(tmp_path / "src", [3, 4])

    points = available(bench.sweep_points(quick=True))
    manifest = json.loads((source.run_dir / "manifest.json").read_text())
    recipe = bench.seed_recipe(ROOT / bench.QUICK_RECIPE, 3, manifest["recipe"], points, [])
    run_dir = tmp_path / "runs" / recipe["name"]
    run_dir.mkdir(parents=True)
    bench.seed_from_run(source.run_dir, run_dir, recipe)
    assert bench.reuse_grpo(source.run_dir, run_dir, recipe) == []  # the source has no finished GRPO unit
    plan = Pipeline(recipe_from_dict(recipe), runs_dir=tmp_path / "runs").plan(["grpo", "eval"])
    assert plan == ["grpo", *(p.unit for p in points), "eval"]


def fake_source(bench, tmp_path, rewards=None, unfinished=()):
    """A seeds_bench seed-3 run on smoke.yaml with every unit up to accuracy-only GRPO finished (each folder
    one file and a checkpoint); ``rewards``: its main unit's, if not the recipe's; ``unfinished``: units that
    are still running there."""
    overrides = ["seed=3", "name=tiny-arith-smoke-seed3", "data.eval_per_level=5"]
    recipe = recipe_to_dict(load_recipe(ROOT / bench.QUICK_RECIPE, overrides))
    recipe["rewards"] = recipe["rewards"] if rewards is None else rewards
    src, stages = tmp_path / "src" / "tiny-arith-smoke-seed3", {}
    for unit in ("data", "sft", "grpo", "grpo-accuracy-only"):
        (src / unit / "checkpoint-2").mkdir(parents=True)
        (src / unit / "model.safetensors").write_text(unit)
        status = "running" if unit in unfinished else "done"
        stages[unit] = {"status": status, "seconds": 99.0, "fingerprint": "from-the-source-run"}
    (src / "manifest.json").write_text(json.dumps({"recipe": recipe, "stages": stages}))
    return src


def seeded_run(bench, tmp_path, src, overrides):
    """The new run of seed 3 over the whole sweep, seeded as run_all does; its recipe and folder."""
    points = available(bench.sweep_points())
    source = json.loads((src / "manifest.json").read_text())["recipe"]
    recipe = bench.seed_recipe(ROOT / bench.QUICK_RECIPE, 3, source, points, overrides)
    run_dir = tmp_path / "runs" / recipe["name"]
    run_dir.mkdir(parents=True)
    bench.seed_from_run(src, run_dir, recipe)
    return recipe, run_dir


def planned(recipe, runs):
    """The units the CLI would run: the recipe written as run_seed writes it and read back from that file."""
    path = runs / f"{recipe['name']}.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return Pipeline(load_recipe(path), runs_dir=runs).plan(["grpo", "eval"])


def test_a_seeds_run_reuses_its_source_grpo_units_when_their_inputs_are_equal(bench, tmp_path):
    src = fake_source(bench, tmp_path)
    recipe, run_dir = seeded_run(bench, tmp_path, src, [])
    assert bench.reuse_grpo(src, run_dir, recipe) == ["grpo", "grpo-accuracy-only"]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for unit in ("grpo", "grpo-accuracy-only"):
        assert (run_dir / unit / "model.safetensors").read_text() == unit
        assert not (run_dir / unit / "checkpoint-2").exists()
        entry = {"status": "done", "seconds": 99.0, "fingerprint": fingerprint(recipe, "grpo")}
        assert manifest["stages"][unit] == entry
    assert manifest["reused_grpo_units"] == ["grpo", "grpo-accuracy-only"]
    assert manifest["reused_from"] == str(src) and list(manifest["stages"]) == [
        "data",
        "sft",
        "grpo",
        "grpo-accuracy-only",
    ]
    # the pipeline trains every sweep point but the one with the recipe's own rewards (the main unit)
    trained = [f"grpo-{m}-{s:g}" for m, (strengths, _) in bench.POINTS.items() for s in strengths]
    own = next(r["weight"] for r in recipe["rewards"] if r["name"] == "constrained_bonus")
    trained.remove(f"grpo-constrained_bonus-{own:g}")
    assert planned(recipe, tmp_path / "runs") == [*trained, "eval"] and len(trained) == 11
    # a rerun (resume) leaves what is there alone
    assert bench.reuse_grpo(src, run_dir, recipe) == []
    assert json.loads((run_dir / "manifest.json").read_text())["stages"] == manifest["stages"]


def test_an_earlier_sweep_with_fewer_points_gives_its_matching_units(bench, tmp_path):
    """--reuse: a sweep run made before points were added lends every unit whose own inputs are unchanged,
    although adding baselines changed the whole GRPO stage's fingerprint."""
    recipe, run_dir = seeded_run(bench, tmp_path, fake_source(bench, tmp_path), [])
    earlier = json.loads(json.dumps(recipe))
    kept = sorted(earlier["baselines"])[:3]
    earlier["baselines"] = {name: earlier["baselines"][name] for name in kept}
    earlier["baselines"][kept[0]]["rewards"][-1]["weight"] = 9.0  # that point was trained differently
    prev, stages = tmp_path / "earlier" / recipe["name"], {}
    for unit in ("grpo", *(f"grpo-{name}" for name in kept)):
        (prev / unit).mkdir(parents=True)
        (prev / unit / "model.safetensors").write_text(unit)
        stages[unit] = {"status": "done", "seconds": 9.0, "fingerprint": fingerprint(earlier, "grpo")}
    (prev / "manifest.json").write_text(json.dumps({"recipe": earlier, "stages": stages}))
    units = ("grpo", *(f"grpo-{name}" for name in recipe["baselines"]))
    assert fingerprint(earlier, "grpo") != fingerprint(recipe, "grpo")
    assert bench.reuse_grpo(prev, run_dir, recipe, units) == ["grpo", *(f"grpo-{n}" for n in kept[1:])]
    left = planned(recipe, tmp_path / "runs")
    assert f"grpo-{kept[0]}" in left and not {"grpo", *(f"grpo-{n}" for n in kept[1:])} & set(left)


@pytest.mark.parametrize(
    ("rewards", "unfinished", "overrides", "copied"),
    [
        ([{"name": "accuracy", "weight": 1.0, "params": {}}], (), [], ["grpo-accuracy-only"]),
        (None, ("grpo-accuracy-only",), [], ["grpo"]),
        (None, (), ["grpo.max_steps=1"], []),  # a key=value override changed every GRPO unit's inputs
        (None, (), ["grpo.vllm_server_host=10.0.0.1"], ["grpo", "grpo-accuracy-only"]),  # connection only
    ],
)
def test_a_grpo_unit_whose_inputs_differ_is_trained_again(
    bench, tmp_path, rewards, unfinished, overrides, copied
):
    src = fake_source(bench, tmp_path, rewards=rewards, unfinished=unfinished)
    recipe, run_dir = seeded_run(bench, tmp_path, src, overrides)
    assert bench.reuse_grpo(src, run_dir, recipe) == copied
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for unit in ("grpo", "grpo-accuracy-only"):
        assert (unit in manifest["stages"]) == (unit in copied) == (run_dir / unit).exists()
        assert (unit in planned(recipe, tmp_path / "runs")) == (unit not in copied)


def test_a_seed_is_read_from_the_eval_stage_outputs(bench, eval_dir, model_metrics):
    levels = {1: ("concise", 10, 27), 2: ("direct", 3, 9)}
    kimi = model_metrics(eval_dir / "grpo-kimi-1", {ORIGINAL: levels})
    results = json.loads((eval_dir / "results.json").read_text())
    results["models"]["grpo-kimi-1"] = kimi
    (eval_dir / "results.json").write_text(json.dumps(results))
    points = [p for p in bench.sweep_points() if p.label in ("accuracy-only", "kimi-1", "kimi-2")]
    manifest = {"stages": {}, "reused_grpo_units": ["grpo", "grpo-accuracy-only"]}  # as reuse_grpo leaves it
    (eval_dir.parent / "manifest.json").write_text(json.dumps(manifest))
    seed = bench.collect_seed(eval_dir.parent, 5, Path("/src/demo-seed5"), points, 61.23)
    assert seed["reused"] == ["grpo", "grpo-accuracy-only"]
    assert (seed["seed"], seed["source"], seed["wall_seconds"]) == (5, "/src/demo-seed5", 61.2)
    assert seed["sft"] | {"styles": None} == {
        "styles": None,
        "accuracy": 1.0,
        "tokens": 115.0,
        "levels": {"1": {"accuracy": 1.0, "tokens": 60.0}, "2": {"accuracy": 1.0, "tokens": 170.0}},
    }
    assert seed["oracle"]["tokens"] == 89.0 and seed["oracle"]["styles"] == {"1": "direct", "2": "verbose"}
    assert set(seed["points"]) == {"recipe", "accuracy-only", "kimi-1"}  # kimi-2 was not run
    assert seed["points"]["recipe"]["tokens"] == 79.0  # the main grpo unit
    assert seed["points"]["kimi-1"]["levels"]["2"] == {"accuracy": 0.3, "tokens": 9.0}
    # each level's greedy style shares, read off the samples' openings
    assert seed["points"]["kimi-1"]["styles"] == {"1": {"concise": 1.0}, "2": {"direct": 1.0}}
    assert seed["points"]["recipe"]["styles"] == {"1": {"direct": 1.0}, "2": {"verbose": 1.0}}
    assert seed["sft"]["styles"] == {"1": {"verbose": 1.0}, "2": {"verbose": 1.0}}  # not its forced ones


def nums(acc1, tok1, acc2, tok2):
    """A seed's numbers for one model, levels 1 and 2 of equal size."""
    levels = {"1": {"accuracy": acc1, "tokens": tok1}, "2": {"accuracy": acc2, "tokens": tok2}}
    return {"accuracy": (acc1 + acc2) / 2, "tokens": (tok1 + tok2) / 2, "levels": levels}


def seeds():
    """Seed 0: kimi cuts level 2 (-4 pt); seed 1: absolute loses level 1 (-1 pt overall); kimi-2 only in 0."""
    return [
        {
            "seed": 0,
            "sft": nums(1.0, 60, 1.0, 140),  # 100 tokens
            "oracle": nums(1.0, 20, 1.0, 80) | {"styles": {"1": "direct", "2": "verbose"}},  # 50 tokens
            "points": {
                "recipe": nums(1.0, 20, 1.0, 80),
                "accuracy-only": nums(1.0, 60, 1.0, 140),
                "kimi-1": nums(1.0, 20, 0.96, 90),  # -2 pt, 55 tokens (1.1x), level 2 -4 pt
                "kimi-2": nums(1.0, 10, 0.9, 40),
                "absolute-0.0064": nums(1.0, 40, 1.0, 140),  # 0 pt, 90 tokens (1.8x)
            },
        },
        {
            "seed": 1,
            "sft": nums(1.0, 60, 0.98, 140),  # 99 %, 100 tokens
            "oracle": nums(1.0, 30, 1.0, 90) | {"styles": {"1": "concise", "2": "verbose"}},  # 60 tokens
            "points": {
                "recipe": nums(1.0, 30, 0.98, 90),
                "accuracy-only": nums(1.0, 60, 0.98, 130),
                "kimi-1": nums(1.0, 20, 0.98, 100),  # 0 pt, 60 tokens (1.0x)
                "absolute-0.0064": nums(0.98, 40, 0.98, 140),  # -1 pt, 90 tokens (1.5x)
            },
        },
    ]


def points_of(bench):
    wanted = ("accuracy-only", "absolute-0.0064", "kimi-1", "kimi-2")
    return [p for p in bench.sweep_points() if p.label in wanted]


def test_mean_and_worst_seed_against_each_seeds_own_sft_and_oracle(bench):
    labels = ["sft", "oracle", "recipe", *(p.label for p in points_of(bench))]
    summary = bench.summarize(seeds(), labels)
    kimi = summary["kimi-1"]
    assert (kimi["mean_delta_pt"], kimi["worst_delta_pt"]) == pytest.approx((-1.0, -2.0))
    assert (kimi["mean_long_delta_pt"], kimi["worst_long_delta_pt"]) == pytest.approx((-2.0, -4.0))
    assert (kimi["mean_x_oracle"], kimi["worst_x_oracle"]) == pytest.approx((1.05, 1.1))
    assert kimi["mean_long_tokens"] == pytest.approx(95.0) and kimi["seeds"] == [0, 1]
    absolute = summary["absolute-0.0064"]
    assert (absolute["mean_delta_pt"], absolute["worst_delta_pt"]) == pytest.approx((-0.5, -1.0))
    assert (absolute["mean_x_oracle"], absolute["worst_x_oracle"]) == pytest.approx((1.65, 1.8))
    assert summary["kimi-2"]["seeds"] == [0]  # a point only one seed has is summarised over that seed
    oracle = summary["oracle"]
    assert oracle["mean_delta_pt"] == pytest.approx(0.5) and oracle["mean_x_oracle"] == 1
    assert summary["sft"]["worst_delta_pt"] == 0 and summary["sft"]["worst_x_oracle"] == pytest.approx(2.0)

    found = bench.verdicts(summary, points_of(bench))
    assert found["kimi"].startswith("shortens but costs the long levels (by strength: ")
    figures = "1: -2.0 pt (worst seed -4.0) at 95.0 tokens; 2: -10.0 pt (worst seed -10.0) at 40.0 tokens; "
    figures += "accuracy-only: +0.0 pt at 135.0 tokens)"
    assert found["kimi"].endswith(figures)
    # a loss accuracy-only GRPO has too is not the length term's: measured against its own change
    summary["accuracy-only"] = {**summary["accuracy-only"], "mean_long_delta_pt": -9.5}
    assert bench.verdicts(summary, points_of(bench))["kimi"].startswith("does not show the trade-off")
    assert found["absolute"].startswith("does not show the trade-off (by strength: 0.0064: +0.0 pt")


def test_the_long_levels_are_each_seeds_verbose_oracle_levels_else_the_hardest(bench):
    """A length reward that shortens a level where only verbose is reliable cuts needed reasoning: those are
    the levels judged, per seed (on the demo's seeds 115-117 level 2 too, not only the hardest)."""
    both, none = seeds()
    both["oracle"]["styles"] = {"1": "verbose", "2": "verbose"}
    del none["oracle"]["styles"]
    assert bench.long_levels(both) == ["1", "2"] and bench.long_levels(none) == ["2"]
    summary = bench.summarize([both, none], ["kimi-1", "accuracy-only"])
    # seed 0: mean of level 1 (+0) and level 2 (-4) = -2; seed 1: level 2, +0
    kimi = summary["kimi-1"]
    assert (kimi["mean_long_delta_pt"], kimi["worst_long_delta_pt"]) == pytest.approx((-1.0, -2.0))
    assert summary["kimi-1"]["mean_long_tokens"] == pytest.approx((55.0 + 100.0) / 2)


def test_rebuild_recomputes_the_page_from_the_jsons_per_seed_numbers(bench, tmp_path, monkeypatch):
    recipe = recipe_to_dict(load_recipe(ROOT / bench.RECIPE))
    meta = {"command": "python benchmarks/length_pareto.py --from-runs /runs", "git_commit": "abc123",
            "uncommitted_changes": False, "machine": {"platform": "Linux-test", "cpus": 2},
            "from_runs": "/runs", "runs_dir": "/gone", "wall_seconds": 600.0}  # fmt: skip
    report = bench.build_report(seeds(), points_of(bench), recipe, meta)
    old = {k: v for k, v in report.items() if k not in ("summary", "verdicts", "long_levels")}
    old |= {"hardest_level": "2", "summary": {}, "verdicts": {"kimi": "an older judgement"}}
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / bench.RESULTS).write_text(json.dumps(old))
    assert bench.main(["--rebuild"]) == 0
    rebuilt = json.loads((tmp_path / bench.RESULTS).read_text())
    assert rebuilt["verdicts"] == report["verdicts"] and rebuilt["summary"] == report["summary"]
    assert "hardest_level" not in rebuilt and rebuilt["git_commit"] == "abc123"
    assert "seed 0: 2; seed 1: 2" in (tmp_path / bench.DOC).read_text()


def test_the_page_table_json_and_plot(bench, tmp_path):
    recipe = recipe_to_dict(load_recipe(ROOT / bench.RECIPE))
    meta = {
        "command": "python benchmarks/length_pareto.py --from-runs /runs",
        "git_commit": "abc123",
        "uncommitted_changes": False,
        "machine": {"platform": "Linux-test", "cpus": 2},
        "from_runs": "/runs",
        "runs_dir": "/tmp/x",
        "wall_seconds": 600.0,
    }
    report = bench.build_report(seeds(), points_of(bench), recipe, meta)
    out, doc, png = tmp_path / "r.json", tmp_path / "docs" / "length-methods.md", tmp_path / "docs" / "p.png"
    bench.write_outputs(report, out, doc, png)

    assert png.read_bytes().startswith(b"\x89PNG")
    saved = json.loads(out.read_text())
    assert saved["per_seed"][1]["points"]["kimi-1"]["tokens"] == 60.0
    assert saved["long_levels"] == {"0": ["2"], "1": ["2"]}
    assert saved["points"][0]["label"] == "recipe" and saved["points"][0]["rewards"] == recipe["rewards"]
    assert saved["prompts"] == 200  # eval_per_level 100 x 2 levels
    text = doc.read_text()
    command = "Command: `python benchmarks/length_pareto.py --from-runs /runs` at commit `abc123`; machine: "
    assert command in text
    assert "Linux-test, 2 CPU cores; wall time 10.0 min." in text
    assert "![accuracy vs tokens](p.png)" in text
    rows = text.splitlines()
    head = "| method | strength | mean Δacc pt | worst Δacc pt | long levels mean Δ pt (worst) "
    head += "| mean tokens ×oracle | worst ×oracle |"
    assert head in rows
    assert "| oracle |  | +0.5 | +0.0 | +1.0 (+0.0) | 1.00 | 1.00 |" in rows
    assert "| accuracy-only |  | +0.0 | +0.0 | +0.0 (+0.0) | 1.79 | 2.00 |" in rows
    assert "| kimi | 1 | -1.0 | -2.0 | -2.0 (-4.0) | 1.05 | 1.10 |" in rows
    assert "| absolute | 0.0064 | -0.5 | -1.0 | +0.0 (+0.0) | 1.65 | 1.80 |" in rows
    assert rows.index(head) + 2 == rows.index("| sft |  | +0.0 | +0.0 | +0.0 (+0.0) | 1.83 | 2.00 |")
    assert any(r.startswith("| recipe (own rewards) |  | +0.0 |") for r in rows)
    assert any(r.startswith("- **kimi**: shortens but costs the long levels") for r in rows)
    assert any(r.startswith("- **absolute**: does not show the trade-off") for r in rows)
    assert bench.table(report) in text


def test_quick_writes_into_the_runs_folder(bench, tmp_path, monkeypatch):
    """main without training: the runs are replaced by the hand-made seeds; --quick keeps its outputs out of
    the repository."""
    seen = {}

    def fake_run_all(args, points, runs, walls=None):
        seen.update(points=[p.label for p in points], runs=runs, quick=args.quick)
        return seeds(), recipe_to_dict(load_recipe(ROOT / bench.QUICK_RECIPE))

    monkeypatch.setattr(bench, "run_all", fake_run_all)
    monkeypatch.setattr(bench, "git_state", lambda: ("abc123", True))
    runs = tmp_path / "runs"
    argv = ["--from-runs", str(tmp_path), "--quick", "--runs-dir", str(runs), "--methods", "kimi"]
    assert bench.main(argv) == 0
    assert seen == {"points": ["accuracy-only", "kimi-2"], "runs": runs, "quick": True}
    written = {p.name for p in runs.iterdir()}
    assert written == {"length_pareto.json", "length-methods.md", "length-pareto.png"}
    text = (runs / "length-methods.md").read_text()
    assert "at commit `abc123` (with uncommitted changes)" in text and "](length-pareto.png)" in text
    with pytest.raises(SystemExit, match=r"unknown method\(s\) \['l1'\]"):
        bench.main(["--from-runs", str(tmp_path), "--methods", "kimi,l1"])


def test_collect_only_rereads_the_runs_and_keeps_the_earlier_command_commit_machine_and_times(
    bench, tmp_path, monkeypatch
):
    made, calls = [s | {"wall_seconds": 100.0 + s["seed"]} for s in seeds()], []

    def fake_run_all(args, points, runs, walls=None):
        calls.append(walls)
        return made, recipe_to_dict(load_recipe(ROOT / bench.QUICK_RECIPE))

    monkeypatch.setattr(bench, "run_all", fake_run_all)
    monkeypatch.setattr(bench, "git_state", lambda: ("abc123", False))
    runs = tmp_path / "runs"
    assert bench.main(["--from-runs", str(tmp_path), "--quick", "--runs-dir", str(runs)]) == 0
    first = json.loads((runs / "length_pareto.json").read_text())
    monkeypatch.setattr(bench, "git_state", lambda: ("def456", True))
    assert (
        bench.main(["--from-runs", str(tmp_path), "--quick", "--runs-dir", str(runs), "--collect-only"]) == 0
    )
    assert calls == [None, {0: 100.0, 1: 101.0}]  # the second call only reads the runs back, with their times
    again = json.loads((runs / "length_pareto.json").read_text())
    kept = ("command", "git_commit", "uncommitted_changes", "machine", "wall_seconds")
    assert {k: again[k] for k in kept} == {k: first[k] for k in kept} and "--collect-only" not in again[
        "command"
    ]
    with pytest.raises(SystemExit):  # nothing to re-read without the runs folder
        bench.parse_args(["--from-runs", str(tmp_path), "--collect-only"])


def test_the_page_shows_each_levels_change_tokens_and_styles_per_seed_and_the_gate(bench):
    recipe = recipe_to_dict(load_recipe(ROOT / bench.RECIPE))
    made = seeds()
    made[0]["points"]["kimi-1"]["styles"] = {"1": {"direct": 0.9, "verbose": 0.1}, "2": {"concise": 1.0}}
    del made[1]["oracle"]["styles"]
    meta = {"command": "c", "git_commit": "abc", "uncommitted_changes": False, "wall_seconds": 60.0}
    meta |= {"machine": {"platform": "Linux-test", "cpus": 2}, "from_runs": "/runs", "runs_dir": "/tmp/x"}
    report = bench.build_report(made, points_of(bench), recipe, meta)
    rows = bench.render(report, "p.png").splitlines()
    assert "| kimi-1 | +0.0 (+0.0) · 20 · d/? | -2.0 (-4.0) · 95 · c/? |" in rows  # seed 1: not collected
    assert "| oracle | +0.0 (+0.0) · 25 · d/? | +1.0 (+0.0) · 85 · v/? |" in rows
    assert report["gate"] == recipe["gate"]["max_drop"] and any(
        r.startswith("Validation gate: `max_drop`") for r in rows
    )
    report["gate"] = None
    assert any(r.startswith("Validation gate: off") for r in bench.render(report, "p.png").splitlines())


ACCURACY = {"name": "accuracy", "weight": 1.0}


def test_the_sweep_point_with_the_recipes_own_rewards_is_the_recipe(bench):
    points = bench.sweep_points()
    demo = recipe_to_dict(load_recipe(ROOT / bench.RECIPE, ["rewards.1.weight=2"]))  # a sweep point
    params = {"epsilon": 0.02, "start_multiplier": 1.0, "reference_steps": 2, "reliable_margin": 0.1}
    params["saturation"] = 0.75
    assert demo["rewards"][1] == {"name": "constrained_bonus", "weight": 2.0, "params": params}
    listed = bench.with_recipe(points, demo["rewards"])
    assert [p.label for p in listed] == [
        "recipe" if p.label == "constrained_bonus-2" else p.label for p in points
    ]
    own = listed[[p.label for p in listed].index("recipe")]
    assert (own.method, own.strength, own.unit, own.rewards) == (
        "constrained_bonus",
        2.0,
        "grpo",
        tuple(demo["rewards"]),
    )
    assert [p.strength for p in listed if p.method == "constrained_bonus"] == [1.0, 2.0, 4.0]
    # a default written out equals it left out
    written_out = CONSTRAINT_DEFAULTS | params
    explicit = [ACCURACY, {"name": "constrained_bonus", "weight": 4.0, "params": written_out}]
    assert (
        bench.with_recipe(points, explicit)[[p.label for p in points].index("constrained_bonus-4")].label
        == "recipe"
    )
    # another epsilon, another weight, another reward or one more: the recipe is a row of its own
    bonus = demo["rewards"][1]
    for rewards in (
        [ACCURACY, bonus | {"params": {"epsilon": 0.05}}],
        [ACCURACY, bonus | {"weight": 0.3}],
        [ACCURACY, bonus | {"name": "below_mean_bonus"}],
        [*demo["rewards"], {"name": "kimi", "weight": 0.25}],
    ):
        listed = bench.with_recipe(points, rewards)
        assert listed == [bench.Point("recipe", "recipe", None, tuple(rewards)), *points]
        assert listed[0].unit == "grpo"


class Axes:
    """What _panel draws: each labelled line's x and y, and the marker labels."""

    def __init__(self):
        self.lines, self.notes = {}, []

    def plot(self, xs, ys, *fmt, label=None, **style):
        self.lines[label] = (list(xs), list(ys))

    def annotate(self, text, xy, **style):
        self.notes.append(text)

    def axhline(self, *args, **style):
        pass

    def set(self, **labels):
        pass


def test_the_recipe_row_is_its_methods_point_in_the_table_json_and_plot(bench, tmp_path):
    recipe = recipe_to_dict(load_recipe(ROOT / bench.RECIPE, ["rewards.1.weight=1"]))
    data = seeds()
    for seed, extra in zip(data, ({"constrained_bonus-2": nums(1.0, 15, 0.9, 70)}, {}), strict=True):
        seed["points"] |= extra | {"constrained_bonus-4": nums(1.0, 10, 0.8, 50)}
    points = bench.sweep_points(methods=["constrained_bonus"])
    meta = {"command": "c", "git_commit": "abc", "uncommitted_changes": False, "from_runs": "/runs"}
    meta |= {"machine": {"platform": "Linux-test", "cpus": 2}, "runs_dir": "/tmp/x", "wall_seconds": 60.0}
    report = bench.build_report(data, points, recipe, meta)

    rows = [(p["label"], p["method"], p["strength"], p["unit"]) for p in report["points"]]
    assert rows == [
        ("accuracy-only", "accuracy-only", None, "grpo-accuracy-only"),
        ("recipe", "constrained_bonus", 1.0, "grpo"),
        ("constrained_bonus-2", "constrained_bonus", 2.0, "grpo-constrained_bonus-2"),
        ("constrained_bonus-4", "constrained_bonus", 4.0, "grpo-constrained_bonus-4"),
    ]
    assert list(report["points"][1]["rewards"]) == recipe["rewards"]  # what the main unit trained with
    table = bench.table(report).splitlines()
    assert "| constrained_bonus | 1 (the recipe) | +0.0 | +0.0 | +0.0 (+0.0) | 1.00 | 1.00 |" in table
    assert sum(r.startswith("| constrained_bonus |") for r in table) == 3
    assert not any("recipe (own rewards)" in r for r in table)
    verdict = report["verdicts"]["constrained_bonus"]
    assert "by strength: 1: +0.0 pt (worst seed +0.0) at 85.0 tokens; 2: " in verdict

    ax = Axes()
    bench._panel(ax, report, "mean_delta_pt", "t")
    assert ax.lines["constrained_bonus"][0] == pytest.approx([1.0, 0.85, 0.55])  # x: by strength, 3 of them
    assert ax.notes == ["1 (recipe)", "2", "4"]
    bench.write_outputs(report, tmp_path / "r.json", tmp_path / "d.md", tmp_path / "p.png")
    assert "| constrained_bonus | 1 (the recipe) |" in (tmp_path / "d.md").read_text()
