"""benchmarks/style_coupling.py on a real (random-init, 4-layer) tiny model saved as a run's ``sft/``
folder and real sized arith splits: the push moves the two levels' choices apart, in memory only."""

import json

import torch
from transformers import AutoModelForCausalLM

from rl_reasoner.data.arith import build_splits, write_splits
from rl_reasoner.recipe import TinyModelSpec
from rl_reasoner.tiny_model import save_tiny_model

MIX = {"direct": 0.1, "concise": 0.3, "verbose": 0.6}


def test_the_push_moves_level_2s_choice_against_level_3s_and_leaves_the_saved_model(tmp_path, load_bench):
    mod = load_bench("style_coupling")
    splits = build_splits([1, 2, 3], 30, 120, 20, MIX, 0, sized=True)
    write_splits(splits, tmp_path / "data")
    save_tiny_model(tmp_path / "sft", TinyModelSpec(layers=4, hidden=32, heads=2, intermediate=64))
    before = AutoModelForCausalLM.from_pretrained(tmp_path / "sft").state_dict()
    res = mod.measure(tmp_path, steps=20, lr=3e-3)
    assert res["head"] == "3-digit\n"
    assert len(res["separation"]) == 5 and all(v >= 0 for v in res["separation"])
    assert [p["step"] for p in res["trajectory"]] == [0, 10, 20]
    gap = [p["level_2"][0] - p["level_3"][0] for p in res["trajectory"]]
    assert gap[-1] > gap[0] + 0.1, gap  # level 2 toward concise relative to level 3
    after = AutoModelForCausalLM.from_pretrained(tmp_path / "sft").state_dict()  # measure never saves
    assert all(torch.equal(before[k], after[k]) for k in before)
    report = {"command": "c", "git_commit": "x", "steps": 20, "lr": 3e-3, "runs": {str(tmp_path): res}}
    page = mod.render(json.loads(json.dumps(report)))
    assert "| 20 |" in page and "3-digit" in page
