"""``rl-reasoner eval`` end to end on the chain model (its greedy answer is always \\boxed{12}), resume, and
bad input rejected before anything is generated."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from rewards.verify import verify
from rl_reasoner.cli import main
from rl_reasoner.evaluation.sources import DataSpec, load_rows

SMOKE = os.path.abspath("recipes/tiny-arith/smoke.yaml")
SAMPLING = "--n 4 --k 1,2,4 --temperature 1.0 --max-new-tokens 40 --batch-size 16 --perturb".split()


@pytest.fixture(scope="module")
def arith_data(tmp_path_factory):
    """The smoke recipe's first 4 eval problems as a jsonl file (the subprocess then needs no recipe/TRL)."""
    path = tmp_path_factory.mktemp("data") / "arith.jsonl"
    rows = load_rows(DataSpec(f"recipe:{SMOKE}", limit=4))
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return ["--data", str(path), *SAMPLING]


@pytest.fixture(scope="module")
def sampled_eval(answer_model, arith_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "out"
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "rl_reasoner", "eval", str(answer_model), *arith_data, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs)


def test_eval_writes_samples_metrics_table_and_plot(sampled_eval, answer_model):
    out, done = sampled_eval
    assert {p.name for p in out.iterdir()} == {
        "eval_config.json",
        "samples.jsonl",
        "metrics.json",
        "metrics.md",
        "budget_curve.png",
    }
    assert (out / "budget_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "metrics.md").read_text() in done.stdout
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert sorted((r["variant"], r["id"]) for r in records) == sorted(
        [
            (v, f"eval-{i}{'-perturbed' * (v == 'perturbed')}")
            for v in ("original", "perturbed")
            for i in range(4)
        ]
    )
    tokenizer = AutoTokenizer.from_pretrained(answer_model)
    samples = [s for r in records for s in r["samples"]]
    assert all(len(r["samples"]) == 4 for r in records)
    for r in records:
        for s in r["samples"]:
            assert (
                s["tokens"] == len(s["token_ids"]) <= 40
                and tokenizer.decode(s["token_ids"], skip_special_tokens=True) == s["text"]
            )
            assert s["correct"] == (verify(r["answer"], s["text"]) is True and not s["truncated"])
    # the chain model answers 12: right on 6+6 (eval-0), wrong on 15+43; sampling mixes in failures
    assert 0 < sum(s["correct"] for s in samples) < len(samples)
    assert any(s["truncated"] for s in samples) and any(s["text"] == r"\boxed{12}" for s in samples)


def test_metrics_agree_with_the_samples(sampled_eval):
    out, _ = sampled_eval
    metrics = json.loads((out / "metrics.json").read_text())
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    original = [r for r in records if r["variant"] == "original"]
    o = metrics["overall"]
    assert o["prompts"] == 4 and o["samples"] == 16
    assert o["pass@1"] == pytest.approx(mean(s["correct"] for r in original for s in r["samples"]))
    assert o["pass@4"] == pytest.approx(mean(any(s["correct"] for s in r["samples"]) for r in original))
    assert o["maj@1"] == pytest.approx(mean(r["samples"][0]["correct"] for r in original))
    assert o["pass@1"] <= o["pass@2"] <= o["pass@4"]
    assert o["truncation_rate"] == pytest.approx(mean(s["truncated"] for r in original for s in r["samples"]))
    assert o["mean_tokens"] == pytest.approx(mean(s["tokens"] for r in original for s in r["samples"]))
    assert sum(lv["prompts"] for lv in metrics["levels"].values()) == 4 and set(metrics["levels"]) == {
        "1",
        "2",
    }
    assert [p["budget"] for p in metrics["budget_curve"]] == [32, 40]
    assert metrics["budget_curve"][-1]["accuracy"] == pytest.approx(o["pass@1"])
    rob = metrics["robustness"]["overall"]
    perturbed = metrics["variants"]["perturbed"]["overall"]["pass@1"]
    assert rob["original"] == o["pass@1"] and rob["perturbed"] == perturbed
    assert rob["drop"] == pytest.approx(rob["original"] - rob["perturbed"])


def test_rerun_resumes_and_resamples_a_lost_chunk_identically(sampled_eval, answer_model, arith_data, capsys):
    out, _ = sampled_eval
    full = (out / "samples.jsonl").read_text()
    lines = full.splitlines(keepends=True)
    (out / "samples.jsonl").write_text("".join(lines[:-4]) + '{"variant": "orig')  # crash mid-line
    assert main(["eval", str(answer_model), *arith_data, "--out", str(out)]) == 0
    assert "resuming, 4 of 8 prompts done" in capsys.readouterr().out
    assert (out / "samples.jsonl").read_text() == full


def test_greedy_single_sample_defaults(answer_model, tmp_path, capsys):
    out = tmp_path / "greedy"
    assert (
        main(["eval", str(answer_model), "--data", f"recipe:{SMOKE}", "--limit", "2", "--out", str(out)]) == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert (
        metrics["config"]["temperature"] == 0 and metrics["config"]["max_new_tokens"] == 32
    )  # smoke's budget
    assert metrics["overall"]["pass@1"] == 0.5 and metrics["ks"] == [1]  # 6+6 right, 15+43 wrong


def run_main(capsys, *args):
    code = main(["eval", *args])
    return code, capsys.readouterr().err


def test_bad_input_is_reported_before_anything_is_generated(answer_model, tmp_path, capsys):
    out = tmp_path / "out"
    data = ["--data", f"recipe:{SMOKE}", "--out", str(out)]
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"q": "1+1", "a": "2"}) + "\n")
    run_dir = tmp_path / "run"
    (run_dir / "sft").mkdir(parents=True)
    (run_dir / "manifest.json").write_text("{}")
    (run_dir / "sft" / "config.json").write_text("{}")
    cases = [
        ([str(answer_model), *data, "--n", "2", "--k", "1,4"], "k=[4] is outside 1..n=2"),
        ([str(answer_model), *data, "--n", "3", "--temperature", "0"], "repeat one greedy sample"),
        (["nobody-here/no-such-model", *data], "model 'nobody-here/no-such-model' is not a local folder"),
        ([str(tmp_path / "nope"), *data], "no such model folder"),
        (
            [str(run_dir), "--stage", "grpo-x", *data],
            "no finished 'grpo-x' model (a folder with config.json); its model folders: ['sft']",
        ),
        ([str(answer_model), "--data", str(qa), "--out", str(out)], "its columns are ['q', 'a']"),
        ([str(answer_model), "--data", "nobody-here/no-such-dataset", "--out", str(out)], "offline"),
        (
            [
                str(answer_model),
                "--data",
                str(qa),
                "--question-column",
                "q",
                "--answer-column",
                "a",
                "--perturb",
                "--out",
                str(out),
            ],
            "--perturb re-samples arith problems",
        ),
    ]
    for args, message in cases:
        code, err = run_main(capsys, *args)
        assert code == 2 and message in err and err.count("\n") == 1, (args, err)
        assert not out.exists()


