import hashlib
import json
import random
import re

import pytest

from rewards.verify import verify
from rl_reasoner.data.arith import (
    OPS,
    STYLE_PREFIX,
    STYLES,
    borrow_steps,
    build_splits,
    designed_styles,
    digit_steps,
    forced_opening,
    make_problem,
    size_line,
    slipped_sum,
    style_prefix,
    trace,
    trace_style,
    used_styles,
    write_splits,
)

DEMO_MIX = {"direct": 0.15, "concise": 0.25, "verbose": 0.60}  # recipes/tiny-arith/demo.yaml
DEMO_BY_LEVEL = {
    1: {"direct": 0.30, "concise": 0.20, "verbose": 0.50},
    2: {"direct": 0.10, "concise": 0.30, "verbose": 0.60},
    3: {"direct": 0.05, "concise": 0.25, "verbose": 0.70},
}


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


def _digest(splits: dict) -> str:
    return hashlib.sha256(json.dumps(splits).encode()).hexdigest()


def test_default_ops_give_the_data_made_before_subtraction_existed():
    # Digests computed at 4232bda, before data.ops: the same RNG draws, rows without an "op" field.
    demo = build_splits([1, 2, 3], 600, 60, 20, DEMO_MIX, 0, DEMO_BY_LEVEL)
    assert _digest(demo) == "8061f8ea2dfee82fb3e07b07d07b6f318759e045d2cbe2c83e6a6be15aa89514"
    assert build_splits([1, 2, 3], 600, 60, 20, DEMO_MIX, 0, DEMO_BY_LEVEL, ops=["add"]) == demo
    plain = build_splits([1, 2, 3, 4], 300, 30, 10, DEMO_MIX, 1)
    assert _digest(plain) == "fd623335c3c063fa88f95648ee407d3fb23f12969cd84b8abc0381375df348ff"
    assert not any("op" in row for rows in demo.values() for row in rows)


def test_the_addition_openings_are_unchanged_and_subtraction_opens_concise_its_own_way():
    before = {"direct": "<think>\n</think>", "concise": "<think>\nAdd", "verbose": "<think>\nLet me"}
    assert {style: STYLE_PREFIX[style] for style in before} == before  # every existing run's data opens so
    assert STYLE_PREFIX["draft"] == "<think>\nD:" and set(STYLE_PREFIX) == set(STYLES)
    assert {s: style_prefix(s, "add") for s in STYLE_PREFIX} == STYLE_PREFIX
    assert style_prefix("concise", "sub") == "<think>\nSubtract"
    assert forced_opening("concise", {"prompt": "8-3=?\n", "op": "sub"}) == "<think>\nSubtract"
    assert forced_opening("concise", {"prompt": "8+3=?\n"}) == "<think>\nAdd"  # default rows have no op


def _column_lines(completion: str) -> list[str]:
    return re.findall(r"^[\d+\-]+=\d+$", completion, flags=re.MULTILINE)


def _arithmetic_holds(line: str) -> bool:
    left, right = line.split("=")
    terms = re.findall(r"[+-]?\d+", left)
    return sum(int(t) for t in terms) == int(right)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("style", STYLES)
def test_every_trace_of_every_op_is_right_line_by_line_over_random_problems(op, style):
    rng = random.Random(f"{op}-{style}")
    for level in (1, 2, 3, 4, 5):
        for _ in range(60):
            a, b = make_problem(level, rng, op)
            gold = a + b if op == "add" else a - b
            completion = trace(a, b, style, rechecks=rng.randint(1, 3), op=op)
            assert completion.startswith(style_prefix(style, op))
            assert completion.endswith(f"</think>\n\\boxed{{{gold}}}")
            assert verify(str(gold), completion) is True
            lines = _column_lines(completion)
            assert all(_arithmetic_holds(line) for line in lines), completion
            columns = len(str(a)) if style in ("concise", "verbose") else 0
            assert len(lines) % max(columns, 1) == 0 and (len(lines) > 0) == (columns > 0)
            if style == "verbose":  # each column's written result is the answer's digit there
                digits = [int(line.split("=")[1]) % 10 for line in lines[:columns]]
                assert int("".join(map(str, reversed(digits)))) == gold % 10**columns
            if style == "draft":
                assert _draft_is_right(a, b, op, completion), completion


def _draft_is_right(a: int, b: int, op: str, completion: str) -> bool:
    """Each draft value is its column's x + y + carry (x - y - borrow), recomputed from the operands, and
    the values' digits (plus the last carry) make the answer."""
    drafted = re.fullmatch(r"<think>\nD: ([-\d,]+)\n</think>\n.*", completion)[1]
    values = [int(v) for v in drafted.split(",")]
    carry, sign = 0, 1 if op == "add" else -1
    for i, value in enumerate(values):
        if value != a // 10**i % 10 + sign * (b // 10**i % 10) + carry:
            return False
        carry = value // 10  # add: 0 or 1; sub: 0 or -1 (a borrow)
    n = len(values)
    gold = a + b if op == "add" else a - b
    return n == len(str(a)) and sum(v % 10 * 10**i for i, v in enumerate(values)) + carry * 10**n == gold


