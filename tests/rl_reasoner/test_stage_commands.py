"""``rl-reasoner run`` with a ``launch:`` section: SFT and GRPO each run as a real 2-process
``accelerate launch --config_file launch/accelerate/cpu-2proc.yaml -m rl_reasoner <stage>`` (gloo on CPU),
and the rewards the two processes computed equal a one-process computation on the same completions.

The tiny model is first taught a *distribution* of short answers (``x…x\\boxed{7}``, sometimes 8, 0-3
fillers) so that its samples differ in length and correctness: group-relative rewards are then non-zero,
and the group split across the two processes gets different values when each process scores only its
own part (checked, so the test can fail).
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from rl_reasoner.data.tables import load_table
from rl_reasoner.reward_funcs import build_reward_funcs

CPU_2PROC = "launch/accelerate/cpu-2proc.yaml"
# per generation step: 2 x 6 completions = 3 groups of 4; group 1 has two items on each process
PER_DEVICE, GENERATIONS, GRPO_STEPS, SFT_STEPS = 6, 4, 3, 40

RECIPE = f"""
name: two-proc
seed: 0
model:
  base: tiny
  tiny: {{layers: 2, hidden: 32, heads: 2, intermediate: 64, max_positions: 128}}
data:
  task: hub
  train_size: 96
  grpo_size: 24
  eval_per_level: 2
  hub:
    dataset: DATASET
    question_column: question
    completion_column: completion
    prompt_template: "{{question}} "
sft:
  max_steps: {SFT_STEPS}
  per_device_train_batch_size: 4
  learning_rate: 1.0e-2
  lr_scheduler_type: constant
  save_steps: 1000
  logging_steps: 10
grpo:
  max_steps: {GRPO_STEPS}
  per_device_train_batch_size: {PER_DEVICE}
  num_generations: {GENERATIONS}
  max_completion_length: 16
  temperature: 1.0
  beta: 0.0
  save_steps: 1000
  logging_steps: 1
  log_completions: true
  num_completions_to_print: 0
rewards:
  - {{name: accuracy, weight: 1.0}}
  - {{name: below_mean_bonus, weight: 0.25}}
  - {{name: kimi, weight: 0.5}}
report_to: none
launch:
  config_file: {CPU_2PROC}
