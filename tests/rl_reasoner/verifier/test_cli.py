"""``rl-reasoner verifier RUN --kind orm`` end to end, its control, and bad input (either kind) refused before
any model loads, with exit code 2 and nothing written. The process verifier end to end: ``test_prm.py``."""

import json
import re
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from rl_reasoner.cli import main
from rl_reasoner.verifier.info import tokenizer_fingerprint

SMOKE = "recipes/tiny-arith/smoke.yaml"


def test_verifier_command_writes_a_loadable_orm_and_its_record(orm, twelve_run):
    folder, stdout = orm
    info = json.loads((folder / "verifier.json").read_text())
    assert info["kind"] == "orm" and info["shuffled_labels"] is False
    assert info["policy"]["model"] == str((twelve_run / "sft").resolve())
    sft_tokenizer = AutoTokenizer.from_pretrained(twelve_run / "sft")
    assert info["tokenizer_sha256"] == tokenizer_fingerprint(sft_tokenizer)
    counts = info["counts"]
    assert counts["prompts"] == 13 and counts["samples"] == 13 * 8
    assert counts["train_prompts"] + counts["heldout_prompts"] == 13 and counts["heldout_prompts"] >= 1
    assert 0 < counts["correct_rate"] < 1 and counts["pairs"] > 0
    # right answers end the chain, wrong ones wander off: seeds 0, 3-7 gave 0.90-1.0 (seed 0: 1.0), pairs
    # swapped (chosen = the wrong one) gave 0.0
    assert info["heldout_auroc"] >= 0.8
    assert f"held-out AUROC: {info['heldout_auroc']:.3f}" in stdout
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    assert model.config.num_labels == 1 and model.config.pad_token_id == sft_tokenizer.pad_token_id
    assert tokenizer_fingerprint(AutoTokenizer.from_pretrained(folder)) == info["tokenizer_sha256"]


def test_shuffled_labels_are_recorded_and_keep_the_samples(orm, twelve_run, run_cli, tmp_path):
    """The control trains on permuted labels of the first ORM's very samples (``--samples-from``); its
    held-out AUROC (true labels) is chance in expectation, but on 3 held-out prompts one seed lands anywhere,
    so only the record is checked here."""
    out = tmp_path / "shuffled"
    done = run_cli("verifier", str(twelve_run), "--kind", "orm", "--samples-per-prompt", "8", "--steps", "20",
                   "--shuffle-labels", "--out", str(out), "--samples-from", str(orm[0]))
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads((out / "verifier.json").read_text())
    true = json.loads((orm[0] / "verifier.json").read_text())
    assert info["shuffled_labels"] is True and "labels shuffled" in done.stdout
    assert info["counts"]["samples"] == true["counts"]["samples"]
    assert info["counts"]["correct_rate"] == true["counts"]["correct_rate"]  # same samples, same draw
    saved = [(out / "labelled-samples.jsonl").read_text(), (orm[0] / "labelled-samples.jsonl").read_text()]
    assert saved[0] == saved[1] and saved[0].count("\n") == 1 + 13  # header + one line per prompt
    assert info["settings"]["samples_from"] == str(orm[0].resolve())
    auroc = info["heldout_auroc"]
    assert auroc is None or 0 <= auroc <= 1
    assert re.search(r"held-out AUROC: (\d\.\d{3}|undefined)", done.stdout)


def test_samples_from_trains_on_the_saved_samples(orm, twelve_run, run_cli, tmp_path):
    """Every saved label flipped in a copy: the second verifier counts the flipped ones, so it read them."""
    flipped = tmp_path / "flipped"
    flipped.mkdir()
    header, *lines = (orm[0] / "labelled-samples.jsonl").read_text().splitlines()
    items = [json.loads(line) for line in lines]
    for item in items:
        item["correct"] = [not ok for ok in item["correct"]]
    (flipped / "labelled-samples.jsonl").write_text("\n".join([header, *map(json.dumps, items)]) + "\n")
    out = tmp_path / "orm"
    done = run_cli("verifier", str(twelve_run), "--kind", "orm", "--samples-per-prompt", "8", "--steps", "2",
                   "--learning-rate", "3e-4", "--out", str(out), "--samples-from", str(flipped))  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads((out / "verifier.json").read_text())
    assert info["settings"]["learning_rate"] == 3e-4  # the flag reached the trainer's settings
    args = torch.load(out / "training_args.bin", weights_only=False)  # what the trainer ran with
    assert args.learning_rate == 3e-4
    rate = info["counts"]["correct_rate"]
    true = json.loads((orm[0] / "verifier.json").read_text())["counts"]["correct_rate"]
    assert rate == pytest.approx(1 - true, abs=1e-4)


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def data_only_run(tmp_path_factory) -> Path:
    """A run whose data stage finished and whose SFT stage never ran."""
    runs = tmp_path_factory.mktemp("data-only")
    assert main(["run", SMOKE, "--runs-dir", str(runs), "--stages", "data", "report_to=none"]) == 0
    return runs / "tiny-arith-smoke"


