"""Shared runs for the verifier tests: a real smoke run (data, sft), and a copy of it whose SFT model is
the chain model (it answers \\boxed{12}, or wanders off) on training prompts whose answer is 12."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SMOKE = os.path.abspath("recipes/tiny-arith/smoke.yaml")
ORM_ARGS = ["--kind", "orm", "--samples-per-prompt", "8", "--steps", "20"]


def cli(*args, timeout=300):
    """The real ``rl-reasoner`` in a subprocess, offline."""
    env = {**os.environ, "WANDB_SILENT": "true", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "rl_reasoner", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture(scope="session")
def run_cli():
    """:func:`cli`, for tests (conftest modules are not importable under --import-mode=importlib)."""
    return cli


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """``runs/tiny-arith-smoke`` after its data and sft stages (its SFT model answers nothing right yet)."""
    runs = tmp_path_factory.mktemp("runs")
    done = cli("run", SMOKE, "--runs-dir", str(runs), "--stages", "data,sft", "report_to=none")
    assert done.returncode == 0, done.stderr[-3000:]
    return runs / "tiny-arith-smoke"


@pytest.fixture(scope="session")
def twelve_run(smoke_run, answer_model, tmp_path_factory) -> Path:
    """The smoke run with the chain model as its SFT model and the 13 sums a+b=12 as its training prompts:
    about 45 % of samples are right (exactly ``\\boxed{12}``), the rest wander off. Its eval split is
    replaced by a line that is not JSON, so reading it would fail."""
    run = tmp_path_factory.mktemp("twelve") / "run"
    shutil.copytree(smoke_run, run)
    shutil.rmtree(run / "sft")
    shutil.copytree(answer_model, run / "sft")
    rows = [{"id": f"twelve-{a}", "level": 1, "prompt": f"{a}+{12 - a}=?\n", "answer": "12"}
            for a in range(13)]
    (run / "data" / "grpo.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (run / "data" / "eval.jsonl").write_text("the eval split: a verifier never reads it\n")
    return run


@pytest.fixture(scope="session")
def orm(twelve_run) -> tuple[Path, str]:
    """(folder, stdout) of ``rl-reasoner verifier`` on the twelve run."""
    done = cli("verifier", str(twelve_run), *ORM_ARGS)
    assert done.returncode == 0, done.stderr[-3000:]
    return twelve_run / "verifier-orm", done.stdout