"""


def write_dataset(path: Path) -> None:
    rows = []
    for i in range(130):
        completion = "x" * (i % 4) + rf"\boxed{{{7 if i % 3 else 8}}}"
        rows.append({"question": f"q{i}", "answer": "7", "completion": completion})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def run_launched(tmp: Path, config_file: str) -> tuple[Path, subprocess.CompletedProcess]:
    write_dataset(tmp / "answers.jsonl")
    recipe = tmp / "two-proc.yaml"
    text = RECIPE.replace("DATASET", str(tmp / "answers.jsonl")).replace(CPU_2PROC, config_file)
    recipe.write_text(text)
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "rl_reasoner", "run", str(recipe), "--runs-dir", str(tmp / "runs"),
         "--stages", "data,sft,grpo"],
        capture_output=True, text=True, timeout=900, env=env, cwd=Path.cwd(),
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return tmp / "runs" / "two-proc", out


@pytest.fixture(scope="module")
def launched_run(tmp_path_factory):
    return run_launched(tmp_path_factory.mktemp("launch"), CPU_2PROC)


def test_run_launches_sft_and_grpo_as_two_process_stages(launched_run):
    run_dir, out = launched_run
    for stage in ("sft", "grpo"):
        assert f"[rl-reasoner] {stage}: launching 2 processes:" in out.stdout
        assert f"--config_file {CPU_2PROC} --num_processes 2 -m rl_reasoner {stage}" in out.stdout
        assert (run_dir / stage / "model.safetensors").exists()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [manifest["stages"][u]["status"] for u in ("data", "sft", "grpo")] == ["done"] * 3
    assert manifest["recipe"]["launch"]["config_file"] == CPU_2PROC
    # SFT: the epoch counter advances by the GLOBAL batch (4 rows x 2 processes) per step
    state = json.loads((run_dir / "sft" / f"checkpoint-{SFT_STEPS}" / "trainer_state.json").read_text())
    sft_rows = len(load_table(str(run_dir / "data" / "sft.jsonl")))
    assert state["log_history"][-1]["epoch"] == pytest.approx(SFT_STEPS * 4 * 2 / sft_rows, rel=0.02)


def assert_rewards_match_one_process(run_dir: Path) -> None:
    """Every reward column of TRL's completions tables (both processes' batch) equals a one-process
    computation, and each process's half alone would differ (so this can fail)."""
    rows = {r["prompt"]: r for r in load_table(str(run_dir / "data" / "grpo.jsonl")).to_list()}
    tables = sorted((run_dir / "grpo" / "completions").glob("completions_*.parquet"))
    assert len(tables) == GRPO_STEPS
    names = ("accuracy", "below_mean_bonus", "kimi")
    specs = [SimpleNamespace(name=n, weight=1.0, params={}) for n in names]
    discriminating = 0
    for path in tables:
        table = pd.read_parquet(path)
        assert len(table) == PER_DEVICE * 2  # the generation batch of BOTH processes, gathered in rank order
        batch = {
            "prompts": list(table["prompt"]),
            "completions": list(table["completion"]),
            "completion_ids": [[0] * int(n) for n in table["completion_tokens"]],  # lengths, EOS excluded
            "answer": [rows[p]["answer"] for p in table["prompt"]],
            "id": [rows[p]["id"] for p in table["prompt"]],
        }
        funcs = build_reward_funcs(specs, num_generations=GENERATIONS, eos_token_ids=[-1])
        for func in funcs:
            one_process = func(**batch)
            assert list(table[func.__name__]) == pytest.approx(one_process), (path.name, func.__name__)
            # what each process would get from its own half alone (no gathering): differs on the split group
            halves = [func(**{k: v[sl] for k, v in batch.items()}) for sl in (slice(0, 6), slice(6, 12))]
            discriminating += halves[0] + halves[1] != pytest.approx(one_process)
    assert discriminating, "no step's split group had length rewards that depend on the whole group"


def test_grpo_rewards_of_two_processes_equal_one_process(launched_run):
    assert_rewards_match_one_process(launched_run[0])


@pytest.mark.skipif(
    os.environ.get("RL_REASONER_DEEPSPEED_CPU_TEST") != "1" or importlib.util.find_spec("deepspeed") is None,
    reason="opt-in (RL_REASONER_DEEPSPEED_CPU_TEST=1) and needs deepspeed: ~1 min, and DeepSpeed's first "
    "start on a machine JIT-compiles its shared-memory op (several minutes)",
)
@pytest.mark.parametrize("zero", ["zero2", "zero3"])
def test_deepspeed_on_two_cpu_processes(tmp_path, zero):
    config = yaml.safe_load(Path(f"launch/accelerate/{zero}.yaml").read_text())
    config.update(use_cpu=True, num_processes=2, mixed_precision="no")
    (tmp_path / f"{zero}-cpu.yaml").write_text(yaml.safe_dump(config))
    run_dir, _ = run_launched(tmp_path, str(tmp_path / f"{zero}-cpu.yaml"))
    for stage in ("sft", "grpo"):  # each stage ends with a plain HF folder (16-bit gathered on ZeRO-3)
        assert (run_dir / stage / "model.safetensors").is_file()
    for stage, step in (("sft", SFT_STEPS), ("grpo", GRPO_STEPS)):
        shards = run_dir / stage / f"checkpoint-{step}" / f"global_step{step}"
        assert sorted(p.name for p in shards.glob("zero_pp_rank_*_optim_states.pt")) == [
            "zero_pp_rank_0_mp_rank_00_optim_states.pt", "zero_pp_rank_1_mp_rank_00_optim_states.pt"]
    assert_rewards_match_one_process(run_dir)


def test_stage_command_needs_the_stages_it_starts_from(tmp_path, capsys):
    from rl_reasoner.cli import main

    code = main(["grpo", "--recipe", "recipes/tiny-arith/smoke.yaml", "--run-dir", str(tmp_path / "run"),
                 "report_to=none"])
    err = capsys.readouterr().err
    assert code == 2 and "has no finished data/sft stage, which the grpo stage starts from" in err
    assert not (tmp_path / "run").exists()
