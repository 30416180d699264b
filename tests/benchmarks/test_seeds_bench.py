"""benchmarks/seeds_bench.py without training: two fake seeds whose eval folders are built by the real
metrics and oracle code; every number is checked against its own seed's SFT and oracle."""

import json

import pytest

from rl_reasoner.evaluation.runner import ORIGINAL
from rl_reasoner.stages.evaluate import FORCED, check_design, find_oracle

SFT = {
    ORIGINAL: {1: ("verbose", 10, 60), 2: ("verbose", 10, 170)},
    FORCED + "direct": {1: ("direct", 10, 8), 2: ("direct", 3, 9)},
    FORCED + "concise": {1: ("concise", 10, 27), 2: ("concise", 8, 46)},
    FORCED + "verbose": {1: ("verbose", 10, 60), 2: ("verbose", 10, 170)},
}


def fake_seed(write_model, root, name, grpo_levels):
    """A finished run folder: SFT (oracle direct at level 1, verbose at level 2), GRPO, accuracy-only."""
    run_dir, eval_dir = root / name, root / name / "eval"
    models = {"sft": write_model(eval_dir / "sft", SFT)}
    models["grpo"] = write_model(eval_dir / "grpo", {ORIGINAL: grpo_levels})
    accuracy_only = {1: ("verbose", 10, 58), 2: ("verbose", 10, 168)}
    models["grpo-accuracy-only"] = write_model(eval_dir / "grpo-accuracy-only", {ORIGINAL: accuracy_only})
    forced = {n.removeprefix(FORCED): m for n, m in models["sft"]["variants"].items()}
    oracle = find_oracle(forced, 0.99)
    design = check_design({"1": "direct", "2": "verbose"}, oracle)
    results = {"models": models, "oracle": oracle, "design": design}
    (eval_dir / "results.json").write_text(json.dumps(results))
    stages = {unit: {"status": "done", "seconds": 60.0} for unit in ("data", "sft", "grpo", "eval")}
    (run_dir / "manifest.json").write_text(json.dumps({"git_commit": "abc", "stages": stages}))
    return run_dir


@pytest.fixture
def seeds(tmp_path, load_bench, model_metrics):
    bench = load_bench("seeds_bench")
    good = {1: ("direct", 10, 8), 2: ("verbose", 10, 170)}  # its own oracle
    cut = {1: ("direct", 10, 8), 2: ("concise", 8, 46)}  # level 2 cut below what SFT does reliably
    good, cut = (fake_seed(model_metrics, tmp_path, f"s{i}", levels) for i, levels in enumerate((good, cut)))
    return bench, [bench.collect_seed(good, 0, 600.0), bench.collect_seed(cut, 1, 600.0)]


def test_each_seed_is_measured_against_its_own_sft_and_oracle(seeds):
    bench, runs = seeds
    assert runs[0]["oracle"]["levels"]["1"]["style"] == "direct"
    assert runs[0]["oracle"]["levels"]["2"]["style"] == "verbose"
    assert runs[1]["styles"]["grpo"] == {"1": {"direct": 1.0}, "2": {"concise": 1.0}}
    good, cut = (bench.seed_numbers(r) for r in runs)
    assert good["delta"] == 0 and good["x_oracle"] == pytest.approx(1.0) and good["adapts"]
    assert cut["level_delta"] == {"1": 0.0, "2": pytest.approx(-0.2)}
    assert cut["delta"] == pytest.approx(-0.1)
    assert cut["x_oracle"] == pytest.approx((8 + 46) / (8 + 170))
    assert cut["x_accuracy_only"] == pytest.approx((8 + 46) / (58 + 168))
    assert good["design_holds"] and cut["design_holds"]  # the task came out as designed on both seeds
    assert good["follows_oracle"] and not cut["follows_oracle"]  # concise where only verbose is reliable


