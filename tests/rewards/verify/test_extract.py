"""Tests for rewards.verify.extract: the lenient and strict extraction modes, rule by rule, in order."""

import pytest

from rewards.verify import MODES, TAIL_CHARS, check_mode, extract_answer, verify, verify_batch
from rewards.verify.extract import BARE_CHARS, math_spans

MB = 1_000_000

# (id, completion, lenient span, strict span)
FORMS = [
    # 1. boxes (both modes): the last one; an unclosed last box means no answer
    ("boxed", r"so \boxed{\frac{1}{2}}.", r"\frac{1}{2}", r"\frac{1}{2}"),
    ("fbox", r"\fbox{5}", "5", "5"),
    ("boxed-last-wins", r"\boxed{3} then \boxed{5}", "5", "5"),
    ("boxed-over-math", r"$7$ so \boxed{5} and $9$", "5", "5"),
    ("boxed-over-phrase", r"\boxed{5}. The answer is 6.", "5", "5"),
    ("boxed-unclosed-stops", r"The answer is 6. \boxed{5", None, None),
    ("boxed-empty-falls-through", r"\boxed{} <answer>4</answer>", "4", "4"),
    # consecutive boxes joined by "and", "or", commas, \quad, math delimiters make one list answer
    ("boxes-and", r"\boxed{1} and \boxed{2} and \boxed{3}", "1,2,3", "1,2,3"),
    ("boxes-comma", r"\boxed{1},\boxed{2}", "1,2", "1,2"),
    ("boxes-adjacent", r"$\boxed{1}\boxed{2}$", "1,2", "1,2"),
    (
        "boxes-quad-text",
        r"\boxed{(2, 2)} \quad \text{and} \quad \boxed{(6, 2)}",
        "(2, 2),(6, 2)",
        "(2, 2),(6, 2)",
    ),
    ("boxes-math-delimiters", r"\(\boxed{1}\) or \(\boxed{-2}\).", "1,-2", "1,-2"),
    ("boxes-short-label-and", r"\boxed{1} papers and \boxed{2} bins", "1,2", "1,2"),
    ("boxes-prose-apart", r"\boxed{1} no no no no no \boxed{2}", "2", "2"),
    ("boxes-sentence-apart", r"\boxed{3}. Actually \boxed{5}", "5", "5"),
    ("boxes-labelled", r"\(x = \boxed{3}\) and \(y_2 = \boxed{5}\)", "3,5", "3,5"),
    ("boxes-equation-apart", r"\boxed{3} and 2y = \boxed{5}", "5", "5"),
    ("boxes-long-label-apart", r"\boxed{3}, so x_{10} = \boxed{5}", "5", "5"),
    ("boxes-far-apart", r"\boxed{3}" + " and" * 20 + r" \boxed{5}", "5", "5"),
    ("boxes-nested", r"\boxed{\boxed{1}}", "1", "1"),
    # 2. <answer> tags (both modes)
    ("answer-tag", "<think>x</think><answer> 7 </answer>", "7", "7"),
    ("answer-tag-over-math", "$3$ <answer>7</answer> $9$", "7", "7"),
    ("answer-tag-unclosed", "<answer>7", None, None),  # a tag is never a bare answer
    # 3. GSM8K
    ("gsm8k", "48+24 = 72 clips.\n#### 72\n", "72", None),
    ("gsm8k-over-phrase", "The answer is 5.\n#### 6", "6", None),
    # 4. answer phrases
    ("phrase-answer-is", "So the answer is 18.", "18", None),
    ("phrase-final-answer-is", "The final answer is: $18$", "18", None),
    ("phrase-final-answer-colon", "Final Answer: $9$", "9", None),
    ("phrase-answer-colon", "Answer: -5", "-5", None),
    ("phrase-markdown", "**Final Answer:** 12", "12", None),
    ("phrase-markdown-heading", "**Final Answer**\n\n$$\n9\n$$", "9", None),
    ("phrase-minerva", "Final Answer: The final answer is $9$. I hope it is correct.", "9", None),
    ("phrase-prose-then-number", "Final Answer: The largest $n$ is 34.", "34", None),
    ("phrase-prose-then-math", "The answer is then $x = 3$.", "x = 3", None),
    ("phrase-stops-at-prose", "The answer is 12, since there are 3 apples.", "12", None),
    ("phrase-drops-unit-word", "The answer is 3.5 apples. Yes.", "3.5", None),
    ("phrase-latex", r"Thus the answer is \frac{3}{4}. Done", r"\frac{3}{4}", None),
    ("phrase-expression", r"the answer is 2\sqrt{2}", r"2\sqrt{2}", None),
    ("phrase-list", "the answer is 5 and 7", "5 and 7", None),
    ("phrase-assignment", "the answer is x = 5", "x = 5", None),
    ("phrase-choice", "**Answer**: (B)", "(B)", None),
    ("phrase-word", "The answer is yes", "yes", None),
    ("phrase-latest-with-expression", "The answer is 5. I hope my answer is correct.", "5", None),
    ("phrase-over-later-math", "The answer is 4.\nCheck: $2+2$", "4", None),
    # 5. math mode in the tail
    ("math-dollar", "We get $x$ and then $5$.", "5", None),
    ("math-display-dollar", "so\n$$y = 3$$\nend", "y = 3", None),
    ("math-bracket", "so \\[\n x = 3 \n\\] end", "x = 3", None),
    ("math-paren", r"thus \(w = 2\) holds", "w = 2", None),
    ("math-escaped-dollar", r"it costs \$5 and $x+1$", "x+1", None),
    ("math-inline-stays-on-its-line", "Answer \\( \n 9 \n \\)", None, None),
    ("math-dollar-after-digit", "it costs 5$ and 6$ now", None, None),
    # 6. a short bare answer
    ("bare-negative", "-5", "-5", None),
    ("bare-frac", r"\frac{1}{2}", r"\frac{1}{2}", None),
    ("bare-assignment", "x=3", "x=3", None),
    ("bare-tuple", "(1, 2)", "(1, 2)", None),
    ("bare-full-stop", " 5. ", "5", None),
    ("bare-list", "5 and 7", "5 and 7", None),
    ("bare-one-word", "yes", "yes", None),
    ("bare-percent-word", "28 percent", "28 percent", None),
    ("bare-not-prose", "I think 5", None, None),
    ("bare-not-two-lines", "5\n6", None, None),
    ("bare-not-long", "1 + " * 20 + "1", None, None),
    # a concluding closing sentence in prose: its last number, after any math in it
    ("closing-so", "First 3 + 4 = 7. Then 7 * 2 = 14, so we have 14 apples in total", "14", None),
    ("closing-therefore", "We test each prime. Therefore, the smallest such prime is 17.", "17", None),
    ("closing-slash", "15 of the 36 outcomes work. So the probability is 5/12.", "5/12", None),
    ("closing-pi", "Both angles are equal. Hence the angle is π/4 radians.", r"\pi/4", None),
    ("closing-percent", "Half of them chose soccer, so the share is 50 percent.", r"50\%", None),
    ("closing-after-math", "We check $n=11$ and it fails. So n equals 12 and that's it.", "12", None),
    ("closing-math-last", "So the root is $x=3$.", "x=3", None),
    ("closing-no-conclusion", "We get $x=5$. Check: 2 times 5 is 10.", "x=5", None),
    ("closing-not-last", "So we have 14 apples. We are done now.", None, None),
    # no answer at all
    ("prose-with-numbers", "We add 3 and 4 to get 7 apples.", None, None),
    ("empty", "", None, None),
    ("blank", " \n ", None, None),
]


