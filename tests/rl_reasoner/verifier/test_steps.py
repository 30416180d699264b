"""Steps of a completion and the tokens they end on, with the tiny model's real (byte-level) tokenizer."""

import pytest

from rl_reasoner.tiny_model import build_tokenizer
from rl_reasoner.verifier.steps import end_token_indices, step_ends, step_prefixes

COMPLETIONS = [
    "<think>\nLet me add 47 and 35.\n7+5+0=12\n4+3+1=8\nSo the sum is 82.\n</think>\n\\boxed{82}",
    "no newline at all",
    "ends with a newline\n",
    "two\n\nblank\n\n",
    "",
    "é\nñ",  # characters of two bytes each: two tokens share one character
]


@pytest.mark.parametrize("completion", COMPLETIONS)
def test_the_last_prefix_is_the_whole_completion_and_the_others_end_at_newlines(completion):
    prefixes = step_prefixes(completion)
    assert prefixes[-1] == completion
    assert all(p.endswith("\n") for p in prefixes[:-1])
    assert all(a != b and b.startswith(a) for a, b in zip(prefixes, prefixes[1:], strict=False))
    assert len(prefixes) == max(1, completion.count("\n") + (not completion.endswith("\n")))


@pytest.mark.parametrize("completion", COMPLETIONS)
def test_each_step_is_read_at_the_token_that_writes_its_last_character(completion):
    tokenizer = build_tokenizer()
    prompt = "47+35=?\n"
    enc = tokenizer(prompt + completion, return_offsets_mapping=True)
    ends = [len(prompt) + end for end in step_ends(completion)]
    indices = end_token_indices(enc["offset_mapping"], ends)
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    for end, index in zip(ends, indices, strict=True):
        # decoding up to that token gives the text up to the step's end, never a character more
        assert tokenizer.decode(enc["input_ids"][: index + 1]) == (prompt + completion)[:end]


def test_an_end_beyond_the_text_is_refused():
    with pytest.raises(ValueError, match="no token holds character 5"):
        end_token_indices([(0, 3), (3, 5)], [6])
