"""Steps of a completion, as the process verifier (PRM) labels and scores them: pure, torch-free.

A step is a line: it ends just after a ``"\\n"``. The final step runs from the last such end to the end of
the completion, so the prefix ending at the final step is the whole completion (a trailing newline closes
the final step; it opens no empty one). A completion of ``s`` steps has ``s - 1`` proper prefixes, each
ending at a newline, plus itself; an empty completion is one (empty) step.
"""

from __future__ import annotations

from collections.abc import Sequence


def step_ends(completion: str) -> list[int]:
    """Where each step ends, as character offsets into ``completion`` (exclusive); the last is its length.

    >>> step_ends("a\\nbc\\nd")
    [2, 5, 6]
    >>> step_ends("a\\nb\\n"), step_ends("one line"), step_ends("")
    ([2, 4], [8], [0])
    """
    ends = [i + 1 for i, char in enumerate(completion) if char == "\n" and i + 1 < len(completion)]
    return [*ends, len(completion)]


def step_prefixes(completion: str) -> list[str]:
    """The completion up to the end of each step, the last being the whole completion.

    >>> step_prefixes("<think>\\n7+5+0=12\\n\\\\boxed{12}")
    ['<think>\\n', '<think>\\n7+5+0=12\\n', '<think>\\n7+5+0=12\\n\\\\boxed{12}']
    """
    return [completion[:end] for end in step_ends(completion)]


def end_token_indices(offsets: Sequence[tuple[int, int]], char_ends: Sequence[int]) -> list[int]:
    """For each character end ``e`` (exclusive, into the tokenized text), the index of the token holding
    character ``e - 1``: the token a step is scored at. Where several tokens share that character (bytes of
    one multi-byte character) the last one wins; zero-width tokens (special tokens) hold nothing. Two step
    ends inside one token (``"\\n\\n"`` merged by a BPE) share that token.

    ``offsets`` is a fast tokenizer's ``offset_mapping`` for the text (one ``(start, end)`` per token).

    >>> end_token_indices([(0, 0), (0, 3), (3, 4), (4, 6)], [4, 6, 3])
    [2, 3, 1]
    >>> end_token_indices([(0, 2)], [3])
    Traceback (most recent call last):
    ...
    ValueError: no token holds character 2 (the text is 2 characters long as tokenized)
    """
    length = max((end for _, end in offsets), default=0)
    owner = [-1] * length
    for index, (start, end) in enumerate(offsets):
        for char in range(start, end):
            owner[char] = index
    indices = []
    for end in char_ends:
        if not 0 < end <= length or owner[end - 1] < 0:
            raise ValueError(
                f"no token holds character {end - 1} (the text is {length} characters long as tokenized)"
            )
        indices.append(owner[end - 1])
    return indices
