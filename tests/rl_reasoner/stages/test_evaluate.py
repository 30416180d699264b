import pytest

from rl_reasoner.stages.evaluate import find_oracle, summarize


def rec(level, correct, tokens, truncated=False):
    return {"level": level, "correct": correct, "tokens": tokens, "truncated": truncated}


def test_summarize_reports_per_level_and_overall():
    s = summarize([rec(1, True, 10), rec(1, False, 20), rec(2, True, 30, True), rec(2, True, 50)])
    assert s["overall"] == {"n": 4, "accuracy": 0.75, "mean_tokens": 27.5, "truncation_rate": 0.25}
    assert s["levels"]["1"]["accuracy"] == 0.5 and s["levels"]["2"]["mean_tokens"] == 40


def forced(acc_by_style, tokens_by_style):
    return {
        style: summarize([rec(lv, i < round(acc * 100), tokens_by_style[style][lv - 1])
                          for lv, acc in enumerate(accs, start=1) for i in range(100)])
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
    assert oracle["overall"]["accuracy"] == pytest.approx((1.0 + 1.0 + 0.99) / 3)


def test_oracle_falls_back_to_the_most_accurate_style_when_none_is_good_enough():
    runs = forced({"direct": [0.5], "verbose": [0.9]}, {"direct": [10], "verbose": [100]})
    assert find_oracle(runs, threshold=0.99)["levels"]["1"]["style"] == "verbose"
