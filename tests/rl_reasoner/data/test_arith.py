import json

import pytest

from rewards.verify import verify
from rl_reasoner.data.arith import (
    STYLE_PREFIX,
    STYLES,
    build_splits,
    designed_styles,
    digit_steps,
    trace,
    write_splits,
)


@pytest.mark.parametrize("a,b", [(0, 0), (9, 9), (95, 87), (999, 1), (9847, 5678), (1000, 9000)])
@pytest.mark.parametrize("style", STYLES)
def test_every_trace_style_ends_in_the_verified_sum(a, b, style):
    completion = trace(a, b, style, rechecks=2)
    assert completion.startswith(STYLE_PREFIX[style])
    assert verify(str(a + b), completion) is True
    assert verify(str(a + b + 1), completion) is False


def test_digit_steps_carry_into_the_next_column():
    assert digit_steps(95, 87) == [(5, 7, 0, 12), (9, 8, 1, 18)]


def test_concise_leaves_the_carries_to_the_answer_and_verbose_writes_them_out():
    concise, verbose = trace(95, 87, "concise"), trace(95, 87, "verbose", rechecks=1)
    assert "5+7=12\n9+8=17\n</think>" in concise and "+0=" not in concise and "+1=" not in concise
    assert verbose.count("5+7+0=12\n9+8+1=18") == 2 and concise.endswith("\\boxed{182}")


def test_designed_styles_direct_for_one_digit_verbose_beyond():
    assert designed_styles([1, 2, 3]) == {"1": "direct", "2": "verbose", "3": "verbose"}


def test_styles_are_ordered_by_length_and_rechecks_make_verbose_longer():
    for a, b in [(3, 4), (4567, 8899)]:
        lengths = [len(trace(a, b, s)) for s in STYLES]
        assert lengths == sorted(lengths)
        assert len(trace(a, b, "verbose", rechecks=3)) > len(trace(a, b, "verbose", rechecks=1))


def test_splits_hold_out_eval_problems_and_follow_the_style_mix(tmp_path):
    splits = build_splits([1, 2, 3], 3000, 300, 50, {"direct": 0.2, "concise": 0.2, "verbose": 0.6}, seed=1)
    assert len(splits["eval"]) == 150 and len(splits["sft"]) == 3000 and len(splits["grpo"]) == 300
    held_out = {r["prompt"] for r in splits["eval"] if r["level"] > 1}
    assert not held_out & {r["prompt"] for r in splits["sft"] + splits["grpo"]}
    verbose = sum(r["style"] == "verbose" for r in splits["sft"]) / 3000
    assert 0.55 < verbose < 0.65
    assert {r["level"] for r in splits["eval"]} == {1, 2, 3}
    paths = write_splits(splits, tmp_path)
    rows = [json.loads(line) for line in paths["sft"].read_text().splitlines()]
    assert rows == splits["sft"]


def test_style_by_level_replaces_the_mix_at_its_levels_only():
    mix = {"direct": 0.2, "concise": 0.2, "verbose": 0.6}
    plain = build_splits([1, 2], 2000, 10, 10, mix, seed=2)
    skewed = build_splits([1, 2], 2000, 10, 10, mix, seed=2, style_by_level={1: {"direct": 1.0}})
    assert {r["style"] for r in skewed["sft"] if r["level"] == 1} == {"direct"}
    level2 = [r["style"] for r in skewed["sft"] if r["level"] == 2]
    assert 0.5 < level2.count("verbose") / len(level2) < 0.7
    assert build_splits([1, 2], 2000, 10, 10, mix, seed=2, style_by_level={}) == plain


def test_same_seed_same_data_and_other_seed_other_data():
    mix = {"direct": 1.0, "verbose": 1.0}
    assert build_splits([2], 50, 5, 5, mix, 3) == build_splits([2], 50, 5, 5, mix, 3)
    assert build_splits([2], 50, 5, 5, mix, 3) != build_splits([2], 50, 5, 5, mix, 4)


def test_unknown_style_is_rejected():
    with pytest.raises(ValueError, match="terse"):
        build_splits([1], 10, 1, 1, {"terse": 1.0}, 0)
