"""Reward adapters: shared correctness, explicit grouping, and groups split across real processes."""

import json
import os
import socket
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from rewards.length import METHODS, below_mean_bonus, kimi, l1_exact
from rl_reasoner.reward_funcs import REWARDS, build_reward_funcs

EOS = 1
# Three prompts x four completions; lengths are len(ids) minus the EOS. Split over two ranks (six
# items each), the middle group p1 has two completions on each rank.
BATCH = {
    "id": ["p0"] * 4 + ["p1"] * 4 + ["p2"] * 4,
    "answer": ["7"] * 4 + ["182"] * 4 + ["10"] * 4,
    "completions": [
        r"\boxed{7}",
        r"a\boxed{7}",
        r"abc\boxed{7}",
        r"\boxed{8}",
        r"\boxed{182}",
        r"abcd\boxed{182}",
        r"\boxed{183}",
        r"abcdefgh\boxed{182}",
        r"xx\boxed{10}",
        r"\boxed{10}",
        r"xxxxxx\boxed{10}",
        r"x\boxed{10}",
    ],
}
BATCH["completion_ids"] = [[5] * len(c) + [EOS] for c in BATCH["completions"]]
BATCH["level"] = [1] * 4 + [2] * 4 + [1] * 4
BATCH["target_length"] = [8] * 4 + [20] * 4 + [11] * 4
LENGTHS = [len(c) for c in BATCH["completions"]]
CORRECT = [True, True, True, False, True, True, False, True] + [True] * 4


def spec(name, weight=1.0, **params):
    return SimpleNamespace(name=name, weight=weight, params=params)


# Every registered length reward, with params that make the tiny lengths here matter.
LENGTH_SPECS = [
    spec("below_mean_bonus"),
    spec("kimi"),
    spec("efficiency"),
    spec("shortest_correct", beta=0.05),
    spec("l1_exact", target_column="target_length", alpha=0.05),
    spec("l1_max", targets=12, alpha=0.05),
    spec("soft_overlong", max_len=16, buffer_len=6),
    spec("truncation", budget=12),
    spec("cosine", max_len=20),
    spec("absolute", alpha=0.05, max_len=20),
]


def call(func, sl=slice(None), **extra):
    """``func`` on ``BATCH[sl]`` with the kwargs TRL passes: every dataset column, plus ``extra``."""
    columns = ("completions", "completion_ids", "answer", "id", "level", "target_length")
    return func(prompts=["q"] * len(BATCH["id"][sl]), **{key: BATCH[key][sl] for key in columns}, **extra)


def build(*specs):
    return build_reward_funcs(list(specs), num_generations=4, eos_token_ids=[EOS])


def per_group(fn, **params):
    """The pure function on each prompt's four completions, concatenated; ``targets`` from the column
    when ``params`` name ``target_column``."""
    column = params.pop("target_column", None)
    out = []
    for g in range(3):
        block = slice(4 * g, 4 * g + 4)
        extra = {"targets": BATCH[column][block]} if column else {}
        out += fn(LENGTHS[block], CORRECT[block], **params, **extra)
    return out


def test_accuracy_and_bonus_follow_the_group_rule():
    acc, bonus = build(spec("accuracy"), spec("below_mean_bonus", 0.5))
    assert call(acc) == [float(c) for c in CORRECT]
    expected = per_group(below_mean_bonus)
    assert call(bonus) == expected
    assert expected[0] == 1.0 and expected[3] == 0.0 and expected[7] == 0.0


def test_every_registered_length_reward_is_applied_per_group():
    # constrained_bonus keeps state across steps: tests/rl_reasoner/test_reward_constraint.py
    assert sorted(s.name for s in LENGTH_SPECS) == sorted(set(METHODS) - {"constrained_bonus"})
    assert sorted(REWARDS) == sorted(["accuracy", "format", *METHODS])
    for s, func in zip(LENGTH_SPECS, build(*LENGTH_SPECS), strict=True):
        expected = per_group(METHODS[s.name], **s.params)
        assert call(func) == expected, s.name
        assert len(set(expected)) > 1, f"{s.name}: the test batch should give it a length signal"


def test_warmup_steps_hold_the_length_term_at_zero_until_the_global_step():
    plain, warm = build(spec("kimi"), spec("kimi", warmup_steps=3))
    logged = {}
    for step in (0, 2):
        state = SimpleNamespace(global_step=step)
        assert call(warm, trainer_state=state, log_metric=logged.__setitem__) == [0.0] * 12
        assert logged == {"length/kimi_open_groups": 0.0}
    assert call(warm, trainer_state=SimpleNamespace(global_step=3)) == call(plain) == per_group(kimi)
    with pytest.raises(ValueError, match="warmup_steps needs TRL's trainer_state"):
        call(warm)


