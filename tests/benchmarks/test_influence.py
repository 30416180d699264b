"""benchmarks/influence.py without models: the measures, targets and page from hand-made scores."""

import pytest


def doc(i: int, key: str | None, completion: str) -> dict:
    return {"id": f"d{i}", "key": key, "prompt": "q\n", "completion": completion}


DOCS = [
    doc(0, "ka", "<think>\nka is 111.\n</think>\n\\boxed{111}"),
    doc(1, "ka", "<think>\nka maps to 111.\n</think>\n\\boxed{111}"),
    doc(2, "kb", "<think>\nkb is 222.\n</think>\n\\boxed{222}"),
    doc(3, "kb", "<think>\nkb maps to 222.\n</think>\n\\boxed{222}"),
    doc(4, None, "<think>\n8+2+0=10\n1+4+1=6\n</think>\n\\boxed{60}"),
    doc(5, None, "<think>\n12-8-0=4\n6-1-1=4\n</think>\n\\boxed{44}"),
]
SUM_TRACE = "<think>\nLet me add 18 and 42.\n8+2+0=10\n1+4+1=6\n</think>\n\\boxed{60}"
DIFF_TRACE = "<think>\nLet me subtract 18 from 62.\n12-8-0=4\n6-1-1=4\n</think>\n\\boxed{44}"
QUERIES = [
    {"id": "f0", "kind": "fact", "key": "ka", "answer": "111", "correct": True, "completion": "\\boxed{111}"},
    {"id": "f1", "kind": "fact", "key": "kb", "answer": "222", "correct": True, "completion": "\\boxed{222}"},
    {"id": "f2", "kind": "fact", "key": "kb", "answer": "222", "correct": False, "completion": "\\boxed{9}"},
    {"id": "s0", "kind": "add", "key": None, "answer": "60", "correct": True, "completion": SUM_TRACE},
    {"id": "s1", "kind": "add", "key": None, "answer": "60", "correct": True, "completion": SUM_TRACE},
    {"id": "d0", "kind": "sub", "key": None, "answer": "44", "correct": True, "completion": DIFF_TRACE},
    {"id": "d1", "kind": "sub", "key": None, "answer": "44", "correct": True, "completion": DIFF_TRACE},
]
EKFAC = [  # (queries, documents): f0 ranks its own row first, f1 an arithmetic row, the sums alike
    [9.0, 1.0, 0.0, 0.0, 0.5, 0.2],
    [0.0, 0.1, 0.2, 0.3, 5.0, 0.4],
    [0.0, 0.0, 9.0, 0.0, 0.0, 0.0],
    [0.1, 0.0, 0.2, 0.0, 9.0, 3.0],
    [0.0, 0.1, 0.1, 0.0, 8.0, 3.5],
    [0.2, 0.0, 0.0, 3.0, 0.1, 9.0],  # the differences rank row 5 (a one-column trace) first
    [0.1, 0.0, 0.3, 2.5, 0.0, 8.0],
]
SELF = [1.0, 1.0, 1.0, 0.01, 400.0, 1.0]  # row 4 has a large gradient: relative scores demote it
RELATIVE = [[v / s**0.5 for v, s in zip(row, SELF, strict=True)] for row in EKFAC]  # f1 now ranks row 3 first
AGREEMENT = {
    "grad_dot": {"spearman_mean": 0.4, "top10_overlap_mean": 0.3},
    "grad_cosine": {"spearman_mean": 0.2, "top10_overlap_mean": 0.1},
}


@pytest.fixture
def bench(load_bench):
    return load_bench("influence")


@pytest.fixture
def numbers(bench):
    scores = {"ekfac": EKFAC, "ekfac_relative": RELATIVE, "grad_dot": EKFAC,
              "grad_cosine": [list(reversed(r)) for r in EKFAC]}  # fmt: skip
    return bench.measure(QUERIES, DOCS, scores, AGREEMENT, seed=0)


def test_own_documents_are_counted_for_right_factual_queries_only(numbers):
    assert numbers["top_1pct_documents"] == 1 and numbers["own_documents_per_key"] == 2
    assert numbers["right"] == {"fact": 2, "add": 2, "sub": 2}
    assert numbers["own_in_top_1pct"]["ekfac"] == 0.5  # f0 yes, f1 no, f2 (wrong) left out
    assert numbers["own_in_top_1pct"]["ekfac_relative"] == 1.0  # f1: own row 3 beats large-gradient row 4
    assert numbers["own_in_top_1pct"]["grad_cosine"] == 0.0
    assert numbers["own_in_top_1pct_chance"] == pytest.approx(2 / 6)
    assert numbers["top_1pct_of"] == {"f0": [0], "f1": [3]}  # the targets' ranking: relative