@pytest.mark.parametrize(
    ("completion", "lenient", "strict"), [f[1:] for f in FORMS], ids=[f[0] for f in FORMS]
)
def test_each_form_in_both_modes(completion: str, lenient: str | None, strict: str | None) -> None:
    assert extract_answer(completion) == lenient
    assert extract_answer(completion, mode="lenient") == lenient
    assert extract_answer(completion, mode="strict") == strict


def test_modes_table_lists_strict_rules_first_in_lenient() -> None:
    assert list(MODES) == ["strict", "lenient"]
    assert MODES["lenient"][: len(MODES["strict"])] == MODES["strict"]


@pytest.mark.parametrize("call", [extract_answer, lambda c, mode: verify("1", c, mode=mode)])
def test_unknown_mode_names_the_valid_ones(call) -> None:
    with pytest.raises(
        ValueError, match=r"unknown extraction mode 'loose'; valid modes: \['strict', 'lenient'\]"
    ):
        call("1", mode="loose")
    with pytest.raises(ValueError, match="valid modes"):
        verify_batch([], [], mode="loose")
    with pytest.raises(ValueError, match="valid modes"):
        check_mode("Strict")


def test_last_number_is_opt_in_and_lenient_only() -> None:
    prose = "I got 3 + 4 = 7 apples, I guess"
    assert extract_answer(prose) is None
    assert extract_answer(prose, last_number=True) == "7"
    assert extract_answer("We have 1,000 and 12, then", last_number=True) == "12"
    assert extract_answer(r"\boxed{3} and 7", last_number=True) == "3"
    with pytest.raises(ValueError, match="last_number=True needs mode='lenient'"):
        extract_answer(prose, mode="strict", last_number=True)


