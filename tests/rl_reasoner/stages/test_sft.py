"""The SFT stage's masked rows: kept in their batches, trained on not at all (a leave-out retrain that
changes nothing else)."""

import json
import shutil

import pytest
from datasets import Dataset
from safetensors.torch import load_file

from rl_reasoner.stages.sft import mask_labels, masked_rows

SMOKE = "recipes/tiny-arith/smoke.yaml"
MASKED = range(0, 20)


def _garble(text: str) -> str:
    return "".join(str((int(c) + 1) % 10) if c.isdigit() else c for c in text)


def _sft_copy(run, runs, run_cli, garble: bool):
    """``run``'s data stage in ``runs``, its first rows marked masked (their digits changed with ``garble``),
    SFT rerun through the CLI; the trained weights."""
    target = runs / run.name
    shutil.copytree(run / "data", target / "data")
    shutil.copy(run / "manifest.json", target / "manifest.json")
    path = target / "data" / "sft.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for i in MASKED:
        rows[i]["masked"] = True
        if garble:
            rows[i]["completion"] = _garble(rows[i]["completion"])
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    done = run_cli("run", SMOKE, "--runs-dir", str(runs), "--stages", "sft", "--force", "report_to=none")
    assert done.returncode == 0, done.stderr[-3000:]
    return load_file(target / "sft" / "model.safetensors")


def test_masked_rows_train_nothing_and_leave_every_other_batch_as_it_was(sft_smoke_run, run_cli, tmp_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(sft_smoke_run / "sft")
    rows = [json.loads(line) for line in (sft_smoke_run / "data" / "sft.jsonl").read_text().splitlines()]
    for i in MASKED:  # same token counts, so the length-balanced batches are the same too
        text, garbled = rows[i]["completion"], _garble(rows[i]["completion"])
        assert len(tokenizer(text)["input_ids"]) == len(tokenizer(garbled)["input_ids"]) and text != garbled

    masked = _sft_copy(sft_smoke_run, tmp_path / "a", run_cli, garble=False)
    garbled = _sft_copy(sft_smoke_run, tmp_path / "b", run_cli, garble=True)
    original = load_file(sft_smoke_run / "sft" / "model.safetensors")
    assert masked.keys() == garbled.keys() == original.keys()
    assert all((masked[k] == garbled[k]).all() for k in masked)  # what a masked row says changes nothing
    assert any(not (masked[k] == original[k]).all() for k in masked)  # masking them changed the training


def test_a_masked_value_other_than_a_boolean_is_named():
    assert masked_rows(Dataset.from_list([{"masked": True}, {"masked": None}, {"masked": False}]), "x") == {0}
    assert masked_rows(Dataset.from_list([{"prompt": "p"}]), "x") == set()
    with pytest.raises(ValueError, match=r"row 0 of sft\.jsonl has masked='yes'; expected true"):
        masked_rows(Dataset.from_list([{"masked": "yes"}]), "sft.jsonl")


def test_masking_is_refused_when_trl_dropped_a_row_and_clears_only_the_masked_rows_labels():
    rows = [{"input_ids": [1, 2], "labels": [-100, 2]}, {"input_ids": [3], "labels": [3]}]
    prepared = Dataset.from_list(rows)
    assert mask_labels(prepared, {1}, 2, "sft.jsonl")["labels"] == [[-100, 2], [-100]]
    with pytest.raises(ValueError, match=r"rows marked masked, but TRL's prepared dataset has 2 of its 3"):
        mask_labels(prepared, {1}, 3, "sft.jsonl")