def test_bad_input_exits_2_with_one_paragraph_and_writes_nothing(twelve_run, data_only_run, orm, tmp_path,
                                                                 capsys):
    capsys.readouterr()
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    run = str(twelve_run)
    new = ["--kind", "orm", "--out", str(tmp_path / "new")]
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "labelled-samples.jsonl").write_text("not json\n")
    cases = [
        ([str(data_only_run), "--kind", "orm"], "has no finished SFT stage (stages.sft.status: not started)"),
        ([run, "--kind", "bert"], "unknown verifier kind 'bert'; expected one of ['orm', 'prm']"),
        ([run, "--kind", "orm", "--samples-per-prompt", "1"], "--samples-per-prompt must be >= 2"),
        ([run, "--kind", "orm", "--steps", "0"], "--steps must be >= 1"),
        ([run, "--kind", "orm", "--learning-rate", "0"], "--learning-rate must be > 0"),
        ([run, "--kind", "prm", "--learning-rate=-1e-4"], "--learning-rate must be > 0"),
        ([run, "--kind", "orm", "--prompts", "1"], "--prompts must be >= 2"),
        ([run, "--kind", "prm", "--continuations", "0"], "--continuations must be >= 1"),
        ([run, "--kind", "prm", "--samples-per-prompt", "0"], "--samples-per-prompt must be >= 1"),
        ([run, "--kind", "prm", "--steps", "0"], "--steps must be >= 1"),
        ([run, "--kind", "prm", "--shuffle-labels"], "--shuffle-labels is the outcome verifier's control"),
        ([run, "--kind", "orm", "--continuations", "4"], "use it with --kind prm"),
        ([run, "--kind", "prm", "--samples-from", str(orm[0])], "use it with --kind orm"),
        ([run, *new, "--samples-from", str(tmp_path)], "holds no labelled-samples.jsonl"),
        ([run, *new, "--samples-from", str(corrupt)], "is not a labelled-samples file"),
        ([run, *new, "--samples-from", str(orm[0]), "--seed", "1"], "seed: 0 there, 1 here"),
        ([run, *new, "--samples-from", str(orm[0]), "--samples-per-prompt", "4"],
         "samples_per_prompt: 8 there, 4 here"),
        ([str(data_only_run), "--kind", "prm"], "has no finished SFT stage"),
        ([str(tmp_path), "--kind", "orm"], "is not a run directory (no manifest.json)"),
        ([run, "--kind", "orm", "--out", str(taken)], "exists and is not empty"),
        ([run, "--kind", "prm", "--out", str(taken)], "exists and is not empty"),
    ]
    before = {folder: listing(folder) for folder in (twelve_run, data_only_run, tmp_path)}
    assert (orm[0] / "labelled-samples.jsonl").exists()
    for args, message in cases:
        code = main(["verifier", *args])
        err = capsys.readouterr().err
        assert code == 2 and message in err and err.count("\n") == 1, (args, err)
    assert before == {folder: listing(folder) for folder in before}


def test_a_smoke_sft_model_that_answers_nothing_right_gives_no_pairs_and_no_folder(sft_smoke_run, capsys):
    """The smoke recipe's 4-step SFT model writes noise: after sampling, the command stops, saying why."""
    capsys.readouterr()
    args = ["--kind", "orm", "--samples-per-prompt", "2", "--prompts", "4", "--steps", "1"]
    assert main(["verifier", str(sft_smoke_run), *args]) == 2
    last = capsys.readouterr().err.splitlines()[-1]  # after the loading and sampling progress bars
    assert last.startswith("rl-reasoner: error: none of the 3 training prompts has both a correct and")
    assert "there is no pair to train a verifier on" in last
    assert not (sft_smoke_run / "verifier-orm").exists()
