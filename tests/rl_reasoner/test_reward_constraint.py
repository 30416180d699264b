"""constrained_bonus through its TRL adapter: a multiplier per level kept across steps, the same on every
process, carried through a real GRPO checkpoint and resume, and its parameters checked before training."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rewards.length import ConstraintState, constrained_bonus, dual_update
from rewards.length.reliable import bin_start, length_bin

sys.path.insert(0, os.path.dirname(__file__))  # the sibling test modules (pytest imports with importlib)
from test_cli import CRASH_AFTER_FIRST_GRPO_CHECKPOINT, SMOKE, cli  # noqa: E402
from test_reward_funcs import BATCH, CORRECT, LENGTHS, build, call, free_port, spec  # noqa: E402

FAST = {"reference_steps": 1, "epsilon": 0.05, "step_size": 10.0}  # reference from one batch, then 10x slack


def expected_values(multipliers: dict[str, float]) -> list[float]:
    """The pure term per group of BATCH with each group's level multiplier (levels 1, 2, 1)."""
    out = []
    for g, level in enumerate(("1", "2", "1")):
        block = slice(4 * g, 4 * g + 4)
        out += constrained_bonus(LENGTHS[block], CORRECT[block], multiplier=multipliers[level])
    return out


def test_each_level_pays_its_own_multiplier_and_updates_from_its_own_accuracy():
    (reward,) = build(spec("constrained_bonus", **FAST))
    logged = {}
    assert call(reward, log_metric=logged.__setitem__) == [0.0] * 12  # the reference step: accuracy alone
    assert reward.levels["1"].reference == 7 / 8 and reward.levels["2"].reference == 3 / 4
    assert logged["length/constrained_bonus_level_2_floor"] == pytest.approx(0.70)
    call(reward)  # same accuracy as the reference: slack = epsilon, multiplier 10 x 0.05 = 0.5
    lam = {level: reward.levels[level].multiplier for level in ("1", "2")}
    assert lam == pytest.approx({"1": 0.5, "2": 0.5})
    assert call(reward) == pytest.approx(expected_values(lam)) and any(expected_values(lam))

    wrong = {
        **BATCH,
        "completions": [r"\boxed{0}" if 4 <= i < 8 else c for i, c in enumerate(BATCH["completions"])],
    }
    columns = ("completions", "completion_ids", "answer", "id", "level")
    for _ in range(3):  # level 2 now all wrong: its multiplier falls to 0, level 1's keeps growing
        reward(prompts=["q"] * 12, **{key: wrong[key] for key in columns}, log_metric=logged.__setitem__)
    assert reward.levels["2"].multiplier == 0.0 and reward.levels["1"].multiplier == 1.0
    assert logged["length/constrained_bonus_level_2_multiplier"] == 0.0
    assert (
        logged["length/constrained_bonus_level_2_accuracy"] < logged["length/constrained_bonus_level_2_floor"]
    )


@pytest.mark.parametrize("measure, multiplier", [("samples", 0.0), ("majority", 1.0)])
def test_majority_measure_keeps_the_length_term_while_each_groups_majority_stays_right(measure, multiplier):
    """Level 2 goes from 4 of 4 right to 3 of 4: below its floor as samples, still right by majority."""
    (reward,) = build(spec("constrained_bonus", **FAST, measure=measure))
    right = dict(BATCH, completions=list(BATCH["completions"]))
    right["completions"][6] = r"\boxed{182}"
    columns = ("completions", "completion_ids", "answer", "id", "level")
    reward(prompts=["q"] * 12, **{key: right[key] for key in columns})  # the reference: level 2 at 1.0
    assert reward.levels["2"].reference == 1.0
    for _ in range(3):
        call(reward)  # BATCH: level 2 right 3 of 4 (floor 0.95)
    assert reward.levels["2"].multiplier == multiplier and reward.levels["1"].multiplier == 1.0


def test_a_start_multiplier_is_paid_from_the_first_batch_while_the_reference_is_measured():
    (reward,) = build(spec("constrained_bonus", **FAST, start_multiplier=0.75))
    values = call(reward)  # the reference batch: the length term is already on, at 0.75 on every level
    assert values == pytest.approx(expected_values({"1": 0.75, "2": 0.75})) and any(values)
    assert reward.levels["1"].reference == 7 / 8 and reward.levels["1"].multiplier == 0.75


def test_without_a_level_column_one_constraint_covers_the_batch():
    (reward,) = build(spec("constrained_bonus", **FAST))
    columns = ("completions", "completion_ids", "answer", "id")
    for _ in range(3):
        values = reward(prompts=["q"] * 12, **{key: BATCH[key] for key in columns})
    assert set(reward.levels) == {"all"} and reward.levels["all"].reference == 10 / 12
    assert values == pytest.approx(expected_values({"1": 0.5, "2": 0.5}))


