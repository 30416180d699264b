"""Monte-Carlo step labels from the chain model, which writes \\boxed{12} after any newline (and sometimes
wanders off): a prefix ending in a newline can still reach 12, never 13; the final step is the verdict."""

import pytest

from rl_reasoner.generation import load_policy
from rl_reasoner.verifier.mc_labels import ROUND, Continuations, mc_step_labels, prefix_rows
from rl_reasoner.verifier.samples import LabelledPrompt


@pytest.fixture(scope="module")
def chain(answer_model):
    return load_policy(str(answer_model), device="cpu")


WRONG = "zq\nwrong\n\\boxed{11}"


def item(answer: str, completions: tuple[str, ...], correct: tuple[bool, ...]) -> LabelledPrompt:
    return LabelledPrompt("x", 1, "5+7=?\n", answer, completions, correct)


def test_a_prefix_from_which_the_answer_is_reachable_is_labelled_right_only_for_that_answer(chain):
    model, tokenizer = chain
    completions = ("zq\nwrong\n\\boxed{11}", "\\boxed{12}")
    items = [item("12", completions, (False, True)), item("13", completions, (False, False))]
    twelve, twelve_direct, thirteen, thirteen_direct = mc_step_labels(
        model, tokenizer, items, Continuations(m=8, max_new_tokens=32, batch_size=64), seed=0)
    # each newline-ended prefix restarts the chain: about 45 % of continuations end in \boxed{12}
    assert 0 < twelve.fractions[1] < 1 and twelve.labels == (True, True, False)
    assert thirteen.fractions == (0.0, 0.0, 0.0) and thirteen.labels == (False, False, False)
    assert thirteen.drawn == (8, 8, 0)  # never reached: every step gets all M, in rounds
    # one-step completions need no continuation: the final step is the sample's verdict
    assert (twelve_direct.fractions, twelve_direct.labels) == ((1.0,), (True,))
    assert (thirteen_direct.fractions, thirteen_direct.labels) == ((0.0,), (False,))
    assert [s.prompt_index for s in (twelve, twelve_direct, thirteen, thirteen_direct)] == [0, 0, 1, 1]


def test_a_right_completion_is_a_right_rollout_of_each_of_its_prefixes(chain):
    """Its steps are right with no continuation drawn; the same steps of a wrong completion are continued."""
    model, tokenizer = chain
    items = [item("12", ("zq\nwrong\n\\boxed{12}",), (True,)), item("12", (WRONG,), (False,))]
    right, wrong = mc_step_labels(model, tokenizer, items, Continuations(8, 32, 64), seed=0)
    assert right.labels == (True, True, True) and right.drawn == (0, 0, 0)
    assert right.fractions == (None, None, 1.0)
    assert wrong.labels[-1] is False and sum(wrong.drawn) > 0


def test_a_right_continuation_of_a_later_step_decides_the_earlier_ones(chain):
    """Rounds of ROUND continuations stop for every step up to the latest one with a right rollout."""
    model, tokenizer = chain
    m = 10 * ROUND
    items = [item("12", (WRONG,), (False,)), item("13", (WRONG,), (False,))]
    twelve, thirteen = mc_step_labels(model, tokenizer, items, Continuations(m, 32, 64), seed=0)
    assert twelve.labels == (True, True, False) and thirteen.labels == (False, False, False)
    assert thirteen.drawn == (m, m, 0)
    # step 1 reaches 12 in some round long before the last (~45 % of continuations do): from then on
    # neither step is continued, whatever step 0's own continuations gave
    assert twelve.drawn[0] == twelve.drawn[1] < m and twelve.drawn[1] % ROUND == 0


def test_a_continuation_must_end_within_the_budget_the_sample_had_left(chain):
    """\\boxed{12} and EOS take 11 tokens: after a 9-token prefix a 16-token budget leaves 7, never enough."""
    model, tokenizer = chain
    items = [item("12", ("abcdefgh\n\\boxed{13}",), (False,))]
    (short,) = mc_step_labels(model, tokenizer, items, Continuations(8, 16, 64), seed=0)
    (enough,) = mc_step_labels(model, tokenizer, items, Continuations(8, 20, 64), seed=0)
    assert short.labels == (False, False) and enough.labels == (True, False)
    # in one job with a shorter prefix, generation runs to the shorter prefix's larger budget: the long
    # prefix's continuations that finish after its own budget still count as wrong
    items.append(item("12", ("a\n\\boxed{13}",), (False,)))
    long_prefix, short_prefix = mc_step_labels(model, tokenizer, items, Continuations(8, 16, 64), seed=0)
    assert long_prefix.labels == (False, False) and short_prefix.labels == (True, False)


def test_prefix_rows_cover_every_step_but_the_last_of_every_completion():
    items = [item("12", ("a\nb\nc", "d", "e\n"), (True, False, False)), item("13", ("f\ng",), (False,))]
    rows = prefix_rows(items, len)
    assert [(r["sample"], r["step"], r["prompt"]) for r in rows] == [
        ((0, 0), 0, "5+7=?\na\n"), ((0, 0), 1, "5+7=?\na\nb\n"), ((1, 0), 0, "5+7=?\nf\n")]
    assert [r["answer"] for r in rows] == ["12", "12", "13"]
