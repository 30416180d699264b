"""GRPO units side by side on CPU: the run's GRPO unit trains in this process and each baseline in a child
process at the same thread share; only the parent writes the manifest, the gate's reference is measured
once before they start, and a unit redone alone ends with the weights it had when it trained beside the
others."""

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from rl_reasoner.side_by_side import cpu_share

sys.path.insert(0, os.path.dirname(__file__))  # the sibling test modules (pytest imports with importlib)
from test_cli import SMOKE, cli  # noqa: E402

CASES = [(8, 2, 4), (8, 3, 2), (2, 2, 1), (2, 3, 1), (8, 1, None), (1, 2, None)]


@pytest.mark.parametrize("cores, units, share", CASES)
def test_the_share_depends_on_cores_and_units_only(monkeypatch, cores, units, share):
    import torch

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)), raising=False)
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: False)
    assert cpu_share(units) == share


def test_with_an_accelerator_units_run_one_after_another(monkeypatch):
    import torch

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(8)), raising=False)
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: True)
    assert cpu_share(2) is None


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="side by side needs two cores")
def test_the_baseline_trains_in_a_child_process_and_ends_as_when_redone_alone(tmp_path):
    from transformers import AutoModelForCausalLM

    args = ["run", os.path.abspath(SMOKE), "--runs-dir", str(tmp_path), "--stages", "data,sft,grpo"]
    args += ["report_to=none", "data.val_per_level=2", "gate.max_drop=0.5"]
    out = cli(*args, cwd=Path.cwd())
    assert out.returncode == 0, out.stderr[-2000:]
    run_dir = tmp_path / "tiny-arith-smoke"
    # the gate's reference is measured once, before the units start, and both units read it
    measured = out.stdout.index("gate: start model's val accuracy per level")
    assert measured < out.stdout.index("grpo-accuracy-only: training beside grpo")
    reference = json.loads((run_dir / "gate-reference.json").read_text())["reference"]
    for unit in ("grpo", "grpo-accuracy-only"):
        assert json.loads((run_dir / unit / "gate.json").read_text())["reference"] == reference
    log = (run_dir / "logs" / "grpo-accuracy-only.log").read_text()
    assert "step 2 | loss" in log and "step 2 | loss" not in out.stdout.split("grpo: done")[-1]
    manifest = json.loads((run_dir / "manifest.json").read_text())["stages"]
    assert manifest["grpo"]["status"] == manifest["grpo-accuracy-only"]["status"] == "done"
    for unit in ("grpo", "grpo-accuracy-only"):
        AutoModelForCausalLM.from_pretrained(run_dir / unit)
    beside = (run_dir / "grpo-accuracy-only" / "model.safetensors").read_bytes()

    whole = json.loads((run_dir / "manifest.json").read_text())
    whole["stages"]["grpo-accuracy-only"]["status"] = "failed"  # as if it had died before its first save
    (run_dir / "manifest.json").write_text(json.dumps(whole))
    shutil.rmtree(run_dir / "grpo-accuracy-only")
    again = cli(*args, cwd=Path.cwd())
    assert again.returncode == 0, again.stderr[-2000:]
    assert "grpo: done" in again.stdout and "skipped" in again.stdout
    assert "training beside" not in again.stdout
    assert (run_dir / "grpo-accuracy-only" / "model.safetensors").read_bytes() == beside