def test_state_round_trips_through_json():
    (reward,) = build(spec("constrained_bonus", **FAST))
    for _ in range(3):
        call(reward)
    (fresh,) = build(spec("constrained_bonus", **FAST))
    fresh.load_state_dict(json.loads(json.dumps(reward.state_dict())))
    assert fresh.levels == reward.levels and call(fresh) == call(reward)


def twice(func, **extra):
    """``func`` on BATCH twice over (24 items, six groups): each length bin gets twice the samples."""
    columns = ("completions", "completion_ids", "answer", "id", "level")
    return func(prompts=["q"] * 24, **{key: BATCH[key] * 2 for key in columns}, **extra)


def test_reliable_margin_learns_each_levels_failing_lengths_and_carries_them_through_json():
    """Level 2's shortest answers (11 tokens) are right half the time and level 1's 9-10-token ones 3 of 4
    times, their longer ones always: after a few batches those length bins are unreliable on their level,
    a right answer there earns no bonus, and the level's accuracy is measured without them."""
    params = dict(FAST, reliable_margin=0.1)
    (reward,) = build(spec("constrained_bonus", **params))
    (plain,) = build(spec("constrained_bonus", **FAST))
    logged = {}
    for _ in range(4):
        values, without = twice(reward, log_metric=logged.__setitem__), twice(plain)
    assert reward._unreliable("2") == {length_bin(11)} and reward._unreliable("1") == {length_bin(9)}
    for level in ("1", "2"):  # same reference (no bin known yet), a higher running accuracy since
        assert reward.levels[level].reference == plain.levels[level].reference
        assert reward.levels[level].accuracy > plain.levels[level].accuracy
    for i in (0, 4):  # level 1's right 9-token answer, level 2's right 11-token one
        assert without[i] > 0 and values[i] == 0.0
    assert without[5] == 0.0 and values[5] > 0  # level 2's 15-token answer: now below the mean of 15 and 19
    assert logged["length/constrained_bonus_level_2_reliable_tokens"] == bin_start(length_bin(15))
    (fresh,) = build(spec("constrained_bonus", **params))
    fresh.load_state_dict(json.loads(json.dumps(reward.state_dict())))
    assert fresh.bins == reward.bins and fresh.levels == reward.levels and twice(fresh) == twice(reward)


@pytest.mark.parametrize("reference", ["start", "best"])
def test_the_adapter_runs_the_pure_update(reference):
    (reward,) = build(spec("constrained_bonus", reference=reference))
    for _ in range(6):
        call(reward)
    state = ConstraintState()
    for _ in range(6):
        state = dual_update(state, 3, 4, reference=reference)
    assert reward.levels["2"] == state


@pytest.mark.parametrize(
    "params, pattern",
    [
        ({"epsilon": 1.5}, r"epsilon=1.5 must be a number in \[0, 1\]"),
        ({"step_size": 0}, r"step_size=0 must be a number in \(0, 1000\]"),
        ({"reference_steps": 0}, r"reference_steps=0 must be a whole number >= 1"),
        ({"decay": 1}, r"decay=1 must be a number in \[0, 1\)"),
        ({"reference": "sft"}, r"reference='sft' must be one of \('start', 'best'\)"),
        ({"start_multiplier": 1.5}, r"start_multiplier=1.5 must be a number in \[0, 1\]"),
        ({"multiplier": 0.5}, "multiplier is kept per level by the trainer"),
        ({"unreliable": [11]}, "unreliable is kept per level by the trainer"),
        ({"level_column": 3}, "level_column=3 must be a dataset column name"),
        ({"measure": "greedy"}, r"measure='greedy' must be one of \('samples', 'majority'\)"),
        ({"reliable_margin": 2}, r"reliable_margin=2 must be a number in \[0, 1\]"),
        ({"saturation": 0}, r"saturation=0 must be null or a number in \(0, 1\]"),
        ({"epsilonn": 0.1}, r"no parameter\(s\) \['epsilonn'\]"),
    ],
)
def test_bad_constraint_params_name_the_parameter_and_its_range(params, pattern):
    with pytest.raises(ValueError, match=pattern):
        build(spec("constrained_bonus", **params))


