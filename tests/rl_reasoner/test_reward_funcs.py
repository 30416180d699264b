"""Reward adapters: shared correctness, explicit grouping, and groups split across real processes."""

import json
import os
import socket
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from rewards.length import below_mean_bonus
from rl_reasoner.reward_funcs import build_reward_funcs

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


def spec(name, weight=1.0, **params):
    return SimpleNamespace(name=name, weight=weight, params=params)


def call(func, sl=slice(None)):
    return func(
        prompts=["q"] * len(BATCH["id"][sl]),
        completions=BATCH["completions"][sl],
        completion_ids=BATCH["completion_ids"][sl],
        answer=BATCH["answer"][sl],
        id=BATCH["id"][sl],
    )


def test_accuracy_and_bonus_follow_the_group_rule():
    acc, bonus = build_reward_funcs(
        [spec("accuracy"), spec("below_mean_bonus", 0.5)], num_generations=4, eos_token_ids=[EOS]
    )
    assert call(acc) == [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0] + [1.0] * 4
    lengths = [len(c) for c in BATCH["completions"]]
    correct = [True, True, True, False, True, True, False, True] + [True] * 4
    expected = [
        v for g in range(3) for v in below_mean_bonus(lengths[4 * g : 4 * g + 4], correct[4 * g : 4 * g + 4])
    ]
    assert call(bonus) == expected
    assert expected[0] == 1.0 and expected[3] == 0.0 and expected[7] == 0.0


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
    from test_reward_funcs import BATCH, call, spec
    from rl_reasoner.reward_funcs import build_reward_funcs
    state = PartialState(cpu=True)
    (bonus,) = build_reward_funcs([spec("below_mean_bonus")], num_generations=4, eos_token_ids=[1])
    n = len(BATCH["id"]) // state.num_processes
    local = call(bonus, slice(state.process_index * n, (state.process_index + 1) * n))
    print("RESULT", state.process_index, json.dumps(local), flush=True)
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_groups_split_across_two_real_processes_match_one_process(tmp_path):
    """Two gloo processes via torchrun, each holding half the batch as TRL hands it out: group p1 is
    split across ranks; every rank's slice must equal the single-process computation."""
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
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    results = dict(
        (int(line.split()[1]), json.loads(line.split(" ", 2)[2]))
        for line in out.stdout.splitlines()
        if line.startswith("RESULT")
    )
    (single,) = build_reward_funcs([spec("below_mean_bonus")], num_generations=4, eos_token_ids=[EOS])
    assert results[0] + results[1] == call(single)


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
