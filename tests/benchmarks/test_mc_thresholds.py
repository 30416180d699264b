"""benchmarks/mc_thresholds.py on a real (untrained) tiny model: its continuations never box the gold, so
every rule's labels follow from the completions alone and the counts below are exact."""

import json

from rl_reasoner.tiny_model import TinyModelSpec, save_tiny_model
from rl_reasoner.verifier.arith_steps import exact_step_labels

RIGHT = "<think>\nLet me add 47 and 35.\n7+5+0=12\n4+3+1=8\nSo the sum is 82.\n</think>\n\\boxed{82}"
# right answer, wrong first pass: the exact labels are wrong from its first column line on
RECOVERED = ("<think>\nLet me add 47 and 35.\n7+5+0=13\n4+3+1=8\nCheck:\n7+5+0=12\n4+3+1=8\nSo the sum is "
             "82.\n</think>\n\\boxed{82}")  # fmt: skip
WRONG = "<think>\nLet me add 47 and 35.\n7+5+0=12\n4+3+0=7\nSo the sum is 72.\n</think>\n\\boxed{72}"


def make_run(root):
    run = root / "weak-seed0"
    save_tiny_model(run / "sft", TinyModelSpec(layers=1, hidden=32, heads=2, intermediate=64))
    (run / "data").mkdir()
    (run / "data" / "grpo.jsonl").write_text(json.dumps(
        {"id": "grpo-0", "level": 2, "prompt": "47+35=?\n", "answer": "82"}) + "\n")  # fmt: skip
    (run / "verifier-prm").mkdir()
    (run / "verifier-prm" / "step_labels.jsonl").write_text(
        "".join(json.dumps({"id": "grpo-0", "completion": c}) + "\n" for c in (RIGHT, RECOVERED, WRONG))
    )
    return run


def test_each_rule_is_scored_against_the_exact_labels_of_every_step(load_bench, tmp_path):
    bench = load_bench("mc_thresholds")
    run = make_run(tmp_path)
    assert bench.main([str(run), "--continuations", "2", "--out-dir", str(tmp_path / "out")]) == 0
    (measured,) = json.loads((tmp_path / "out" / "mc_thresholds.json").read_text())["runs"]
    exact = {c: exact_step_labels(47, 35, c) for c in (RIGHT, RECOVERED, WRONG)}
    assert all(exact[RIGHT]) and exact[RECOVERED][:2] == [True, True] and not any(exact[RECOVERED][2:])
    assert measured["prefixes"] == sum(len(e) - 1 for e in exact.values())  # proper prefixes only
    # reachable: the right completions' steps all right, the wrong one's all wrong (no continuation is right)
    reachable = measured["rules"]["reachable"]
    assert reachable["mc_right_exact_wrong"] == exact[RECOVERED].count(False)
    assert reachable["mc_wrong_exact_right"] == exact[WRONG].count(True)
    # soft: every proper step wrong, each final step its completion's verdict
    soft = measured["rules"]["soft >= 0.5"]
    assert soft["mc_wrong_exact_right"] == sum(e[:-1].count(True) for e in exact.values())
    assert soft["mc_right_exact_wrong"] == 1  # RECOVERED's final step: right answer, wrong trace
    mono = measured["rules"]["monotone soft >= 0.5"]  # nothing after a wrong step is right
    assert mono["mc_right_exact_wrong"] == 0 and mono["steps"] == sum(len(e) for e in exact.values())
    assert (tmp_path / "out" / "mc-thresholds.md").read_text().count("| soft >= ") == len(bench.SHARES)
