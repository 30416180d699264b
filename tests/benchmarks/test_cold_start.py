"""benchmarks/cold_start.py: the arms' overrides are valid recipes, the numbers of each part from hand-made
arms (mean and worst seed, each target able to fail), the draft check on real trace text, the re-check of a
teacher's rows, and one real smoke-sized part through the CLI."""

import json

import pytest

from rl_reasoner.data.arith import trace
from rl_reasoner.recipe import load_recipe


@pytest.fixture
def bench(load_bench):
    return load_bench("cold_start")


def arm(acc_by_level, tokens=100.0, forced=None, data=None):
    """One seed's collected numbers for an arm: SFT accuracy per level (equal sizes), forced styles."""
    levels = {lv: {"accuracy": a, "tokens": tokens} for lv, a in acc_by_level.items()}
    out = {"sft": {"accuracy": sum(acc_by_level.values()) / len(levels), "tokens": tokens, "levels": levels}}
    out["forced"] = {
        s: {
            "accuracy": sum(v[0].values()) / len(v[0]),
            "tokens": v[1],
            "levels": {lv: {"accuracy": a, "tokens": v[1]} for lv, a in v[0].items()},
        }
        for s, v in (forced or {}).items()
    }
    return out | {"data": data or {}}


def test_every_arm_is_a_valid_recipe_of_its_part(bench):
    from pathlib import Path

    root = Path(bench.__file__).resolve().parents[1]
    for part, arms in bench.ARMS.items():
        for name, overrides in arms.items():
            extra = ["data.teacher.model=."] if part == "teacher" else []  # any existing folder passes check
            recipe = load_recipe(root / bench.RECIPES[part], [*overrides, *extra])
            assert recipe.data.train_size >= 1, name
    revthink = load_recipe(root / bench.RECIPES["revthink"], bench.ARMS["revthink"]["forward-3n"])
    full = load_recipe(root / bench.RECIPES["revthink"], bench.ARMS["revthink"]["full"])
    assert revthink.data.train_size == 3 * full.data.train_size
    assert revthink.data.revthink.objectives == ["forward"]


def test_revthink_targets_are_means_over_seeds_and_can_fail(bench):
    seeds = {
        "forward": [arm({"2": 0.9, "3": 0.6}), arm({"2": 0.9, "3": 0.7})],
        "full": [arm({"2": 0.95, "3": 0.7}), arm({"2": 0.9, "3": 0.74})],  # L3 +10 / +4 pt
        "forward-3n": [arm({"2": 1.0, "3": 0.8}), arm({"2": 1.0, "3": 0.7})],
        "forward-question": [arm({"2": 0.9, "3": 0.5}), arm({"2": 0.9, "3": 0.7})],
        "full-noise-filtered": [arm({"2": 0.9, "3": 0.7}, data={"revthink": {"kept_fraction": 0.80,
                                                                             "problems": 300}})] * 2,
        "full-noise-unfiltered": [arm({"2": 0.9, "3": 0.6})] * 2,
    }
    targets, findings = bench.revthink_numbers(seeds)
    assert targets["forward-only at level 3 <= 95 % (the regime is low-data)"]["met"]
    full = targets["full >= forward-only + 5 pt at level 3"]
    assert full["value"] == pytest.approx(0.07) and full["met"]
    assert not targets["full on N >= forward-only on 3N at level 3 (equal rows)"]["met"]  # -3 pt
    name = "kept fraction with noise 0.1 within 2 pt of (1-p)^2 = 0.81 (data stage, {} problems per seed)"
    kept = targets[name.format(300)]
    assert kept["value"] == pytest.approx(0.01) and kept["met"] and kept["kept_fraction"] == 0.8
    checks = [{"kept_fraction": 0.84, "problems": 3000}, {"kept_fraction": 0.86, "problems": 3000}]
    checked, checked_findings = bench.revthink_numbers(seeds, checks)  # the check decides, not the arm
    big = checked[name.format(3000)]
    assert big["value"] == pytest.approx(0.04) and not big["met"]
    per_seed = "kept fraction per seed: of the trained filtered arm's problems, of the check's"
    assert checked_findings[per_seed] == [[0.8, 0.84], [0.8, 0.86]]
    assert targets["noise 0.1: filtered >= unfiltered at level 3"]["value"] == pytest.approx(0.1)
    assert findings["full - forward-only at level 3, pt (mean, worst seed)"] == [7.0, 4.0]
    assert findings["forward-question - forward-only at level 3, pt (mean, worst seed)"] == [-5.0, -10.0]
    assert findings["level with the largest gain"] == "3"
    seeds["full"] = seeds["forward"]
    assert not bench.revthink_numbers(seeds)[0]["full >= forward-only + 5 pt at level 3"]["met"]


