"""The real CLI in a subprocess: an end-to-end smoke run, resume, and bad input before any training."""

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

SMOKE = "recipes/tiny-arith/smoke.yaml"


def cli(*args, cwd, timeout=600):
    env = {**os.environ, "WANDB_SILENT": "true", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("WANDB_MODE", None)
    return subprocess.run(
        [sys.executable, "-m", "rl_reasoner", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    out = cli("run", os.path.abspath(SMOKE), "--runs-dir", str(runs), cwd=Path.cwd())
    assert out.returncode == 0, out.stderr[-3000:]
    return runs / "tiny-arith-smoke", out


def test_smoke_run_writes_every_stage_and_the_eval_report(smoke_run):
    run_dir, out = smoke_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    units = ["data", "sft", "grpo", "grpo-accuracy-only", "eval"]
    assert [manifest["stages"][u]["status"] for u in units] == ["done"] * 5
    for unit in ("sft", "grpo", "grpo-accuracy-only"):
        assert (run_dir / unit / "model.safetensors").exists()
    results = json.loads((run_dir / "eval" / "results.json").read_text())
    assert set(results["models"]) == {"sft", "grpo", "grpo-accuracy-only"}
    forced = results["models"]["sft"]["variants"]
    assert set(forced) == {"forced-direct", "forced-concise", "forced-verbose"}
    assert set(results["oracle"]["levels"]) == {"1", "2"}
    for label, metrics in results["models"].items():  # the schema `rl-reasoner eval` writes, per model
        assert metrics == json.loads((run_dir / "eval" / label / "metrics.json").read_text())
        assert metrics["overall"]["prompts"] == 8 and 0 <= metrics["overall"]["pass@1"] <= 1
    oracle = results["oracle"]["levels"]["1"]
    assert oracle["pass@1"] == forced[f"forced-{oracle['style']}"]["levels"]["1"]["pass@1"]
    table = (run_dir / "eval" / "table.md").read_text()
    assert "| grpo-accuracy-only |" in table and "| oracle |" in table
    assert table.splitlines()[0] in out.stdout  # printed at the end
    assert (run_dir / "eval" / "plot.png").read_bytes()[:4] == b"\x89PNG"


def test_pipeline_eval_equals_rl_reasoner_eval_and_reaches_the_model_card(smoke_run, tmp_path):
    """One engine: `rl-reasoner eval` of the run's GRPO model on the recipe's split gives the eval stage's
    numbers, and the exported card shows them."""
    run_dir, _ = smoke_run
    data = f"recipe:{os.path.abspath(SMOKE)}"
    out = cli("eval", str(run_dir), "--data", data, "--out", str(tmp_path / "e"), cwd=Path.cwd())
    assert out.returncode == 0, out.stderr[-3000:]
    alone = json.loads((tmp_path / "e" / "metrics.json").read_text())
    staged = json.loads((run_dir / "eval" / "grpo" / "metrics.json").read_text())
    assert alone["overall"] == staged["overall"] and alone["levels"] == staged["levels"]
    assert alone["config"]["max_new_tokens"] == staged["config"]["max_new_tokens"]
    out = cli("export", str(run_dir), "--to", str(tmp_path / "export"), cwd=Path.cwd())
    assert out.returncode == 0, out.stderr[-3000:]
    card = (tmp_path / "export" / "README.md").read_text()
    assert f"pass@1 {staged['overall']['pass@1']:.1%}" in card


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="side by side needs two cores")
def test_finished_models_are_evaluated_while_the_baseline_trains_as_the_eval_stage_would(smoke_run, tmp_path):
    """SFT (with the oracle's forced styles) and GRPO are evaluated on the core GRPO freed while the baseline
    still trains; the eval stage then resumes them. Redone by the eval stage alone: every sample the same."""
    import shutil

    run_dir, out = smoke_run
    ahead = out.stdout.index("eval: sft, grpo evaluated while grpo-accuracy-only trained")
    assert out.stdout.index("grpo: done") < ahead < out.stdout.index("eval: starting")
    copy = tmp_path / "runs" / "tiny-arith-smoke"
    shutil.copytree(run_dir, copy)
    again = cli("run", os.path.abspath(SMOKE), "--runs-dir", str(copy.parent), "--stages", "eval", "--force",
                cwd=Path.cwd())
    assert again.returncode == 0, again.stderr[-2000:]
    assert "evaluated while" not in again.stdout
    for label in ("sft", "grpo", "grpo-accuracy-only"):
        first, redone = ((d / "eval" / label / "samples.jsonl").read_text() for d in (run_dir, copy))
        assert first == redone, label
    first, redone = (json.loads((d / "eval" / "results.json").read_text()) for d in (run_dir, copy))
    assert first["oracle"] == redone["oracle"]


def wandb_history_keys(run_file: Path) -> set[str]:
    """Metric keys of an offline ``.wandb`` file (a LevelDB-style log of protobuf records), read back."""
    from wandb.proto import wandb_internal_pb2

    data, pos, block, pending, keys = run_file.read_bytes(), 7, 32768, b"", set()
    assert data[:4] == b":W&B"
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # block trailer padding
            pos += block - pos % block
            continue
        length, kind = struct.unpack("<HB", data[pos + 4 : pos + 7])
        chunk, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind == 0:
            break
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):  # a full record, or the last piece of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            if record.WhichOneof("record_type") == "history":
                keys |= {item.key or "/".join(item.nested_key) for item in record.history.item}
    return keys


def test_each_trainer_logged_to_its_own_offline_wandb_run(smoke_run):
    run_dir, _ = smoke_run
    # in the order the stages ran: folder names only have whole seconds, and a smoke stage takes about one
    runs = sorted((run_dir / "wandb").glob("offline-run-*/*.wandb"), key=lambda p: p.stat().st_mtime_ns)
    assert len(runs) == 3  # sft, grpo, grpo-accuracy-only
    sft, grpo, baseline = (wandb_history_keys(r) for r in runs)
    assert "train/loss" in sft and not any("rewards/" in k for k in sft)
    assert {
        "train/rewards/accuracy/mean",
        "train/rewards/constrained_bonus/mean",
        "train/frac_reward_zero_std",
        "train/completions/clipped_ratio",
    } <= grpo
    assert "train/rewards/accuracy/mean" in baseline
    assert "train/rewards/constrained_bonus/mean" not in baseline
    assert any(k.startswith("train/length/") for k in grpo)
    # per-level metrics and the length reward's gate, logged through TRL's log_metric
    assert {"train/accuracy/level_1", "train/length/level_2_mean_tokens"} <= grpo
    assert "train/length/constrained_bonus_open_groups" in grpo
    # the constraint's state, per level: multiplier (and, once the reference is measured, accuracy and floor)
    assert {"train/length/constrained_bonus_level_1_multiplier"} <= grpo
    import pandas as pd  # the table of sampled completions with each reward (GRPO's log_completions)

    table = pd.read_parquet(sorted((run_dir / "grpo" / "completions").glob("*.parquet"))[-1])
    assert {"prompt", "completion", "accuracy", "constrained_bonus", "advantage"} <= set(table.columns)
    assert len(table) > 0 and table["accuracy"].isin([0.0, 1.0]).all()
    wandb_tables = sorted((runs[1].parent / "files" / "media" / "table").glob("completions_*.table.json"))
    assert wandb_tables, "GRPO's completions table did not reach the offline wandb run"
    columns = json.loads(wandb_tables[-1].read_text())["columns"]
    assert {"completion", "accuracy", "constrained_bonus"} <= set(columns)


def test_console_shows_a_short_line_per_step_and_no_completions_table(smoke_run):
    """The completions table goes to wandb and parquet (above); the console gets one line per log step."""
    _, out = smoke_run
    assert "step 1 | loss" in out.stdout and "| accuracy " in out.stdout and "constrained_bonus" in out.stdout
    assert "Completion" not in out.stdout and "┃" not in out.stdout  # TRL's rich table of completions
    assert "{'loss'" not in out.stdout  # transformers' full metrics dict
    assert "FutureWarning" not in out.stderr


def test_a_run_evaluated_before_the_eval_engine_says_what_to_do_then_re_evaluates(smoke_run, tmp_path):
    """A run folder made before eval.backend and eval/<model>/metrics.json existed: one paragraph, exit 2,
    nothing touched; --force --stages eval redoes the eval (the old one kept) and the export has numbers."""
    import shutil

    from rl_reasoner.pipeline import fingerprint

    old = tmp_path / "runs" / "tiny-arith-smoke"
    shutil.copytree(smoke_run[0], old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["recipe"]["eval"]["backend"]  # as written before this key existed
    manifest["stages"]["eval"]["fingerprint"] = fingerprint(manifest["recipe"], "eval")
    (old / "manifest.json").write_text(json.dumps(manifest))
    for label in ("sft", "grpo", "grpo-accuracy-only"):
        shutil.rmtree(old / "eval" / label)
    old_schema = {"models": {"grpo": {"overall": {"accuracy": 0.5}}}}
    (old / "eval" / "results.json").write_text(json.dumps(old_schema))
    before = sorted(p.relative_to(old) for p in old.rglob("*"))
    out = cli("run", os.path.abspath(SMOKE), "--runs-dir", str(old.parent), cwd=Path.cwd())
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "eval.backend: None -> 'hf'" in out.stderr and "--force --stages eval" in out.stderr
    assert sorted(p.relative_to(old) for p in old.rglob("*")) == before
    out = cli("export", str(old), "--to", str(tmp_path / "card"), cwd=Path.cwd())  # old schema: no numbers
    assert out.returncode == 0 and "pass@1" not in (tmp_path / "card" / "README.md").read_text()
    out = cli("run", os.path.abspath(SMOKE), "--runs-dir", str(old.parent), "--stages", "eval", "--force",
              cwd=Path.cwd())
    assert out.returncode == 0, out.stderr[-2000:]
    assert len(list(old.glob("eval.bak-*"))) == 1 and (old / "eval" / "grpo" / "metrics.json").exists()


def test_second_run_skips_everything(smoke_run):
    run_dir, _ = smoke_run
    out = cli("run", os.path.abspath(SMOKE), "--runs-dir", str(run_dir.parent), cwd=Path.cwd())
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("skipped") == 5


CRASH_AFTER_FIRST_GRPO_CHECKPOINT = """
import sys, transformers
from rl_reasoner.cli import main

class Crash(transformers.TrainerCallback):  # a kill right after GRPO's first checkpoint is written
    def on_save(self, args, state, control, **kwargs):
        if "grpo" in args.output_dir and state.global_step == 1:
            raise SystemExit(3)

init = transformers.Trainer.__init__
def patched(self, *a, **k):
    init(self, *a, **k)
    self.add_callback(Crash())
transformers.Trainer.__init__ = patched
sys.exit(main(sys.argv[1:]))
"""


def test_interrupted_grpo_resumes_from_its_last_checkpoint(tmp_path):
    runs = tmp_path / "runs"
    crashed = subprocess.run(
        [
            sys.executable,
            "-c",
            CRASH_AFTER_FIRST_GRPO_CHECKPOINT,
            "run",
            os.path.abspath(SMOKE),
            "--runs-dir",
            str(runs),
            "--stages",
            "data,sft,grpo",
            "report_to=none",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert crashed.returncode == 3, crashed.stderr[-2000:]
    run_dir = runs / "tiny-arith-smoke"
    assert json.loads((run_dir / "manifest.json").read_text())["stages"]["grpo"]["status"] == "failed"
    assert (run_dir / "grpo" / "checkpoint-1").exists()

    out = cli(
        "run",
        os.path.abspath(SMOKE),
        "--runs-dir",
        str(runs),
        "--stages",
        "data,sft,grpo",
        "report_to=none",
        cwd=Path.cwd(),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "data: done" in out.stdout and "sft: done" in out.stdout and "grpo: resuming" in out.stdout
    state = json.loads((run_dir / "grpo" / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    assert json.loads((run_dir / "manifest.json").read_text())["stages"]["grpo"]["status"] == "done"


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "recipes/tiny-arith/nope.yaml"], "no such recipe file"),
        (["run", SMOKE, "grpo.learning_rat=1e-4"], "did you mean 'learning_rate'"),
        (["run", SMOKE, "sft.max_steps=many"], "sft.max_steps"),
        (["run", SMOKE, "model.base=./no/such/model"], "model.base"),
        (["run", SMOKE, "rewards.1.name=brevity"], "valid names"),
        (["run", SMOKE, "--stages", "sft,train"], "unknown stage"),
    ],
)
def test_bad_input_fails_fast_with_one_paragraph_and_touches_nothing(tmp_path, args, message):
    out = cli(*args, "--runs-dir", str(tmp_path / "runs"), cwd=Path.cwd(), timeout=120)
    assert out.returncode == 2
    assert message in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert not (tmp_path / "runs").exists()