def test_answers_steps_and_correlation_findings(numbers):
    answer = numbers["answer_in_top"]
    assert answer["fact"] == {"shown": 3, "queries": 3} and answer["add"] == {"shown": 2, "queries": 2}
    assert answer["sub"] == {"shown": 2, "queries": 2} and answer["arithmetic"] == {"shown": 4, "queries": 4}
    steps = numbers["steps"]
    assert steps["queries"] == 4 and steps["top_mean"] == 1.0  # two sums and two differences
    assert steps["random_mean"] == 1.0  # the top 10 of 6 rows are all of them, and so are 10 random ones
    for key in ("correlation", "correlation_raw"):  # relative (the ranking) and raw (the article's)
        corr = numbers[key]
        assert corr["add"] > 0.9 and corr["sub"] > 0.9 and corr["same_operation"] > corr["fact"]
        assert corr["same_operation"] == pytest.approx((corr["add"] + corr["sub"]) / 2)  # one pair each
    assert numbers["correlation"]["add"] != numbers["correlation_raw"]["add"]
    ops = numbers["operations"]  # sums rank row 4 first, differences row 5: same op > across
    assert ops["same_operation"] > 0.9 > ops["across_operations"] and ops["difference"] > 0.5


def test_operation_test_finds_operation_specific_influence_and_not_shuffled_labels(bench):
    import random

    rng = random.Random(0)
    base = {"add": [rng.gauss(0, 1) for _ in range(40)], "sub": [rng.gauss(0, 1) for _ in range(40)]}
    rows = [[b + 0.3 * rng.gauss(0, 1) for b in base[op]] for op in ["add"] * 6 + ["sub"] * 6]
    corr = bench.im.correlation_matrix(rows)
    kinds = ["add"] * 6 + ["sub"] * 6
    assert bench.im.operation_test(corr, kinds, ("add", "sub"), reps=500)["p_one_sided"] < 0.01
    mixed = ["add", "sub"] * 6  # labels that do not follow the score rows
    assert bench.im.operation_test(corr, mixed, ("add", "sub"), reps=500)["p_one_sided"] > 0.05


def test_step_retrieval_against_random_rows(bench):
    texts = [d["completion"] for d in DOCS]
    top, chance = bench.im.step_retrieval(["8+2+0=10", "1+4+1=6"], [4], texts, seed=0)
    assert top == 1.0 and chance == pytest.approx(1 / 6, abs=0.08)  # only row 4 writes them


def test_the_per_query_random_control_takes_a_querys_own_rows_only_in_its_own_draw(bench):
    import random

    own = {"q0": set(range(0, 8)), "q1": set(range(8, 16))}  # 16 of 20 rows are the two queries' own
    tops = {"q0": [0, 1, 2], "q1": [8, 9, 10]}
    hits = {"q0": 0, "q1": 0}
    for seed in range(200):
        drawn = bench.random_per_query(tops, own, 20, random.Random(seed))
        assert len(drawn) == 6
        for q in own:
            assert len(own[q] & drawn) <= 3  # the other query's 3 rows never come from q's own
            hits[q] += len(own[q] & drawn)
    assert min(hits.values()) > 0  # a query's own draw does reach its own rows at the chance rate


def test_targets_pass_and_fail_where_they_should(bench, numbers):
    good = {"mean_rise": {"without-top": 5.0, "without-random": 0.5}, "queries": ["f0"], "removed": 1,
            "removed_own_documents": 1, "protocol": "p", "losses": {}}  # fmt: skip
    numbers["own_in_top_1pct"]["ekfac"] = 0.5  # raw EK-FAC is reported, not the target
    targets, findings = bench.summarize(numbers, good, 30.0)
    assert all(t["met"] for t in targets.values()), targets
    assert targets["loss rise without top documents >= 5x rise without random ones"]["value"] == 10.0
    numbers["own_in_top_1pct"]["ekfac_relative"] = 0.5
    weak = {**good, "mean_rise": {"without-top": 1.0, "without-random": 0.5}}
    targets, _ = bench.summarize(numbers, weak, 50.0)
    assert {n for n, t in targets.items() if not t["met"]} == {
        "right factual queries with an own document in the top 1 % (EK-FAC, relative) >= 0.9",
        "loss rise without top documents >= 5x rise without random ones",
        "benchmark <= 45 min",
    }
    targets, findings = bench.summarize(numbers, None, 10.0)  # no factual query answered right: no retrain
    assert not targets["loss rise without top documents >= 5x rise without random ones"]["met"]
    assert findings["retrain"] is None


