"""``generate_lines`` on the chain model (after a prompt's "\\n" it writes ``\\boxed{12}`` and EOS, or, when
sampled, sometimes wanders off into random bytes): every row stops at its own line end, EOS or budget."""

import pytest
import torch

from rl_reasoner.generation import generate_lines, load_policy, newline_token_ids


@pytest.fixture(scope="module")
def chain(answer_model):
    model, tokenizer = load_policy(str(answer_model), device="cpu")
    return model, tokenizer, tokenizer("5+7=?\n")["input_ids"]


def test_each_row_stops_at_its_own_budget_or_eos_in_one_batch(chain):
    model, tokenizer, prompt = chain
    newline = newline_token_ids(tokenizer)
    steps = generate_lines(model, tokenizer, [prompt] * 4, [40, 3, 10, 11], newline_ids=newline, batch_size=8)
    assert [tokenizer.decode(s.ids) for s in steps] == ["\\boxed{12}", "\\bo", "\\boxed{12}", "\\boxed{12}"]
    # as generate_samples counts: an answer whose EOS does not fit in the budget is cut off (truncated)
    assert [s.ended for s in steps] == ["eos", "budget", "budget", "eos"]


def test_a_row_stops_after_the_first_token_that_ends_a_line(chain):
    model, tokenizer, prompt = chain
    x = tokenizer.convert_tokens_to_ids("x")
    steps = generate_lines(model, tokenizer, [prompt, prompt[:-1] + prompt], [40, 40], newline_ids=[x],
                           batch_size=8)  # rows of different lengths: left padding changes nothing
    assert [(tokenizer.decode(s.ids), s.ended) for s in steps] == [("\\box", "line"), ("\\box", "line")]


def test_sampled_lines_end_where_they_say_they_end(chain):
    model, tokenizer, prompt = chain
    newline = set(newline_token_ids(tokenizer))
    torch.manual_seed(0)
    budgets = [30, 5] * 32
    steps = generate_lines(model, tokenizer, [prompt] * 64, budgets, newline_ids=sorted(newline),
                           batch_size=16, temperature=1.0)
    assert {s.ended for s in steps} == {"eos", "budget", "line"}  # the wanderers sometimes write a "\n"
    for step, budget in zip(steps, budgets, strict=True):
        assert 1 <= len(step.ids) <= budget and not newline & set(step.ids[:-1])
        assert (step.ids[-1] in newline) == (step.ended == "line")
        assert (len(step.ids) == budget) >= (step.ended == "budget")
        assert tokenizer.eos_token_id not in step.ids