def test_targets_fail_on_the_seed_that_cut_hard_reasoning_and_pass_on_tokens(seeds):
    bench, runs = seeds
    summary = bench.summarize(runs)
    assert summary["mean_delta"] == pytest.approx(-0.05) and summary["worst_delta"] == pytest.approx(-0.1)
    assert summary["level_worst_delta"]["2"] == pytest.approx(-0.2) and summary["adapting_seeds"] == 2
    assert summary["design_seeds"] == 2 and summary["oracle_style_seeds"] == 1
    met = {name: t["met"] for name, t in bench.targets(summary, total_s=1200.0).items()}
    assert not met["mean accuracy >= SFT's mean - 0.5 pt"] and not met["no seed below its own SFT - 2 pt"]
    assert met["every seed's tokens <= 1.10 x its oracle"] and met["whole benchmark <= 45 min"]
    assert met["slowest seed's pipeline <= 10 min"]  # 4 stages x 60 s
    assert not bench.targets(summary, total_s=46 * 60.0)["whole benchmark <= 45 min"]["met"]


def test_the_page_has_a_row_per_seed_then_mean_and_worst(seeds):
    bench, runs = seeds
    summary = bench.summarize(runs)
    report = {
        "command": "python benchmarks/seeds_bench.py",
        "git_commit": "abc",
        "eval_per_level": 10,
        "machine": {"cpus": 2, "platform": "test"},
        "total_seconds": 1200.0,
        "summary": summary,
        "targets": bench.targets(summary, 1200.0),
        "runs": runs,
    }
    rows = [line for line in bench.render(report).splitlines() if line.startswith("| ")][1:]
    assert [row.split("|")[1].strip() for row in rows] == ["0", "1", "mean", "worst"]
    assert "| -10.0 | +0.0 | -20.0 |" in rows[1] and "direct / verbose" in rows[1]
    assert all(len(row.split("|")) == len(rows[0].split("|")) for row in rows)


def test_units_that_ran_side_by_side_count_once_in_the_pipeline_time(load_bench):
    bench = load_bench("seeds_bench")
    stages = {
        "sft": {"seconds": 100.0, "finished": "2026-01-01T00:01:40+00:00"},
        "grpo": {"seconds": 50.0, "finished": "2026-01-01T00:02:30+00:00"},
        "grpo-accuracy-only": {"seconds": 60.0, "finished": "2026-01-01T00:02:40+00:00"},  # began beside grpo
        "eval": {"seconds": 10.0, "finished": "2026-01-01T00:02:55+00:00"},  # 5 s of nothing before it
    }
    assert bench.busy_seconds(stages) == 100.0 + 60.0 + 10.0
    assert bench.busy_seconds({"data": {"seconds": 2.0}, **stages}) == 172.0


def test_a_probe_beside_the_run_is_read_and_judged_against_its_own_sft(tmp_path, load_bench, model_metrics):
    bench = load_bench("seeds_bench")
    run_dir = fake_seed(model_metrics, tmp_path, "s0", {1: ("direct", 10, 8), 2: ("verbose", 10, 170)})
    assert bench.collect_seed(run_dir, 0, 600.0)["probe"] is None  # no probe.json: nothing is run
    rows = [
        {"model": model, "zero-middle": {"n": 300, "errors": zm}, "random": {"n": 300, "errors": rnd}}
        for model, zm, rnd in (("sft", 15, 4), ("grpo", 24, 3), ("grpo-accuracy-only", 16, 4))
    ]
    (run_dir / "probe.json").write_text(json.dumps({"run_dir": str(run_dir), "n": 300, "rows": rows}))
    run = bench.collect_seed(run_dir, 0, 600.0)
    assert bench.seed_numbers(run)["probe_excess"] == pytest.approx(9 / 300)
    summary = bench.summarize([run])
    met = bench.targets(summary, 600.0)["arith probe: no set's errors > SFT's + 1 % (every seed)"]
    assert met == {"value": pytest.approx(0.03), "bound": 0.01, "met": False}
    report = {
        "command": "x", "git_commit": "abc", "eval_per_level": 10, "machine": {"cpus": 2, "platform": "t"},
        "total_seconds": 600.0, "summary": summary, "targets": bench.targets(summary, 600.0), "runs": [run],
    }  # fmt: skip
    assert "| 15 / 24 / 16 of 300 |" in bench.render(report)