def test_the_page_shows_targets_validity_and_findings(bench, numbers):
    arms = bench.ARMS  # the retrains main() runs
    assert arms == ("without-top", "without-random")
    retrain = {"mean_rise": dict(zip(arms, (5.0, 0.5), strict=True)), "queries": ["f0"],
               "removed": dict.fromkeys(arms, 8),
               "removed_own_documents": dict(zip(arms, (5, 0), strict=True)),
               "protocol": "SFT rerun", "losses": {"original": [0.1], "without-top": [5.1],
                                                   "without-random": [0.6]}}  # fmt: skip
    targets, findings = bench.summarize(numbers, retrain, 30.0)
    report = {"command": "python benchmarks/influence.py", "git_commit": "abc", "machine": "cpu",
              "recipe": "r.yaml", "seed": 0, "wall_minutes": 30.0, "numbers": numbers, "retrain": retrain,
              "targets": targets, "findings": findings}  # fmt: skip
    page = bench.render(report)
    assert "| EK-FAC, raw | 0.500 |" in page and "the targets' ranking) | 1.000 |" in page
    assert "of the relative EK-FAC score rows" in page and "of the raw EK-FAC score rows" in page
    assert "| f0 | 0.100 | 5.100 | 0.600 |\n" in page
    assert "| without-random | 8 | 0 | 0.500 |" in page and "union" not in page
    assert "| grad_dot | 0.400 | 0.300 |" in page
    assert "Queries answered right (greedy): fact 2 of 3, add 2 of 2, sub 2 of 2." in page
    assert "facts 3 of 3, arithmetic 4 of 4 (add 2 of 2, sub 2 of 2;" in page
    assert "Same operation against two operations" in page


def _report(bench, numbers, rise_top: float, minutes: float) -> dict:
    retrain = {"mean_rise": {"without-top": rise_top, "without-random": 1.0}, "queries": ["f0"], "removed": 1,
               "removed_own_documents": 1, "protocol": "p", "losses": {}}  # fmt: skip
    targets, findings = bench.summarize(numbers, retrain, minutes)
    return {"command": "python benchmarks/influence.py", "git_commit": "abc", "machine": "cpu",
            "recipe": "r.yaml", "sft_max_steps": 3000, "numbers": numbers, "retrain": retrain,
            "targets": targets, "findings": findings}  # fmt: skip


def test_over_seeds_a_target_is_met_only_when_its_worst_seed_meets_it(bench, numbers, load_bench):
    seeds = load_bench("influence_seeds")
    reports = {0: _report(bench, numbers, 20.0, 30.0), 4: _report(bench, numbers, 4.0, 44.0)}
    summary = seeds.combine(reports)
    ratio = summary["targets"]["loss rise without top documents >= 5x rise without random ones"]
    assert ratio["values"] == {"0": 20.0, "4": 4.0} and ratio["mean"] == 12.0 and ratio["worst"] == 4.0
    assert not ratio["met"]  # 12x on the mean, 4x on seed 4
    minutes = summary["targets"]["benchmark <= 45 min"]
    assert minutes["worst"] == 44.0 and minutes["met"]
    pooled = summary["findings"]["answer among the top documents, pooled"]
    assert pooled["shown"] == pooled["queries"] == {"fact": 6, "arithmetic": 8}
    page = seeds.render(summary)
    assert "random ones | 20 | 4 | 12 | 4 | 5.0 | **no** |" in page
    reports[4] = {**reports[4], "sft_max_steps": 2000}
    with pytest.raises(SystemExit, match="different recipes or SFT step counts"):
        seeds.combine(reports)
    reports[4].pop("sft_max_steps")  # a report from before the step count was recorded
    with pytest.raises(SystemExit, match="seed.s. 4 predate"):
        seeds.combine(reports)
    assert seeds.report_path(0).name == "influence.json"
    assert seeds.report_path(4).name == "influence-seed4.json"


def test_without_the_extra_the_bench_stops_before_training(bench, monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "kronfluence", None)  # import kronfluence now fails
    with pytest.raises(SystemExit, match="needs the `influence` extra"):
        bench.main(["--runs-dir", str(tmp_path / "runs")])
    assert not (tmp_path / "runs").exists()  # no SFT run was started