def test_min_accuracy_gates_each_group_on_its_own_accuracy():
    # groups p0 and p1 are 3/4 correct, p2 4/4
    plain, strict, exact = build(
        spec("kimi"), spec("kimi", min_accuracy=0.8), spec("kimi", min_accuracy=0.75)
    )
    logged = {}
    assert call(strict, log_metric=logged.__setitem__) == [0.0] * 8 + per_group(kimi)[8:]
    assert logged == {"length/kimi_open_groups": pytest.approx(1 / 3)}
    assert call(exact) == call(plain) and any(call(plain)[:8])


def test_l1_targets_come_from_the_dataset_column_or_one_number():
    column, scalar = build(spec("l1_exact", target_column="target_length"), spec("l1_exact", targets=11))
    assert call(column) == per_group(l1_exact, target_column="target_length")
    assert call(scalar) == per_group(l1_exact, targets=11) != call(column)
    (missing,) = build(spec("l1_max", target_column="budget"))
    with pytest.raises(ValueError, match="target_column 'budget' is no dataset column.*target_length"):
        call(missing)


@pytest.mark.parametrize(
    ("bad", "pattern"),
    [
        (spec("l1_exact"), "needs exactly one of params.target_column .* and params.targets"),
        (spec("l1_max", targets=5, target_column="t"), "needs exactly one of"),
        (spec("l1_max", targets=[5, 6]), "targets must be one number"),
        (spec("l1_exact", target_column=""), "target_column='' must be a dataset column name"),
        (
            spec("kimi", target_column="t"),
            r"no parameter\(s\) \['target_column'\]; valid parameters: \[.*warmup",
        ),
        (spec("efficiency", alpha=-1), "reward 'efficiency': alpha=-1 must be a finite number >= 0"),
        (spec("cosine", max_len=0), "reward 'cosine': max_len=0 must be a finite number > 0"),
        (spec("kimi", warmup_steps=-2), "reward 'kimi': warmup_steps=-2 must be a whole number >= 0"),
        (spec("kimi", min_accuracy=1.5), r"reward 'kimi': min_accuracy=1.5 must be a number in \[0, 1\]"),
    ],
)
def test_bad_length_params_fail_when_the_rewards_are_built(bad, pattern):
    with pytest.raises(ValueError, match=pattern):
        build(bad)


def expected_level_metrics():
    metrics = {}
    for level in (1, 2):
        items = [(n, c) for n, c, lv in zip(LENGTHS, CORRECT, BATCH["level"], strict=True) if lv == level]
        metrics[f"accuracy/level_{level}"] = sum(c for _, c in items) / len(items)
        metrics[f"length/level_{level}_mean_tokens"] = sum(n for n, _ in items) / len(items)
    return metrics


def test_accuracy_logs_accuracy_and_tokens_per_level():
    (acc,) = build(spec("accuracy"))
    logged = {}
    call(acc, log_metric=logged.__setitem__)
    assert {k: v for k, v in logged.items() if "level" in k} == expected_level_metrics()
    assert logged["accuracy/level_2"] == 0.75


def test_unknown_reward_and_unknown_param_name_the_valid_choices():
    with pytest.raises(ValueError, match="valid names: .*below_mean_bonus"):
        build_reward_funcs([spec("brevity")], num_generations=4, eos_token_ids=[EOS])
    with pytest.raises(ValueError, match="'modee'.*valid parameters: .*mode"):
        build_reward_funcs([spec("below_mean_bonus", modee="x")], num_generations=4, eos_token_ids=[EOS])


