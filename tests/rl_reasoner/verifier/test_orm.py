"""Preference pairs for the reward trainer: correct against incorrect completions of one prompt."""

from rl_reasoner.verifier.orm import preference_pairs
from rl_reasoner.verifier.samples import LabelledPrompt


def item(prompt: str, correct: tuple[bool, ...]) -> LabelledPrompt:
    completions = tuple(f"{prompt}:{'right' if ok else 'wrong'}{i}" for i, ok in enumerate(correct))
    return LabelledPrompt(prompt, 1, prompt, "0", completions, correct)


def test_pairs_put_a_correct_completion_above_an_incorrect_one_of_the_same_prompt():
    items = [item("p", (True, False, False, True, False)), item("q", (False, True))]
    pairs = preference_pairs(items, cap=8)
    for pair in pairs:
        assert pair["chosen"].startswith(pair["prompt"] + ":right")
        assert pair["rejected"].startswith(pair["prompt"] + ":wrong")
    by_prompt = {p: [x for x in pairs if x["prompt"] == p] for p in ("p", "q")}
    assert len(by_prompt["p"]) == 3 and len(by_prompt["q"]) == 1
    used = {x["chosen"] for x in by_prompt["p"]} | {x["rejected"] for x in by_prompt["p"]}
    assert used == set(items[0].completions)  # under the cap every completion is in some pair


def test_prompts_with_one_kind_of_completion_give_no_pairs_and_the_cap_holds():
    items = [item("all-right", (True, True)), item("all-wrong", (False, False)),
             item("many", (True,) + (False,) * 9)]
    pairs = preference_pairs(items, cap=4)
    assert len(pairs) == 4 and {x["prompt"] for x in pairs} == {"many"}


def _padded_tokens(trainer) -> tuple[int, int]:
    """(tokens the model runs, tokens that are not padding) over one pass of the trainer's batches."""
    run = real = 0
    for batch in trainer.get_train_dataloader():
        run += batch["attention_mask"].numel()
        real += int(batch["attention_mask"].sum())
    return run, real


def test_a_step_pairs_traces_of_alike_length(answer_model, tmp_path):
    """400 pairs, half of short answers and half of 150-token traces: random steps of 8 pairs would pad
    nearly every step to the long ones; grouped by length (per 12 steps' pairs here), few steps mix them."""
    from rl_reasoner.verifier.orm import OrmSettings, reward_trainer

    pairs = [{"prompt": f"{i}+1=?\n", "chosen": f"{i + 1}", "rejected": f"{i + 2}"} for i in range(200)]
    pairs += [{"prompt": f"{i}+1=?\n", "chosen": "1" * 150, "rejected": "2" * 150} for i in range(200)]
    settings = OrmSettings(steps=10, pairs_per_step=8)
    run, real = _padded_tokens(reward_trainer(str(answer_model), pairs, tmp_path / "orm", settings))
    assert real == sum(len(p["prompt"] + p["chosen"]) + len(p["prompt"] + p["rejected"]) + 2 for p in pairs)
    assert run < 1.2 * real  # random steps: ~1.8x (each pads its short answers to the long ones)


def test_a_step_recomputes_no_activations(answer_model, tmp_path):
    """TRL's RewardConfig turns activation checkpointing on (it saves accelerator memory by running each
    forward twice); a verifier's steps here are ~30 % faster without it and give the same weights."""
    from rl_reasoner.verifier.orm import OrmSettings, reward_trainer

    pairs = [{"prompt": f"{i}+1=?\n", "chosen": f"{i + 1}", "rejected": f"{i + 2}"} for i in range(16)]
    trainer = reward_trainer(str(answer_model), pairs, tmp_path / "orm", OrmSettings(steps=1))
    trainer.train()
    assert not trainer.model.is_activation_checkpointing