WORKER = textwrap.dedent(
    """
    import json, sys
    from accelerate import PartialState
    sys.path.insert(0, sys.argv[1])
    from test_reward_funcs import BATCH, build, call, spec
    state = PartialState(cpu=True)
    (reward,) = build(spec("constrained_bonus", reference_steps=1, epsilon=0.05, step_size=10.0,
                           reliable_margin=0.1, saturation=0.75))
    n = len(BATCH["id"]) // state.num_processes
    mine = slice(state.process_index * n, (state.process_index + 1) * n)
    values = [call(reward, mine) for _ in range(3)]
    with open(f"{sys.argv[2]}/rank{state.process_index}.json", "w") as f:
        json.dump({"values": values, "state": reward.state_dict()}, f)
    import torch.distributed as dist
    state.wait_for_everyone()
    dist.destroy_process_group()
    """
)


def test_two_real_processes_keep_the_same_state_as_one(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    here = os.path.dirname(__file__)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([here, os.getcwd()])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port"]
    out = subprocess.run(
        [*cmd, str(free_port()), str(script), here, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    (single,) = build(spec("constrained_bonus", **FAST, reliable_margin=0.1, saturation=0.75))
    expected = [call(single) for _ in range(3)]
    assert ranks[0]["state"] == ranks[1]["state"] == single.state_dict()
    for step in range(3):
        assert ranks[0]["values"][step] + ranks[1]["values"][step] == expected[step]
    assert any(expected[2])


CONSTRAINED = (
    "rewards.1={name: constrained_bonus, weight: 0.5, params: {reference_steps: 1, step_size: 50.0, "
    "reliable_margin: 0.1}}"
)
GATE = ["data.val_per_level=2", "gate.max_drop=0.5"]  # its record must survive the kill too
GRPO = ["grpo.max_steps=3", "grpo.save_steps=1", "report_to=none", CONSTRAINED, *GATE]
GRPO += ["--stages", "data,sft,grpo"]


def test_killed_mid_grpo_resumes_with_its_saved_multipliers_and_ends_as_an_uninterrupted_run(tmp_path):
    recipe = os.path.abspath(SMOKE)
    whole = cli("run", recipe, "--runs-dir", str(tmp_path / "a"), *GRPO, cwd=Path.cwd())
    assert whole.returncode == 0, whole.stderr[-2000:]
    crash = [sys.executable, "-c", CRASH_AFTER_FIRST_GRPO_CHECKPOINT, "run", recipe]
    crash += ["--runs-dir", str(tmp_path / "b"), *GRPO]
    crashed = subprocess.run(crash, capture_output=True, text=True, timeout=600)
    assert crashed.returncode == 3, crashed.stderr[-2000:]
    resumed = cli("run", recipe, "--runs-dir", str(tmp_path / "b"), *GRPO, cwd=Path.cwd())
    assert resumed.returncode == 0 and "grpo: resuming" in resumed.stdout, resumed.stderr[-2000:]

    a, b = (tmp_path / run / "tiny-arith-smoke" / "grpo" for run in ("a", "b"))
    states = [json.loads((d / "checkpoint-3" / "trainer_state.json").read_text()) for d in (a, b)]
    saved = [
        s["stateful_callbacks"]["RewardState"]["attributes"]["rewards"]["1:constrained_bonus"] for s in states
    ]
    # 2 prompts per step: each step updates the level(s) it drew; a fresh state after the resume would
    # count only the last two steps
    assert saved[0] == saved[1] and sum(level["steps"] for level in saved[0].values()) >= 3
    assert all(level["bins"] for level in saved[0].values())  # the length-bin counts came back too
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    gates = [json.loads((d / "gate.json").read_text()) for d in (a, b)]
    assert gates[0] == gates[1] and gates[0]["history"][0]["step"] == 3


def test_a_checkpoint_without_the_saved_state_is_refused_with_what_to_do(tmp_path):
    recipe = os.path.abspath(SMOKE)
    crash = [sys.executable, "-c", CRASH_AFTER_FIRST_GRPO_CHECKPOINT, "run", recipe]
    crashed = subprocess.run([*crash, "--runs-dir", str(tmp_path), *GRPO], capture_output=True, text=True)
    assert crashed.returncode == 3, crashed.stderr[-2000:]
    state_file = tmp_path / "tiny-arith-smoke" / "grpo" / "checkpoint-1" / "trainer_state.json"
    state = json.loads(state_file.read_text())
    del state["stateful_callbacks"]["RewardState"]
    state_file.write_text(json.dumps(state))
    out = cli("run", recipe, "--runs-dir", str(tmp_path), *GRPO, cwd=Path.cwd())
    assert out.returncode == 2 and "holds no saved state for reward(s) ['1:constrained_bonus']" in out.stderr
    assert "--force --stages grpo" in out.stderr and state_file.exists()