def test_vllm_backend_needs_vllm(answer_model, tmp_path, capsys):
    try:
        import vllm  # noqa: F401

        pytest.skip("vLLM is installed here")
    except ImportError:
        pass
    code, err = run_main(
        capsys,
        str(answer_model),
        "--data",
        f"recipe:{SMOKE}",
        "--backend",
        "vllm",
        "--out",
        str(tmp_path / "out"),
    )
    assert code == 2 and "the vllm eval backend needs vLLM" in err and not (tmp_path / "out").exists()


def test_out_folder_with_other_content_or_configuration_is_left_alone(answer_model, tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    code, err = run_main(capsys, str(answer_model), "--data", f"recipe:{SMOKE}", "--out", str(foreign))
    assert code == 2 and "holds no eval_config.json" in err and os.listdir(foreign) == ["notes.txt"]

    out = tmp_path / "out"
    assert (
        main(["eval", str(answer_model), "--data", f"recipe:{SMOKE}", "--limit", "1", "--out", str(out)]) == 0
    )
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, err = run_main(
        capsys, str(answer_model), "--data", f"recipe:{SMOKE}", "--limit", "2", "--out", str(out)
    )
    assert code == 2 and "different configuration" in err and "data.limit: 1 -> 2" in err
    assert {p.name: p.read_bytes() for p in Path(out).iterdir()} == before


def test_samples_scored_with_another_answer_extraction_are_not_resumed(answer_model, tmp_path, capsys):
    out = tmp_path / "out"
    args = [str(answer_model), "--data", f"recipe:{SMOKE}", "--limit", "1", "--out", str(out)]
    assert main(["eval", *args]) == 0
    config = json.loads((out / "eval_config.json").read_text())
    assert config["extraction"] == "lenient"
    del config["extraction"]  # as written before the extraction modes existed (boxed answers only)
    (out / "eval_config.json").write_text(json.dumps(config))
    code, err = run_main(capsys, *args)
    assert code == 2 and "extraction: None -> 'lenient'" in err