def test_draft_targets_use_the_worst_seed(bench):
    styles = {
        "direct": ({"1": 1.0, "3": 0.0}, 15.0),
        "draft": ({"1": 1.0, "3": 0.9}, 30.0),
        "concise": ({"1": 1.0, "3": 0.5}, 45.0),
    }
    worse = dict(styles, draft=({"1": 1.0, "3": 0.4}, 30.0))
    seeds = {
        "four-styles": [
            arm({"1": 1.0, "3": 1.0}, forced=styles) | {"draft_columns_right": {"1": 1, "3": 0.8}},
            arm({"1": 1.0, "3": 1.0}, forced=worse) | {"draft_columns_right": {"1": 1, "3": 0.6}},
        ]
    }
    targets, findings = bench.draft_numbers(seeds)
    gap = targets["forced draft >= forced direct + 50 pt at level 3 (worst seed)"]
    assert gap["value"] == pytest.approx(0.4) and not gap["met"]
    ratio = targets["forced draft tokens <= 0.6 x forced concise (worst seed)"]
    assert ratio["value"] == pytest.approx(30 / 45, abs=1e-4) and not ratio["met"]
    assert findings["drafts whose every column value is right, by level"] == {"1": 1.0, "3": 0.7}
    assert findings["forced accuracy by level (mean over seeds)"]["draft"] == {"1": 1.0, "3": 0.65}


def test_teacher_targets(bench):
    sel = {"rows": 10, "verified": 10, "shortest": 10}
    level_sel = sel | {"reliable_tokens": {"3": 9}}
    seeds = {
        "k1": [arm({"1": 1.0, "3": 1.0}, tokens=120.0) | {"selection": sel}],
        "k4": [arm({"1": 1.0, "3": 1.0}, tokens=90.0) | {"selection": sel}],
        "k8": [arm({"1": 1.0, "3": 0.995}, tokens=80.0) | {"selection": sel}],
        "k8-shortest-unverified": [arm({"1": 1.0, "3": 0.5}, tokens=20.0)],
        "k8-level": [arm({"1": 1.0, "3": 1.0}, tokens=84.0) | {"selection": level_sel}],
    }
    assert "level_reliable: tokens fall k=1 -> 4 -> 8 with accuracy within 1 pt" not in bench.teacher_numbers(
        seeds, [70.0]
    )[1]
    seeds["k1-level"] = [arm({"1": 1.0, "3": 1.0}, tokens=118.0) | {"selection": level_sel}]
    seeds["k4-level"] = [arm({"1": 1.0, "3": 0.97}, tokens=95.0) | {"selection": level_sel}]
    targets, findings = bench.teacher_numbers(seeds, [70.0])
    sweep = findings["level_reliable: tokens fall k=1 -> 4 -> 8 with accuracy within 1 pt"]
    assert sweep["tokens"] == [118.0, 95.0, 84.0] and sweep["spread"] == pytest.approx(0.015)
    assert not sweep["met"]  # level 3 at 97 % for k=4: 1.5 pt below the others over the levels
    level = findings["k8-level: the k=8 bounds (accuracy >= 99 %, tokens <= 1.25 x oracle, worst seed)"]
    assert level == {"accuracy": 1.0, "x_oracle": 1.2, "met": True, "reliable_tokens": [{"3": 9}]}
    checked = findings["k8-level: every kept row verified and the rule's pick (re-checked here)"]
    assert checked["rule's pick"] == 10
    assert targets["k=8 student accuracy >= 99 % (worst seed)"]["met"]
    assert targets["k=8 student tokens <= 1.25 x the teacher's oracle (worst seed)"][
        "value"
    ] == pytest.approx(80 / 70, abs=1e-4)
    assert targets["tokens fall k=1 -> 4 -> 8 with accuracy within 1 pt"]["met"]
    assert targets["shortest without the verifier loses >= 20 pt at level 3"]["value"] == pytest.approx(0.495)
    kept = "every kept row verified and the shortest verified sample of its prompt (re-checked here)"
    assert targets[kept]["met"]
    for broken in ({"rows": 10, "verified": 9, "shortest": 9}, {"rows": 10, "verified": 10, "shortest": 9}):
        seeds["k8"][0]["selection"] = broken
        assert not bench.teacher_numbers(seeds, [70.0])[0][kept]["met"]
    assert findings["tokens (mean over seeds)"]["k1"] == 120.0


