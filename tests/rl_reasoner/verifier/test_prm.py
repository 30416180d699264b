"""The process verifier: its training rows, then ``rl-reasoner verifier RUN --kind prm`` end to end on the
twelve run (few prompts, steps and continuations) and the folder it writes, loaded back and scored."""

import json

import pytest
from transformers import AutoTokenizer

from rl_reasoner.evaluation.search import SearchSpec
from rl_reasoner.tiny_model import build_tokenizer
from rl_reasoner.verifier import VerifierError, load_verifier
from rl_reasoner.verifier.info import tokenizer_fingerprint
from rl_reasoner.verifier.mc_labels import StepLabels
from rl_reasoner.verifier.prm import token_rows
from rl_reasoner.verifier.samples import LabelledPrompt
from rl_reasoner.verifier.steps import step_ends


def test_training_rows_label_the_token_that_ends_each_step_and_nothing_else():
    tokenizer = build_tokenizer()
    completion = "<think>\nAdd 4+8:\n4+8=12\n</think>\n\\boxed{12}"
    items = [LabelledPrompt("a", 1, "4+8=?\n", "12", (completion,), (True,))]
    labels = (True, False, True, False, True)
    (row,) = token_rows(tokenizer, items, [StepLabels(0, completion, labels, labels)])
    assert row["input_ids"] == tokenizer("4+8=?\n" + completion)["input_ids"]
    marked = [(i, y) for i, y in enumerate(row["labels"]) if y != -100]
    assert [y for _, y in marked] == [1, 0, 1, 0, 1]
    ends = [len("4+8=?\n") + end for end in step_ends(completion)]
    for (index, _), end in zip(marked, ends, strict=True):
        assert tokenizer.decode(row["input_ids"][: index + 1]) == ("4+8=?\n" + completion)[:end]


def test_the_command_writes_a_prm_folder_with_its_labels_and_their_evaluation(prm, twelve_run):
    folder, stdout = prm
    info = json.loads((folder / "verifier.json").read_text())
    assert info["kind"] == "prm" and info["whole_completion_score"] == "min over steps"
    sft_tokenizer = AutoTokenizer.from_pretrained(twelve_run / "sft")
    assert info["tokenizer_sha256"] == tokenizer_fingerprint(sft_tokenizer)
    assert info["settings"]["continuations"] == 2 and info["settings"]["steps"] == 3
    counts = info["counts"]
    assert counts["prompts"] == 5 and counts["samples"] == 20 and counts["heldout_prompts"] == 1
    samples = [json.loads(line) for line in (folder / "step_labels.jsonl").read_text().splitlines()]
    assert len(samples) == 20 and sum(s["heldout"] for s in samples) == 4
    for s in samples:
        assert s["step_ends"] == step_ends(s["completion"]) and len(s["labels"]) == len(s["step_ends"])
        right, drawn = s["labels"][-1], s["continuations"][:-1]
        assert s["fractions"][-1] == float(right) and s["continuations"][-1] == 0
        # a right completion's steps are right, none continued; a wrong one's are continued (one round of
        # M = 2), right up to its latest step with a right continuation
        assert drawn == [0 if right else 2] * len(drawn)
        assert s["labels"][:-1] == [right or any(f for f in s["fractions"][i:-1]) for i in range(len(drawn))]
    assert any(len(s["labels"]) > 1 and not s["labels"][-1] for s in samples)  # steps were continued
    assert counts["steps"] == sum(len(s["labels"]) for s in samples)
    assert counts["continued_prefixes"] == sum(len(s["labels"]) - 1 for s in samples if not s["labels"][-1])
    assert counts["continuations"] == 2 * counts["continued_prefixes"]
    # the twelve prompts are additions, so every step is checked; the chain model writes no trace
    heldout = info["mc_vs_exact"]["heldout"]
    assert heldout["steps"] == sum(len(s["labels"]) for s in samples if s["heldout"])
    assert info["unchecked_steps"] == 0 and info["mc_vs_exact"]["all"]["steps"] == counts["steps"]
    assert f"held-out MC labels agree with the exact checker: {heldout['rate']:.1%}" in stdout


def test_the_folder_loads_as_a_prm_and_scores_each_step(prm, twelve_run):
    verifier = load_verifier(str(prm[0]), kind="prm", policy_tokenizer=str(twelve_run / "sft"))
    assert verifier.kind == "prm" and verifier.model.config.num_labels == 2
    prompts = ["5+7=?\n", "3+9=?\n", "0+12=?\n", "6+6=?\n"]
    completions = ["\\boxed{12}", "zq\nxy\n\\boxed{12}", "", "<think>\nLet me add 6 and 6.\n6+6+0=12\n"]
    steps = verifier.score_steps(prompts, completions, batch_size=3)
    assert [len(s) for s in steps] == [1, 3, 1, 3]
    assert all(0 <= x <= 1 for s in steps for x in s)
    flat = [x for s in steps for x in s]
    again = [x for s in verifier.score_steps(prompts, completions) for x in s]
    assert again == pytest.approx(flat, abs=1e-5)  # padding and batching change nothing
    alone = [x for p, c in zip(prompts, completions, strict=True) for x in verifier.score_steps([p], [c])[0]]
    assert alone == pytest.approx(flat, abs=1e-5)  # batched by length, each pair's steps back in its place
    assert verifier.score(prompts, completions) == pytest.approx([min(s) for s in steps], abs=1e-5)
    # causal attention: a step's score does not depend on what follows it
    assert verifier.score_steps(["3+9=?\n"], ["zq\nxy\n"])[0] == pytest.approx(steps[1][:2], abs=1e-5)


def test_kinds_do_not_mix(prm, orm):
    with pytest.raises(VerifierError, match="holds a verifier of kind 'prm', not the 'orm' asked for"):
        load_verifier(str(prm[0]), kind="orm")
    with pytest.raises(VerifierError, match="holds a verifier of kind 'prm', not the 'orm' asked for"):
        SearchSpec("bon", verifier=str(prm[0])).check(1)  # best-of-N ranks with an outcome verifier
    with pytest.raises(VerifierError, match="score_steps\\(\\) needs a process verifier"):
        load_verifier(str(orm[0])).score_steps(["5+7=?\n"], ["\\boxed{12}"])


def test_a_smoke_sft_model_that_answers_nothing_right_gives_one_label_and_no_folder(sft_smoke_run, capsys):
    """The smoke recipe's 4-step SFT model writes noise: no continuation reaches an answer, so every step
    label is 'wrong'; after labelling, the command stops, saying why, and writes nothing."""
    from rl_reasoner.cli import main

    capsys.readouterr()
    args = ["--kind", "prm", "--samples-per-prompt", "2", "--prompts", "4", "--continuations", "1",
            "--steps", "1"]
    assert main(["verifier", str(sft_smoke_run), *args]) == 2
    last = capsys.readouterr().err.splitlines()[-1]  # after the loading and sampling progress bars
    assert last.startswith("rl-reasoner: error: all ")
    assert "step labels of the training prompts are wrong" in last
    assert not (sft_smoke_run / "verifier-prm").exists()