def test_verify_in_both_modes() -> None:
    assert verify("-5", "-5") is True
    assert verify("9", "Final Answer: $9$") is True
    assert verify("34", "Final Answer: The largest $n$ is 34.") is True
    assert verify("-5", "-5", mode="strict") is False
    assert verify("9", "Final Answer: $9$", mode="strict") is False
    assert verify("9", r"Final Answer: $\boxed{9}$", mode="strict") is True
    assert verify("7", "We add 3 and 4 to get 7 apples.") is False
    completions = ["-5", r"\boxed{-5}", "<answer>-5</answer>", "#### -5"]
    assert verify_batch(["-5"] * 4, completions, mode="strict") == [False, True, True, False]
    assert verify_batch(["-5"] * 4, completions, mode="lenient") == [True] * 4


def test_joined_boxes_compare_as_a_list() -> None:
    golds = [r"\boxed{1}\boxed{2}", "1,2", "1,2", r"$${1,2,3}$$", "2", "(1,2),(3,4)"]
    preds = [
        r"\boxed{2,1}",
        r"\boxed{1} and \boxed{2}",
        r"\boxed{1} and \boxed{3}",
        r"\boxed{1},\boxed{2},\boxed{3}",
        r"\boxed{1} or \boxed{2}",
        r"\boxed{(3, 4)} \quad \text{and} \quad \boxed{(1, 2)}",
    ]
    expected = [True, True, False, True, False, True]
    for mode in MODES:
        assert verify_batch(golds, preds, mode=mode) == expected
        assert [verify(g, p, mode=mode) for g, p in zip(golds, preds, strict=True)] == expected


def test_the_gold_is_parsed_alike_in_both_modes() -> None:
    for mode in MODES:
        assert verify(r"so \boxed{9}", "$9$", mode=mode) is (mode == "lenient")
        assert verify("$9$", r"\boxed{9}", mode=mode) is True


def test_bare_answer_bound() -> None:
    assert extract_answer("1" * BARE_CHARS) == "1" * BARE_CHARS
    assert extract_answer("1" * (BARE_CHARS + 1)) is None


def test_math_spans_are_found_left_to_right() -> None:
    text = r"a $x$ b $$y$$ c \[z\] d \(w\) e \$5 f 3$ g $open"
    assert [content for _, _, content in math_spans(text)] == ["x", "y", "z", "w"]
    assert all(text[s:e].endswith(("$", "]", ")")) for s, e, _ in math_spans(text))


def test_a_cut_tail_starts_math_on_its_next_line() -> None:
    # the tail begins inside "$...$": scanning from its start would pair the dollars the wrong way round
    completion = "x" * TAIL_CHARS + " $a + b\n= c$ so we get $7$ and $8$ here"
    assert extract_answer(completion) == "8"


PATHOLOGICAL = {
    "dollars-and-brackets": "$" * (MB // 2) + "\\[" * (MB // 4),
    "brackets-then-dollars": "\\[" * (MB // 4) + "$" * (MB // 2),
    "open-parens": "\\(" * (MB // 2),
    "nested-dollars": "$a $b $c " * (MB // 9),
    "unbalanced-braces": "{" * MB + "$5$",
    "phrases-in-math": "$the answer is $" * (MB // 16),
    "answer-colons": "answer: " * (MB // 8),
    "one-long-line": "1 " * (MB // 2),
    "many-joined-boxes": r"\boxed{1} and " * (MB // 16) + r"\boxed{2}",
    "many-open-boxes": r"\boxed{" * (MB // 8) + r"1}\boxed{2}",
}


@pytest.mark.parametrize("completion", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_megabyte_inputs_return(completion: str) -> None:
    for mode in MODES:
        span = extract_answer(completion, mode=mode)
        assert span is None or len(span) <= TAIL_CHARS


def test_megabyte_of_dollars_and_brackets_finds_no_math() -> None:
    assert extract_answer("$" * MB + "\\[" * MB) is None
    assert extract_answer("\\[" * MB + "$" * MB) is None