def test_a_draft_counts_only_when_every_column_value_is_right(bench, tmp_path):
    good, bad = trace(478, 356, "draft"), trace(478, 356, "draft").replace("13", "12")
    lines = [
        {"variant": "forced-draft", "level": 3, "prompt": "478+356=?\n", "samples": [{"text": t}]}
        for t in (good, bad, "<think>\nD: x,1</think>")
    ]
    lines.append(
        {
            "variant": "forced-draft",
            "level": 2,
            "prompt": "83-47=?\n",
            "samples": [{"text": trace(83, 47, "draft", op="sub")}],
        }
    )
    lines.append({"variant": "original", "level": 3, "prompt": "478+356=?\n", "samples": [{"text": bad}]})
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert bench.draft_columns_right(path) == {"2": 1.0, "3": pytest.approx(1 / 3)}


def test_a_teachers_rows_are_rechecked_against_their_answers_and_all_their_samples(bench, tmp_path):
    concise, verbose, direct = (trace(478, 356, style) for style in ("concise", "verbose", "direct"))
    wrong_short = direct.replace("834", "824")
    samples = {  # id -> (text, tokens, truncated) of every sample the teacher drew for it
        "a": [(verbose, 150, False), (concise, 40, False), (wrong_short, 12, False)],  # kept concise: right
        "b": [(concise, 40, False), (verbose, 150, False)],  # its answer is 835: nothing verifies
        "c": [(verbose, 150, False), (concise, 40, False)],  # kept verbose: a shorter right one existed
        "d": [(concise, 40, False), (direct, 12, True)],  # the shorter right one ran out of budget
        "e": [(concise, 40, False), (concise.replace("834", "844"), 41, False), (verbose, 150, False)],
    }
    rows = [
        {"id": "a", "answer": "834", "completion": concise, "teacher": {"correct": 2, "tokens": 40}},
        {"id": "b", "answer": "835", "completion": concise, "teacher": {"correct": 1, "tokens": 40}},
        {"id": "c", "answer": "834", "completion": verbose, "teacher": {"correct": 2, "tokens": 150}},
        {"id": "d", "answer": "834", "completion": concise, "teacher": {"correct": 1, "tokens": 40}},
        # kept as shortest_reliable keeps it: a concise answer was wrong, so the verbose one, not the concise
        {"id": "e", "answer": "834", "completion": verbose, "teacher": {"correct": 2, "tokens": 150}},
    ]
    rows = [r | {"level": 3} for r in rows]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sft.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    floors = {"teacher": {"reliable_tokens": {"3": 100}}}  # level_reliable's, as the data stage records it
    (tmp_path / "manifest.json").write_text(json.dumps({"stages": {"data": {"result": floors}}}))
    drawn = [{"id": i, "samples": [{"text": t, "tokens": n, "truncated": cut} for t, n, cut in s]}
             for i, s in samples.items()]
    (tmp_path / "data" / "teacher-samples.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in [{"teacher": {}}, *drawn])
    )
    assert bench.verified_selection(tmp_path) == {"rows": 5, "verified": 4, "shortest": 2}
    assert bench.verified_selection(tmp_path, "shortest_reliable") == {"rows": 5, "verified": 4,
                                                                       "shortest": 3}
    # at least 100 tokens at level 3: c and e keep their verbose answer, d its only right one; a should not
    # have kept concise
    assert bench.verified_selection(tmp_path, "level_reliable") == {
        "rows": 5, "verified": 4, "shortest": 3, "reliable_tokens": {"3": 100}}