WORKER = textwrap.dedent(
    """
    import json, sys
    from types import SimpleNamespace
    from accelerate import PartialState
    sys.path.insert(0, sys.argv[1])
    from test_reward_funcs import BATCH, LENGTH_SPECS, call, spec
    from rl_reasoner.reward_funcs import build_reward_funcs
    state = PartialState(cpu=True)
    funcs = build_reward_funcs([spec("accuracy"), *LENGTH_SPECS], num_generations=4, eos_token_ids=[1])
    n = len(BATCH["id"]) // state.num_processes
    mine = slice(state.process_index * n, (state.process_index + 1) * n)
    logged = {}
    values = {f.__name__: call(f, mine, log_metric=logged.__setitem__) for f in funcs}
    with open(f"{sys.argv[2]}/rank{state.process_index}.json", "w") as f:  # stdout lines would interleave
        json.dump({"values": values, "logged": logged}, f)
    import torch.distributed as dist
    state.wait_for_everyone()
    dist.destroy_process_group()  # else gloo's threads may abort the process at exit
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_groups_split_across_two_real_processes_match_one_process(tmp_path):
    """Two gloo processes via torchrun, each holding half the batch as TRL hands it out: group p1 is
    split across ranks; every rank's slice of every length reward (and of accuracy) must equal the
    single-process computation. One launch computes them all."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    here = os.path.dirname(__file__)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([here, os.getcwd()])}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            str(free_port()),
            str(script),
            here,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    results = {rank: json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)}
    for func in build(spec("accuracy"), *LENGTH_SPECS):
        name = func.__name__
        assert results[0]["values"][name] + results[1]["values"][name] == call(func), name
    for rank in (0, 1):  # per-level metrics are computed on the gathered batch: the same on every rank
        logged = results[rank]["logged"]
        assert {k: v for k, v in logged.items() if "level" in k} == pytest.approx(expected_level_metrics())
        assert logged["length/kimi_open_groups"] == 1.0


def test_correctness_is_verified_once_per_batch_and_shared_by_all_rewards():
    from rewards.verify import counters_snapshot

    acc, bonus = build_reward_funcs(
        [spec("accuracy"), spec("below_mean_bonus")], num_generations=4, eos_token_ids=[EOS]
    )
    kwargs = {key: list(BATCH[key]) for key in ("completions", "completion_ids", "answer", "id")}
    before = counters_snapshot()["calls"]
    acc(prompts=["q"] * 12, **kwargs)
    bonus(prompts=["q"] * 12, **kwargs)  # same list objects, as TRL passes them within one step
    once = counters_snapshot()["calls"] - before
    acc(prompts=["q"] * 12, **{**kwargs, "completions": list(kwargs["completions"])})  # a new batch
    assert once > 0 and counters_snapshot()["calls"] - before == 2 * once


# One completion per answer form: boxed, <answer> tag, answer phrase, math mode, bare. Gold 7 for all.
FORMS = [r"so \boxed{7}", "<answer>7</answer>", "The answer is 7.", "so we get $7$", "7"]
FORM_KWARGS = {
    "completions": FORMS,
    "completion_ids": [[5] * len(c) + [EOS] for c in FORMS],
    "answer": ["7"] * len(FORMS),
    "id": [f"p{i}" for i in range(len(FORMS))],
}


def test_accuracy_extraction_is_strict_by_default_and_lenient_on_request():
    default, strict, lenient = build(
        spec("accuracy"), spec("accuracy", extraction="strict"), spec("accuracy", extraction="lenient")
    )
    assert default.extraction == "strict" and lenient.extraction == "lenient"
    assert default(**FORM_KWARGS) == strict(**FORM_KWARGS) == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert lenient(**FORM_KWARGS) == [1.0] * 5
    assert call(lenient) == call(strict) == [float(c) for c in CORRECT]  # boxed answers: both modes agree


@pytest.mark.parametrize(
    ("bad", "pattern"),
    [
        (spec("accuracy", extraction="loose"), r"'accuracy': extraction='loose' must be one of \['strict', "),
        (spec("accuracy", extraction=None), r"extraction=None must be one of \['strict', 'lenient'\]"),
        (spec("accuracy", mode="x"), r"no parameter\(s\) \['mode'\]; valid parameters: \['extraction'\]"),
    ],
)
def test_bad_accuracy_params_fail_when_the_rewards_are_built(bad, pattern):
    with pytest.raises(ValueError, match=pattern):
        build(bad)


def test_modes_share_one_batch_without_mixing_and_length_rewards_follow_accuracy():
    from rewards.verify import counters_snapshot

    lenient, strict, bonus = build(
        spec("accuracy", extraction="lenient"), spec("accuracy"), spec("below_mean_bonus")
    )
    before = counters_snapshot()["calls"]
    assert lenient(**FORM_KWARGS) == [1.0] * 5
    assert strict(**FORM_KWARGS) == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert lenient(**FORM_KWARGS) == [1.0] * 5  # cached per mode: no third verification
    assert counters_snapshot()["calls"] - before == 2 * len(FORMS)
    assert bonus.shared.extraction == "lenient"  # the first accuracy reward's mode
    (alone,) = build(spec("kimi"))
    assert alone.shared.extraction == "strict"
