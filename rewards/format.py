"""Format reward: a reasoning block followed by exactly one final boxed answer."""

from __future__ import annotations


def _closing_brace(text: str, start: int) -> int | None:
    """Index of the ``}`` matching the ``{`` at ``text[start]``; escaped braces do not count."""
    depth, i = 0, start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        depth += (text[i] == "{") - (text[i] == "}")
        if depth == 0:
            return i
        i += 1
    return None


def think_format(completion: str) -> float:
    r"""1.0 if the completion is <think>...</think> then exactly one final \boxed{...}, else 0.0.

    The completion must open with ``<think>`` (leading whitespace allowed) and contain one ``<think>`` and
    one ``</think>``. After ``</think>`` any prose may come, then exactly one non-empty, brace-balanced
    ``\boxed{...}``, and nothing but whitespace after its closing brace.

    >>> think_format("<think>2+2=4</think> The answer is \\boxed{4}.\n"), think_format(r"\boxed{4}")
    (0.0, 0.0)
    >>> think_format("<think>2+2=4</think> The answer is \\boxed{4}\n")
    1.0
    """
    text = completion.lstrip()
    if not text.startswith("<think>") or text.count("<think>") != 1 or text.count("</think>") != 1:
        return 0.0
    answer = text.split("</think>", 1)[1]
    if answer.count("\\boxed") != 1:
        return 0.0
    start = answer.index("\\boxed") + len("\\boxed")
    if answer[start : start + 1] != "{":
        return 0.0
    end = _closing_brace(answer, start)
    if end is None or not answer[start + 1 : end].strip() or answer[end + 1 :].strip():
        return 0.0
    return 1.0
