"""demo_bench, eval_bench and arith_probe without a model: their targets and pages read the eval engine's
outputs (see conftest), and the probe scores through the engine with a stand-in backend."""

import json

from rl_reasoner.data.arith import STYLE_PREFIX
from rl_reasoner.evaluation.runner import ORIGINAL
from rl_reasoner.generation import Generation


def test_demo_rows_target_and_page_read_the_pipeline_results(load_bench, eval_dir):
    demo = load_bench("demo_bench")
    results = json.loads((eval_dir / "results.json").read_text())
    seconds = {"data": 1.0, "sft": 300.0, "grpo": 200.0, "grpo-accuracy-only": 230.0, "eval": 20.0}
    manifest = {"stages": {unit: {"seconds": s} for unit, s in seconds.items()}}
    fast, slow = demo.seed_row(70, 560.0, manifest, results), demo.seed_row(71, 615.0, manifest, results)
    assert fast["delta_accuracy_pt"] == 0.0  # grpo and sft both 100 %
    assert abs(fast["x_oracle"] - 79 / 89) < 1e-9  # grpo 8 / 150 tokens; oracle direct 8 / verbose 170
    assert abs(fast["x_accuracy_only"] - 79 / 113) < 1e-9
    target = "slowest seed's demo command <= 10 min"
    assert demo.targets([fast])[target]["met"]
    assert demo.targets([fast, slow])[target] == {"value": 615.0, "bound": 600.0, "met": False}
    report = {"command": "python benchmarks/demo_bench.py --seeds 70,71", "git_commit": "abc",
              "machine": {"cpus": 2, "cpu": "AMD EPYC", "platform": "Linux"}, "runs": [fast, slow],
              "targets": demo.targets([fast, slow])}
    page = demo.render(report)
    assert "| 70 | 9.3 | 1 | 300 | 200 | 230 | 20 | +0.0 | 0.89 | 0.70 |" in page
    assert "| 71 | 10.2 |" in page
    assert "- slowest seed's demo command <= 10 min: 615.0 s vs 600 s -> NOT met" in page


def test_eval_page_reads_the_perturbed_variant(load_bench, model_metrics, tmp_path):
    bench = load_bench("eval_bench")
    levels = {1: ("concise", 10, 27), 2: ("concise", 8, 46)}
    perturbed = {1: ("concise", 9, 27), 2: ("concise", 6, 46)}
    metrics = model_metrics(tmp_path / "sft", {ORIGINAL: levels, "perturbed": perturbed}, n=4)
    results = {"n": 4, "temperature": 0.8, "cpus": 2, "git_commit": "abc",
               "models": {"sft": {**metrics, "wall_seconds": 12.5}},
               "throughput": {"unbatched": 1.5, "batched (64)": 20.0}, "throughput_prompts": 32}
    page = bench.render(results, "python benchmarks/eval_bench.py --run RUN_DIR")
    assert ("| model | pass@1 | pass@4 | maj@4 | mean / median / p90 tokens | truncated | "
            "pass@1 with re-sampled numbers | eval wall s |") in page
    assert "| sft | 90.0% | 90.0% | 90.0% | 36 / 36 / 46 | 0.0% | 75.0% (-15.0%) | 12.5 |" in page
    assert "| model | 32 | 64 | 128 | 256 |" in page and "| sft | 50.0% | 90.0% | 90.0% | 90.0% |" in page
    bench.plot({"sft": metrics["budget_curve"]}, tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 0


class _Tokenizer:
    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": list(range(len(text.split())))}


class _Backend:
    """Answers a+b, off by 1000 when a's middle digit is 0; cut off (no EOS) when b is 999."""

    tokenizer = _Tokenizer()

    def prompts_per_chunk(self, n):
        return 3

    def generate(self, prompts, *, n, max_new_tokens, temperature, top_p, seed):
        out = []
        for prompt in prompts:
            a, b = (int(x) for x in prompt.split("=")[0].split("+"))
            answer = a + b + (1000 if a // 10 % 10 == 0 else 0)
            text = f" {a}+{b}:\n</think>\n\\boxed{{{answer}}}"
            out.append([Generation(text, 9, b == 999, tuple(range(9)))])
        return out


def test_probe_counts_what_the_eval_counts_as_wrong(load_bench, tmp_path, monkeypatch):
    probe = load_bench("arith_probe")
    monkeypatch.setattr(probe, "load_backend", lambda name, path, batch_size: _Backend())
    sets = {"zero-middle": [(105, 203), (207, 302), (111, 222), (903, 906), (405, 101)],
            "random": [(123, 456), (321, 999), (555, 444)]}
    found = probe.score(tmp_path / "sft", sets, STYLE_PREFIX["concise"], 4, tmp_path)
    assert found["zero-middle"]["n"] == 5 and found["zero-middle"]["errors"] == 4
    examples = found["zero-middle"]["examples"]
    assert [e["problem"] for e in examples] == ["105+203", "207+302", "903+906"]  # problem order, first 3
    # the completion starts with the forced opening, as in the eval's samples
    assert examples[0]["completion"] == "<think>\nAdd 105+203:\n</think>\n\\boxed{1308}"
    assert found["random"] == {"n": 3, "errors": 1, "examples": [
        {"problem": "321+999", "completion": "<think>\nAdd 321+999:\n</think>\n\\boxed{1320}"}]}  # cut off
    rows = [{"model": "sft, forced concise", **found}]
    assert probe.table(rows, list(sets)).splitlines() == [
        "| model | zero-middle errors | random errors |", "|---|---|---|",
        "| sft, forced concise | 4 / 5 | 1 / 3 |"]
