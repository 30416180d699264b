"""The scoring API: load_verifier's checks (before any model loads) and Verifier.score."""

import json
import shutil

import pytest
from transformers import AutoTokenizer

from rl_reasoner.errors import UsageError
from rl_reasoner.verifier import Verifier, VerifierError, load_verifier


def test_score_gives_one_deterministic_float_per_pair(orm, twelve_run):
    verifier = load_verifier(str(orm[0]), kind="orm", policy_tokenizer=str(twelve_run / "sft"))
    assert isinstance(verifier, Verifier) and verifier.kind == "orm"
    prompts = ["5+7=?\n", "5+7=?\n", "3+9=?\n", "0+12=?\n", "1+11=?\n"]
    completions = ["\\boxed{12}", "\\boxed{1", "zq\x01 <think>", "", "\\boxed{12}\\boxed{12}"]
    scores = verifier.score(prompts, completions, batch_size=2)
    assert len(scores) == len(prompts) and all(isinstance(s, float) for s in scores)
    assert verifier.score(prompts, completions, batch_size=2) == scores
    assert verifier.score(prompts, completions) == pytest.approx(scores, abs=1e-5)  # padding changes nothing
    alone = [verifier.score([p], [c])[0] for p, c in zip(prompts, completions, strict=True)]
    assert alone == pytest.approx(scores, abs=1e-5)  # batched by length, each score back at its own pair
    assert verifier.score([], []) == []
    with pytest.raises(VerifierError, match="2 prompts but 1 completions"):
        verifier.score(prompts[:2], completions[:1])


def test_a_finished_answer_outscores_one_that_wandered_off(orm):
    """The verifier learned what separates the chain model's right samples from its wrong ones."""
    verifier = load_verifier(str(orm[0]))
    right, wandered = verifier.score(["4+8=?\n"] * 2, ["\\boxed{12}", "\\boxed{1zq"])
    assert right > wandered


@pytest.fixture
def info_only(orm, tmp_path):
    """A copy of the verifier's ``verifier.json`` alone: loading a model from here would fail."""
    folder = tmp_path / "info-only"
    folder.mkdir()
    shutil.copy(orm[0] / "verifier.json", folder)
    return folder


def snapshot(folder):
    return sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir())


def test_a_folder_without_verifier_json_is_refused(twelve_run):
    before = snapshot(twelve_run / "sft")
    message = "not a verifier folder: make one with rl-reasoner verifier RUN --kind orm"
    with pytest.raises(VerifierError, match=message):
        load_verifier(str(twelve_run / "sft"))
    assert snapshot(twelve_run / "sft") == before


def test_a_verifier_of_another_kind_is_refused_before_loading(info_only):
    before = snapshot(info_only)
    with pytest.raises(VerifierError, match="holds a verifier of kind 'orm', not the 'prm' asked for"):
        load_verifier(str(info_only), kind="prm")
    info = json.loads((info_only / "verifier.json").read_text())
    (info_only / "verifier.json").write_text(json.dumps(info | {"kind": "rlhf"}))
    with pytest.raises(VerifierError, match="unknown verifier kind 'rlhf'"):
        load_verifier(str(info_only))
    assert [name for name, _ in snapshot(info_only)] == [name for name, _ in before]


def test_a_verifier_trained_on_another_tokenizer_is_refused_before_loading(info_only, twelve_run):
    other = AutoTokenizer.from_pretrained(twelve_run / "sft")
    other.add_tokens(["<|step|>"])
    before = snapshot(info_only)
    with pytest.raises(VerifierError, match="the policy's tokenizer differs") as caught:
        load_verifier(str(info_only), policy_tokenizer=other)
    assert isinstance(caught.value, UsageError) and "\n" not in str(caught.value)
    assert snapshot(info_only) == before