def test_quick_draft_part_runs_the_real_cli_and_writes_its_page(bench, tmp_path):
    assert bench.main(["--parts", "draft", "--quick", "--seeds", "0,1", "--runs-dir", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "cold_start.json").read_text())
    seeds = report["parts"]["draft"]["arms"]["four-styles"]
    assert [s["seed"] for s in seeds] == [0, 1]
    assert all((tmp_path / f"draft-four-styles-seed{s}" / "eval" / "results.json").exists() for s in (0, 1))
    assert report["parts"]["draft"]["lanes"]["lanes"] == 2  # the seeds side by side
    seed = seeds[0]
    assert set(seed["forced"]) == {"direct", "draft", "concise", "verbose"}
    assert set(seed["draft_columns_right"]) == {"1", "2", "3", "4"}  # the recipe's levels
    page = (tmp_path / "cold-start.md").read_text()
    assert "| forced style | accuracy | tokens |" in page and "forced draft tokens <= 0.6" in page
    assert "The seeds ran side by side: 2 lane(s)" in page
    assert report["targets"] and not (tmp_path / "tiny-arith-draft").exists()  # runs are named per arm
    assert report["parts"]["draft"]["about"].startswith("Chain-of-Draft")  # the page's text as it ran
    with pytest.raises(SystemExit, match=r"unknown part\(s\) \['cot'\]"):
        bench.main(["--parts", "cot", "--quick", "--runs-dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="a seed twice"):
        bench.main(["--parts", "draft", "--quick", "--seeds", "3,3", "--runs-dir", str(tmp_path)])


def test_a_run_of_some_parts_keeps_the_other_parts_of_the_results_file(bench, tmp_path):
    out = tmp_path / "cold_start.json"
    body = {
        "targets": {"t": {"value": 1, "bound": 0, "met": True}},
        "findings": {"f": 1},
        "git_commit": "old",
    }
    out.write_text(json.dumps({"parts": {"revthink": body, "draft": body}}))
    new = {"targets": {"t": {"value": 0, "bound": 0, "met": False}}, "findings": {}, "git_commit": "new"}
    merged = bench.merge(out, {"draft": new})
    assert list(merged["parts"]) == ["revthink", "draft"] and merged["parts"]["draft"]["git_commit"] == "new"
    assert merged["targets"] == {"revthink: t": body["targets"]["t"], "draft: t": new["targets"]["t"]}
    assert merged["findings"] == {"revthink: f": 1}
    assert list(bench.merge(tmp_path / "none.json", {"draft": new})["parts"]) == ["draft"]


def test_the_last_train_loss_is_read_from_the_last_checkpoint(bench, tmp_path):
    for step, losses in ((900, [0.5, 0.3]), (1200, [0.2, 0.01])):  # 1200 sorts before 900 as text
        folder = tmp_path / "sft" / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        history = [{"step": i, "loss": v} for i, v in enumerate(losses)] + [{"train_runtime": 1}]
        (folder / "trainer_state.json").write_text(json.dumps({"log_history": history}))
    assert bench.last_train_loss(tmp_path / "sft") == 0.01
    assert bench.last_train_loss(tmp_path / "none") is None
    from cold_start_report import arm_table  # the bench put benchmarks/ on the path

    rows = arm_table({"forward": [arm({"2": 0.5, "3": 0.2}) | {"train_loss": 0.01},
                       arm({"2": 0.5, "3": 0.2}) | {"train_loss": 0.03}]})
    assert rows[0].endswith("| last train loss |") and rows[2].endswith("| 0.020 |")
    one = arm({"2": 0.5, "3": 0.2})
    partial = arm_table({"forward": [one | {"train_loss": 0.01}, one]})
    assert partial[2].endswith("| — |")  # a mean over some seeds is not shown as the arm's
    assert arm_table({"forward": [one, one]})[0].endswith("| level 3 |")  # no loss recorded: no column
    from cold_start_report import lanes_line

    assert lanes_line({"lanes": 1, "torch_threads_per_lane": 2, "cores": 2}) == [] == lanes_line(None)


def test_the_kept_fraction_check_runs_the_data_stage_with_noise(bench, tmp_path):
    kept = bench.kept_check(5, tmp_path, ["data.train_size=200"])  # the bench's 3000, made smaller here
    assert kept["seed"] == 5 and kept["problems"] == 200 and 0 < kept["kept"] < 200
    assert kept["kept_fraction"] == round(kept["kept"] / 200, 4)
    assert not (tmp_path / "revthink-kept-seed5" / "sft").exists()  # data only