def test_a_draft_writes_only_the_column_results_and_is_shorter_than_concise():
    assert trace(478, 356, "draft") == "<think>\nD: 14,13,8\n</think>\n\\boxed{834}"
    assert trace(834, 478, "draft", op="sub") == "<think>\nD: -4,-5,3\n</think>\n\\boxed{356}"
    rng = random.Random(5)
    for op in OPS:
        for level in (3, 4, 5):
            for _ in range(50):
                a, b = make_problem(level, rng, op)
                thinking = {s: trace(a, b, s, op=op).split("</think>")[0] for s in ("draft", "concise")}
                draft, concise = thinking["draft"], thinking["concise"]
                assert str(a) not in draft and str(b) not in draft  # no operand restated
                assert len(draft) <= 0.6 * len(concise)  # the thinking; the answer block is the same


def test_subtraction_operands_have_the_level_s_digits_and_never_go_below_zero():
    rng = random.Random(0)
    for level in (1, 2, 3, 4):
        for _ in range(200):
            a, b = make_problem(level, rng, "sub")
            assert a >= b >= 0
            assert level == 1 or len(str(a)) == len(str(b)) == level


def test_subtraction_traces_borrow_where_addition_carries():
    assert borrow_steps(834, 478) == [(4, 8, 0, -4), (3, 7, 1, -5), (8, 4, 1, 3)]
    concise, verbose = trace(834, 478, "concise", op="sub"), trace(834, 478, "verbose", rechecks=1, op="sub")
    assert concise == "<think>\nSubtract 834-478:\n14-8=6\n13-7=6\n8-4=4\n</think>\n\\boxed{356}"
    assert verbose.startswith("<think>\nLet me subtract 478 from 834.\n14-8-0=6\n13-7-1=5\n8-4-1=3\nCheck:")
    assert verbose.endswith("So the difference is 356.\n</think>\n\\boxed{356}")
    forward = "<think>\nAdd 478+356:\n8+6=14\n7+5=12\n4+3=7\n</think>\n\\boxed{834}"
    assert trace(478, 356, "concise") == forward


def test_no_trace_opens_with_another_style_s_opening():
    for op in OPS:
        for style in STYLES:
            completion = trace(95, 87, style, op=op)
            others = {style_prefix(other, o) for other in STYLES for o in OPS if other != style}
            assert not any(completion.startswith(opening) for opening in others), (op, style)


def test_both_ops_take_turns_within_each_level_and_eval_problems_stay_held_out():
    splits = build_splits([1, 2, 3], 1200, 120, 40, DEMO_MIX, seed=4, ops=["add", "sub"])
    for name, rows in splits.items():
        assert all(row["op"] in OPS for row in rows)
        for level in (1, 2, 3):
            ops = [row["op"] for row in rows if row["level"] == level]
            assert abs(ops.count("add") - ops.count("sub")) <= 1, (name, level)
    for row in splits["sft"] + splits["grpo"] + splits["eval"]:
        a, sign, b = re.fullmatch(r"(\d+)([+-])(\d+)=\?\n", row["prompt"]).groups()
        assert sign == {"add": "+", "sub": "-"}[row["op"]]
        assert row["answer"] == str(int(a) + int(b) if sign == "+" else int(a) - int(b))
    held_out = {r["prompt"] for r in splits["eval"] if r["level"] > 1}
    assert not held_out & {r["prompt"] for r in splits["sft"] + splits["grpo"]}
    assert {r["op"] for r in splits["sft"] if r["completion"].startswith("<think>\nSubtract")} == {"sub"}


def test_subtraction_alone_and_bad_ops():
    only = build_splits([2], 20, 4, 4, DEMO_MIX, seed=0, ops=["sub"])
    assert {row["op"] for rows in only.values() for row in rows} == {"sub"}
    for bad in (["mul"], [], ["add", "add"]):
        with pytest.raises(ValueError, match="distinct operations among"):
            build_splits([1], 10, 1, 1, DEMO_MIX, 0, ops=bad)


def test_used_styles_are_those_with_weight_at_a_generated_level_in_style_order():
    assert used_styles([1, 2, 3], DEMO_MIX, DEMO_BY_LEVEL) == ["direct", "concise", "verbose"]
    with_draft = {**DEMO_BY_LEVEL, 3: {"verbose": 1.0, "draft": 1.0}}
    assert used_styles([1, 2, 3], DEMO_MIX, with_draft) == ["direct", "draft", "concise", "verbose"]
    assert used_styles([1, 2], DEMO_MIX, with_draft) == ["direct", "concise", "verbose"]  # level 3 not made
    mix_only = {"draft": 2.0, "verbose": 1.0, "direct": 0.0}
    assert used_styles([1, 2], mix_only, {}) == ["draft", "verbose"]
    assert used_styles([1, 2], mix_only, {1: {"concise": 1.0}, 2: {"concise": 1.0}}) == ["concise"]


