"""Frozen parameters through the real pipeline: a GRPO run with ``frozen`` names hands those weights on
exactly as the SFT model had them while the rest train, and a name that fits no parameter stops the stage
before any training with what to fix."""

import json
import os
import shutil

import pytest
import torch
from safetensors.torch import load_file

from rl_reasoner.freeze import FreezeError, freeze

SMOKE = os.path.abspath("recipes/tiny-arith/smoke.yaml")
GRPO = ["report_to=none", "baselines={}", "grpo.max_steps=2", "grpo.learning_rate=0.01", "--stages", "grpo"]


@pytest.fixture
def smoke_copy(sft_smoke_run, tmp_path):
    run = tmp_path / "runs" / "tiny-arith-smoke"
    shutil.copytree(sft_smoke_run, run)
    return run


def test_frozen_layers_are_handed_on_as_sft_left_them_and_the_rest_trains(smoke_copy, run_cli):
    frozen = "frozen=[model.embed_tokens, model.layers.0]"
    done = run_cli("run", SMOKE, "--runs-dir", str(smoke_copy.parent), *GRPO, frozen)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "grpo: " in done.stdout and "parameters frozen (model.embed_tokens, model.layers.0)" in done.stdout
    sft, grpo = (load_file(smoke_copy / unit / "model.safetensors") for unit in ("sft", "grpo"))
    held = [k for k in sft if k.startswith(("model.embed_tokens.", "model.layers.0."))]
    moved = [k for k in sft if k.startswith("model.layers.1.") and not torch.equal(sft[k], grpo[k])]
    assert held and all(torch.equal(sft[k], grpo[k]) for k in held)
    assert moved  # the upper layer trained
    manifest = json.loads((smoke_copy / "manifest.json").read_text())
    assert manifest["recipe"]["frozen"] == ["model.embed_tokens", "model.layers.0"]


def test_a_name_that_fits_no_parameter_stops_before_training(smoke_copy, run_cli):
    done = run_cli("run", SMOKE, "--runs-dir", str(smoke_copy.parent), *GRPO, "frozen=[model.layer.0]")
    assert done.returncode == 2, done.stderr[-3000:]
    assert "'model.layer.0' names no parameter of the model" in done.stderr
    assert "model.layers.0" in done.stderr  # the names it could have meant
    assert not (smoke_copy / "grpo" / "model.safetensors").exists()


def test_prefixes_are_dotted_and_something_must_stay_trainable():
    layers = torch.nn.ModuleDict({"1": torch.nn.Linear(2, 2), "10": torch.nn.Linear(2, 2)})
    model = torch.nn.ModuleDict({"layers": layers})
    assert freeze(model, ["layers.1"]) == (6, 12)
    assert not model["layers"]["1"].weight.requires_grad and model["layers"]["10"].weight.requires_grad
    with pytest.raises(FreezeError, match="covers every parameter"):
        freeze(model, ["layers"])
