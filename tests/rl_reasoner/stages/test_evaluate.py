import pytest

from rl_reasoner.data.arith import designed_styles
from rl_reasoner.evaluation.metrics import evaluate
from rl_reasoner.stages.evaluate import check_design, find_oracle


def rec(level, correct, tokens, truncated=False):
    sample = {"correct": correct, "tokens": tokens, "truncated": truncated, "vote": None}
    return {"level": level, "samples": [sample]}


def forced(acc_by_style, tokens_by_style):
    """What the engine reports for each forced-style variant (one greedy sample per prompt)."""
    return {
        style: evaluate([rec(lv, i < round(acc * 100), tokens_by_style[style][lv - 1])
                         for lv, acc in enumerate(accs, start=1) for i in range(100)], [1], 256)
        for style, accs in acc_by_style.items()
    }


def test_oracle_takes_the_shortest_style_that_clears_the_threshold_per_level():
    runs = forced(
        {"direct": [1.0, 0.86, 0.0], "concise": [1.0, 1.0, 0.99], "verbose": [1.0, 1.0, 1.0]},
        {"direct": [14, 15, 16], "concise": [28, 38, 48], "verbose": [90, 120, 150]},
    )
    oracle = find_oracle(runs, threshold=0.99)
    assert [oracle["levels"][lv]["style"] for lv in "123"] == ["direct", "concise", "concise"]
    assert oracle["overall"]["mean_tokens"] == pytest.approx((14 + 38 + 48) / 3)
    assert oracle["overall"]["pass@1"] == pytest.approx((1.0 + 1.0 + 0.99) / 3)
    assert oracle["overall"]["prompts"] == 300 and oracle["levels"]["3"]["truncation_rate"] == 0


def test_oracle_falls_back_to_the_most_accurate_style_when_none_is_good_enough():
    runs = forced({"direct": [0.5], "verbose": [0.9]}, {"direct": [10], "verbose": [100]})
    assert find_oracle(runs, threshold=0.99)["levels"]["1"]["style"] == "verbose"


def test_design_check_names_each_level_whose_oracle_differs_from_the_task_design(capsys):
    runs = forced(
        {"direct": [1.0, 0.05, 0.0], "concise": [1.0, 0.62, 0.99], "verbose": [1.0, 1.0, 1.0]},
        {"direct": [14, 15, 16], "concise": [28, 38, 48], "verbose": [90, 120, 150]},
    )
    oracle = find_oracle(runs, threshold=0.99)
    check = check_design(designed_styles([1, 2, 3]), oracle)
    assert check == {
        "designed": {"1": "direct", "2": "verbose", "3": "verbose"},
        "oracle": {"1": "direct", "2": "verbose", "3": "concise"},
        "holds": False,
    }
    assert "level 3: the task is built for verbose but the oracle is concise" in capsys.readouterr().out
    runs["concise"] = forced({"c": [1.0, 0.62, 0.27]}, {"c": [28, 38, 48]})["c"]
    assert check_design(designed_styles([1, 2, 3]), find_oracle(runs, threshold=0.99))["holds"] is True
    assert check_design({}, oracle)["holds"] is False  # nothing designed: nothing shown


def test_an_sft_only_run_evaluates_its_sft_model_and_oracle_and_says_grpo_was_not_trained(tmp_path):
    """``--stages data,sft,eval`` (the cold-start benchmark's runs): the real CLI, no GRPO unit to read."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    cmd = [sys.executable, "-m", "rl_reasoner", "run", "recipes/tiny-arith/smoke.yaml", "--stages",
           "data,sft,eval", "--runs-dir", str(tmp_path), "name=sft-only", "report_to=none"]
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=True)
    assert "eval: grpo, grpo-accuracy-only not trained, so not evaluated" in done.stdout
    results = json.loads((tmp_path / "sft-only" / "eval" / "results.json").read_text())
    assert list(results["models"]) == ["sft"] and set(results["oracle"]["levels"]) == {"1", "2"}
    assert not (tmp_path / "sft-only" / "grpo").exists()
