"""The validation gate through the real pipeline: a GRPO run whose checkpoints lose greedy accuracy on the val
split hands on the start model, one that keeps it hands on its last step, and bad settings stop at check."""

import json
import os
import shutil

import pytest
import torch
from transformers import AutoModelForCausalLM

from rl_reasoner.gate import failing_levels, level_accuracy

SMOKE = os.path.abspath("recipes/tiny-arith/smoke.yaml")
GRPO = ["data.val_per_level=2", "report_to=none", "baselines={}", "grpo.max_steps=2", "grpo.save_steps=1"]


@pytest.fixture
def chain_run(sft_smoke_run, answer_model, tmp_path):
    """The smoke run with the chain model as its SFT model and the 13 sums a+b=12 as its GRPO prompts and
    val rows: every greedy answer is right, about 45 % of sampled ones."""
    run = tmp_path / "runs" / "tiny-arith-smoke"
    shutil.copytree(sft_smoke_run, run)
    shutil.rmtree(run / "sft")
    shutil.copytree(answer_model, run / "sft")
    rows = [{"id": f"twelve-{a}", "level": 1 + a % 2, "prompt": f"{a}+{12 - a}=?\n", "answer": "12"}
            for a in range(13)]
    for split in ("grpo", "val"):
        (run / "data" / f"{split}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return run


def same_weights(a, b) -> bool:
    sa, sb = (AutoModelForCausalLM.from_pretrained(folder).state_dict() for folder in (a, b))
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_level_accuracy_and_failing_levels_agree_with_the_floor():
    accuracy = level_accuracy([{"level": 1}] * 4 + [{"level": 2}] * 2, [True, True, True, False, True, True])
    assert accuracy == {"1": 0.75, "2": 1.0}
    assert failing_levels(accuracy, {"1": 1.0, "2": 1.0}, 0.25) == []
    assert failing_levels(accuracy, {"1": 1.0, "2": 1.0}, 0.2) == ["1"]
    assert failing_levels({"1": 1.0}, {"1": 1.0, "2": 0.5}, 0.0) == ["2"]  # a level not measured fails


def test_a_run_that_breaks_its_answers_hands_on_the_start_model(chain_run, run_cli):
    args = ["--runs-dir", str(chain_run.parent), "--stages", "grpo", *GRPO, "gate.max_drop=0.0"]
    done = run_cli("run", SMOKE, *args, "grpo.learning_rate=1.0")  # lr 1: the chain is gone after one step
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((chain_run / "grpo" / "gate.json").read_text())
    assert record["reference"] == {"1": 1.0, "2": 1.0} and record["kept_step"] == 0
    # measured after training, newest first, until one passes: none did
    assert [h["step"] for h in record["history"]] == [2, 1] and all(h["failing"] for h in record["history"])
    # a candidate is measured lowest level first and only up to its first failing level
    assert [(list(h["accuracy"]), h["failing"]) for h in record["history"]] == [(["1"], ["1"])] * 2
    assert "gate: step 2 failed" in done.stdout and "handing on the start model" in done.stdout
    assert same_weights(chain_run / "grpo", chain_run / "sft")
    assert sorted(p.name for p in (chain_run / "grpo").glob("checkpoint-*")) == ["checkpoint-2"]


def test_a_run_whose_last_step_fails_hands_on_the_newest_checkpoint_that_passes(chain_run, run_cli):
    """Linear warm-up over 2 steps: step 1 trains at lr 0 (the chain intact), step 2 at lr 0.5 breaks it."""
    warmup = ["grpo.learning_rate=1.0", "grpo.lr_scheduler_type=linear", "grpo.warmup_steps=2"]
    args = ["--runs-dir", str(chain_run.parent), "--stages", "grpo", *GRPO, "gate.max_drop=0.0", *warmup]
    done = run_cli("run", SMOKE, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((chain_run / "grpo" / "gate.json").read_text())
    assert [(h["step"], bool(h["failing"])) for h in record["history"]] == [(2, True), (1, False)]
    assert record["kept_step"] == 1 and "handing on checkpoint-1" in done.stdout
    kept = sorted(p.name for p in (chain_run / "grpo").glob("checkpoint-*"))
    assert kept == ["checkpoint-1", "checkpoint-2"]
    assert same_weights(chain_run / "grpo", chain_run / "grpo" / "checkpoint-1")


def test_units_from_the_same_start_measure_its_reference_once(chain_run, run_cli):
    """The cached reference is what the gate uses (a planted one shows through) until the start changes."""
    args = ["--runs-dir", str(chain_run.parent), "--stages", "grpo", *GRPO, "gate.max_drop=0.0"]
    assert run_cli("run", SMOKE, *args).returncode == 0
    cache = chain_run / "gate-reference.json"
    saved = json.loads(cache.read_text())
    assert saved["reference"] == {"1": 1.0, "2": 1.0}
    cache.write_text(json.dumps({**saved, "reference": {"1": 0.5, "2": 0.5}}))
    done = run_cli("run", SMOKE, *args, "--force")
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((chain_run / "grpo" / "gate.json").read_text())["reference"] == {"1": 0.5, "2": 0.5}
    weights = chain_run / "sft" / "model.safetensors"
    weights.write_bytes(weights.read_bytes())  # new modification time: the start may have changed
    assert run_cli("run", SMOKE, *args, "--force").returncode == 0
    assert json.loads((chain_run / "grpo" / "gate.json").read_text())["reference"] == {"1": 1.0, "2": 1.0}


def test_a_run_that_keeps_its_answers_hands_on_its_last_step(chain_run, run_cli):
    args = ["--runs-dir", str(chain_run.parent), "--stages", "grpo", *GRPO, "gate.max_drop=0.0"]
    done = run_cli("run", SMOKE, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((chain_run / "grpo" / "gate.json").read_text())
    assert record["kept_step"] == 2 and record["history"][-1] == {
        "step": 2, "accuracy": {"1": 1.0, "2": 1.0}, "failing": []
    }
    assert not same_weights(chain_run / "grpo", chain_run / "sft")  # trained, and handed on as trained


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["gate.max_drop=0.01"], "data.val_per_level is 0 (no split)"),
        (["gate.max_drop=0.01", "data.val_per_level=2", "grpo.save_strategy=epoch"], "is 'epoch'"),
        (["gate.max_drop=1.5"], "'gate.max_drop' must be in [0, 1)"),
        (["data.val_per_level=-1"], "'val_per_level' must be >= 0"),
    ],
)
def test_bad_gate_settings_stop_at_check(overrides, message, run_cli):
    done = run_cli("check", SMOKE, *overrides)
    assert done.returncode == 2 and message in done.stderr, done.stderr[-2000:]


def test_two_launched_processes_share_the_verdict_and_hand_on_the_start_model(chain_run, run_cli):
    """The main process measures, the other waits for its verdict; both load the start weights back."""
    launch = f"launch.config_file={os.path.abspath('launch/accelerate/cpu-2proc.yaml')}"
    args = ["--runs-dir", str(chain_run.parent), "--stages", "grpo", *GRPO, "gate.max_drop=0.0", launch]
    done = run_cli("run", SMOKE, *args, "grpo.learning_rate=1.0")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "grpo: launching 2 processes" in done.stdout
    assert json.loads((chain_run / "grpo" / "gate.json").read_text())["kept_step"] == 0
    assert same_weights(chain_run / "grpo", chain_run / "sft")