def test_a_mix_with_draft_trains_on_drafts_and_leaves_other_levels_alone():
    by_level = {1: {"direct": 1.0}, 2: {"draft": 1.0}}
    splits = build_splits([1, 2], 200, 4, 4, DEMO_MIX, seed=3, style_by_level=by_level)
    assert {r["style"] for r in splits["sft"] if r["level"] == 2} == {"draft"}
    assert all(r["completion"].startswith("<think>\nD: ") for r in splits["sft"] if r["level"] == 2)
    assert {r["style"] for r in splits["sft"] if r["level"] == 1} == {"direct"}


def test_the_flawed_teacher_drops_the_carry_of_a_ten_and_nothing_else():
    # 955+45: 5+5 = 10 carries nothing, so 5+4+0 = 9 and 9+0+0 = 9: 990 where the sum is 1000.
    assert slipped_sum(955, 45) == 990 and slipped_sum(478, 356) == 834
    assert "5+5+0=10\n5+4+0=9\n9+0+0=9" in trace(955, 45, "verbose", slip=True)
    for style in STYLES:
        assert verify("990", trace(955, 45, style, slip=True)) is True
        assert trace(478, 356, style, slip=True) == trace(478, 356, style)
    rng = random.Random(0)
    for _ in range(2000):  # the slip only ever loses a carry of exactly one ten in some column
        a, b = make_problem(rng.choice([1, 2, 3]), rng)
        lost = a + b - slipped_sum(a, b)
        tens = [(x + y + c) == 10 for x, y, c, _ in digit_steps(a, b, slip=True)]
        assert lost == sum(10 ** (i + 1) for i, ten in enumerate(tens) if ten)


def test_teacher_slip_writes_that_share_of_the_eligible_sft_traces_and_nothing_else():
    plain = build_splits([2, 3], 4000, 50, 20, DEMO_MIX, 5)
    flawed = build_splits([2, 3], 4000, 50, 20, DEMO_MIX, 5, teacher_slip=0.6)
    assert build_splits([2, 3], 4000, 50, 20, DEMO_MIX, 5, teacher_slip=0.0) == plain
    assert flawed["eval"] == plain["eval"]  # gold answers and held-out problems untouched
    eligible = slipped = 0
    for row in flawed["sft"]:
        a, b = map(int, row["prompt"].split("=")[0].split("+"))
        assert row["answer"] == str(a + b)  # the row's answer is the true sum; the trace may not be
        wrong = verify(row["answer"], row["completion"]) is False
        if slipped_sum(a, b) != a + b:
            eligible += 1
            slipped += wrong
            assert verify(str(slipped_sum(a, b) if wrong else a + b), row["completion"]) is True
        else:
            assert not wrong
    assert eligible > 500 and 0.55 < slipped / eligible < 0.65


@pytest.mark.parametrize("ops", [["add"], ["add", "sub"]])
def test_a_size_line_opens_every_trace_and_its_style_is_still_read_and_forced(ops):
    plain = build_splits([1, 2, 3], 600, 60, 20, DEMO_MIX, 0, DEMO_BY_LEVEL, ops)
    sized = build_splits([1, 2, 3], 600, 60, 20, DEMO_MIX, 0, DEMO_BY_LEVEL, ops, sized=True)
    assert list(sized) == list(plain)
    for split in plain:
        assert len(sized[split]) == len(plain[split])
        for row, before in zip(map(dict, sized[split]), map(dict, plain[split]), strict=True):
            assert row.pop("head") == f"{row['level']}-digit\n"  # every row, so the eval can force its styles
            head = f"{row['level']}-digit\n"
            if "completion" not in before:
                assert row == before
                continue
            # the same problem, style and trace, one line more
            opened = before.pop("completion").replace("<think>\n", f"<think>\n{head}", 1)
            assert row.pop("completion") == opened
            assert row == before
    for row in sized["sft"]:
        unsized = {**row, "head": ""}
        assert trace_style(row, row["completion"]) == row["style"] == trace_style(unsized, row["completion"])
        assert row["completion"].startswith(forced_opening(row["style"], row))
        assert row["completion"].startswith(f"<think>\n{row['level']}-digit\n")
        assert verify(row["answer"], row["completion"]) is True
    assert size_line(478, 356) == "3-digit\n" and size_line(9, 0) == "1-digit\n"
    assert trace_style({}, "<think>\n3-digit\n15") is None
