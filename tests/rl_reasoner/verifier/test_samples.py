"""Sampling and labelling the run's training prompts; the prompt split; the label-shuffling control."""

import json

import pytest

from rl_reasoner.generation import load_policy
from rl_reasoner.verifier.samples import (
    LabelledPrompt,
    Sampling,
    read_training_prompts,
    sample_and_label,
    shuffle_labels,
    split_prompts,
)


def prompts(n: int, k: int = 3) -> list[LabelledPrompt]:
    return [
        LabelledPrompt(str(i), 1, f"{i}+0=?\n", str(i), tuple(f"c{i}-{j}" for j in range(k)),
                       tuple(j % 2 == 0 for j in range(k)))
        for i in range(n)
    ]


def test_split_keeps_whole_prompts_apart_and_is_fixed_by_the_seed():
    items = prompts(20)
    train, heldout = split_prompts(items, 0.2, seed=3)
    assert len(heldout) == 4 and len(train) == 16
    assert {p.id for p in train}.isdisjoint(p.id for p in heldout)
    assert sorted(p.id for p in train + heldout) == sorted(p.id for p in items)
    assert split_prompts(items, 0.2, seed=3) == (train, heldout)
    assert split_prompts(items, 0.2, seed=4) != (train, heldout)


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.99])
def test_split_leaves_each_side_at_least_one_prompt(fraction):
    train, heldout = split_prompts(prompts(2), fraction, seed=0)
    assert len(train) == len(heldout) == 1


def test_shuffled_labels_keep_the_samples_and_the_correct_count_but_move_the_labels():
    items = prompts(30, k=4)
    shuffled = shuffle_labels(items, seed=0)
    assert [p.completions for p in shuffled] == [p.completions for p in items]
    assert sum(sum(p.correct) for p in shuffled) == sum(sum(p.correct) for p in items)
    assert [p.correct for p in shuffled] != [p.correct for p in items]
    assert shuffle_labels(items, seed=0) == shuffled


def test_training_prompts_come_from_grpo_jsonl_never_the_eval_split(tmp_path):
    (tmp_path / "data").mkdir()
    rows = [{"id": f"g{i}", "level": 1, "prompt": f"{i}+1=?\n", "answer": str(i + 1)} for i in range(10)]
    (tmp_path / "data" / "grpo.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "data" / "eval.jsonl").write_text("not json: must not be read\n")
    assert read_training_prompts(tmp_path, None, seed=0) == rows
    some = read_training_prompts(tmp_path, 4, seed=0)
    assert len(some) == 4 and all(row in rows for row in some)
    assert read_training_prompts(tmp_path, 4, seed=0) == some


def test_samples_are_labelled_by_the_answer_verifier(answer_model):
    """The chain model writes \\boxed{12} or wanders off: right only on a 12-answer, and only when boxed."""
    model, tokenizer = load_policy(str(answer_model), device="cpu")
    rows = [{"id": "a", "level": 1, "prompt": "5+7=?\n", "answer": "12"},
            {"id": "b", "level": 1, "prompt": "5+8=?\n", "answer": "13"}]
    sampling = Sampling(k=16, max_new_tokens=24, batch_size=32)
    twelve, thirteen = sample_and_label(model, tokenizer, rows, sampling, seed=0)
    assert len(twelve.completions) == len(twelve.correct) == 16
    assert 0 < sum(twelve.correct) < 16
    labelled = dict(zip(twelve.completions, twelve.correct, strict=True))
    assert labelled["\\boxed{12}"] is True  # the chain itself
    assert all("\\boxed{12}" in completion for completion, ok in labelled.items() if ok)
    assert not any(thirteen.correct)
