"""Comparing Monte-Carlo labels and verifier scores with the exact checker: which steps count where."""

import pytest

from rl_reasoner.data.arith import trace
from rl_reasoner.verifier.mc_labels import StepLabels
from rl_reasoner.verifier.prm_eval import agreement, evaluate_prm, exact_labels
from rl_reasoner.verifier.samples import LabelledPrompt

RIGHT = trace(47, 35, "concise")  # 6 steps, all right
WRONG = "<think>\nAdd 47+35:\n7+5=13\n</think>\n\\boxed{82}"  # 5 steps, wrong from the third on


def labelled(prompt_index: int, completion: str, labels: list[bool]) -> StepLabels:
    return StepLabels(prompt_index, completion, tuple(float(x) for x in labels), tuple(labels))


@pytest.fixture
def case():
    items = [LabelledPrompt("a", 2, "47+35=?\n", "82", (RIGHT, WRONG), (True, True)),
             LabelledPrompt("b", 2, "47+35=?\n", "82", (WRONG,), (True,)),
             LabelledPrompt("c", 2, "834-478=?\n", "356", ("x\ny",), (False,))]
    samples = [labelled(0, RIGHT, [True] * 6),
               labelled(0, WRONG, [True, True, True, True, True]),  # MC: 82 still reachable, always
               labelled(1, WRONG, [True, True, False, False, True]),
               labelled(2, "x\ny", [True, False])]
    return items, samples


def test_exact_labels_follow_the_checker_and_skip_prompts_it_cannot_read(case):
    items, samples = case
    assert exact_labels(items, samples) == [[True] * 6, [True, True, False, False, False],
                                            [True, True, False, False, False], None]


def test_agreement_and_aurocs_count_held_out_and_checkable_steps_only(case):
    items, samples = case
    # held out: prompts 1 and 2; the verifier scores their completions, in order
    scores = [[0.9, 0.8, 0.3, 0.2, 0.1], [0.7, 0.1]]
    result = evaluate_prm(items, samples, heldout={1, 2}, step_scores=scores)
    assert result["mc_vs_exact"]["heldout"] == agreement([True, True, False, False, True],
                                                         [True, True, False, False, False])
    assert result["mc_vs_exact"]["heldout"]["rate"] == 0.8
    assert result["mc_vs_exact"]["all"]["steps"] == 16 and result["mc_vs_exact"]["all"]["agree"] == 12
    assert result["heldout_step_auroc_exact"] == 1.0  # 0.9, 0.8 above 0.3, 0.2, 0.1
    # against MC labels, prompt 2's steps count too: right 0.9 0.8 0.1 0.7; wrong 0.3 0.2 0.1
    assert result["heldout_step_auroc_mc"] == pytest.approx(round((3 + 3 + 0.5 + 3) / 12, 4))
    assert result["unchecked_steps"] == 2


def test_a_held_out_set_with_one_exact_label_has_no_auroc(case):
    items, samples = case
    result = evaluate_prm(items, samples, heldout={0}, step_scores=[[0.5] * 6, [0.5] * 5])
    assert result["heldout_step_auroc_exact"] is not None  # RIGHT and WRONG together hold both labels
    result = evaluate_prm(items, samples[:1], heldout={0}, step_scores=[[0.5] * 6])
    assert result["heldout_step_auroc_exact"] is None and result["mc_vs_exact"]["heldout"]["rate"] == 1.0
