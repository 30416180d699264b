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
