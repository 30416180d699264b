"""benchmarks/style_trajectory.py on a run folder holding TRL's completions log (the parquet layout TRL
writes with ``log_completions``) and the run's GRPO prompts; styles are read off real trace openings."""

import json

import pyarrow as pa
import pyarrow.parquet as pq

from rl_reasoner.data.arith import trace

ROWS = [{"id": "g0", "level": 1, "prompt": "4+6=?\n", "answer": "10"},
        {"id": "g1", "level": 2, "prompt": "61+10=?\n", "answer": "71"}]  # fmt: skip


def write_log(run_dir, step, items, advantages=None):
    """``grpo/completions/completions_<step>.parquet`` with TRL's columns (plus a reward column)."""
    folder = run_dir / "grpo" / "completions"
    folder.mkdir(parents=True, exist_ok=True)
    columns = {
        "step": [step] * len(items),
        "prompt": [p for p, _, _ in items],
        "completion": [c for _, c, _ in items],
        "accuracy": [a for _, _, a in items],
        "completion_tokens": [len(c) for _, c, _ in items],
    }
    if advantages is not None:
        columns["advantage"] = advantages
    pq.write_table(pa.table(columns), folder / f"completions_{step:05d}.parquet")


def test_each_logged_step_gives_each_levels_style_shares_and_how_often_they_were_right(tmp_path, load_bench):
    mod = load_bench("style_trajectory")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "grpo.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    one, two = ROWS[0]["prompt"], ROWS[1]["prompt"]
    write_log(tmp_path, 10, [(one, trace(4, 6, "direct"), 1.0), (one, trace(4, 6, "verbose"), 1.0),
                             (two, trace(61, 10, "concise"), 1.0), (two, "<think>\n</think>\n7", 0.0),
                             (two, trace(61, 10, "concise"), 0.0), (two, "garbled", 0.0)],
              advantages=[0.5, -0.5, 1.0, -1.5, 0.0, -1.0])  # fmt: skip
    write_log(tmp_path, 5, [(one, trace(4, 6, "verbose"), 1.0)])  # an older log: no advantage column
    got = mod.sampled_styles(tmp_path)
    assert list(got) == ["5", "10"]  # in step order
    assert got["5"] == {"1": {"verbose": [1.0, 1.0]}}
    assert got["10"]["1"] == {"direct": [0.5, 1.0, 0.5], "verbose": [0.5, 1.0, -0.5]}
    assert got["10"]["2"] == {
        "direct": [0.25, 0.0, -1.5],
        "concise": [0.5, 0.5, 0.5],
        "other": [0.25, 0.0, -1.0],
    }

    page = mod.trajectory_lines([{"seed": 7, "sampled_styles": got}, {"seed": 8, "sampled_styles": {}}])
    assert "Seed 7:" in page and "Seed 8:" not in page
    assert "| 10 | d 50%·100%·+0.5 v 50%·100%·-0.5 | d 25%·0%·-1.5 c 50%·50%·+0.5 o 25%·0%·-1.0 |" in page
    assert "| 5 | v 100%·100% |  |" in page


def test_a_run_without_a_completions_log_has_no_trajectory(tmp_path, load_bench):
    mod = load_bench("style_trajectory")
    assert mod.sampled_styles(tmp_path) == {}
    assert mod.trajectory_lines([{"seed": 0, "sampled_styles": {}}]) == []


def test_the_multiplier_per_step_and_level_comes_from_the_newest_checkpoints_log(tmp_path, load_bench):
    mod = load_bench("style_trajectory")
    assert mod.multipliers(tmp_path) == {}
    for step, lam in ((12, 0.5), (24, 0.25)):  # checkpoint-24's log holds every step so far
        folder = tmp_path / "grpo" / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        history = [{"step": 5, "length/constrained_bonus_level_1_multiplier": 1.0,
                    "length/constrained_bonus_level_2_multiplier": lam, "loss": 0.1},
                   {"step": 10, "length/constrained_bonus_level_1_multiplier": 0.0}]  # fmt: skip
        (folder / "trainer_state.json").write_text(json.dumps({"log_history": history}))
    lams = mod.multipliers(tmp_path)
    assert lams == {"5": {"1": 1.0, "2": 0.25}, "10": {"1": 0.0}}
    styles = {"5": {"1": {"direct": [1.0, 1.0]}, "2": {"verbose": [1.0, 0.5]}}}
    page = mod.trajectory_lines([{"seed": 3, "sampled_styles": styles, "multipliers": lams}])
    assert "| 5 | d 100%·100% λ 1.00 | v 100%·50% λ 0.25 |" in page
