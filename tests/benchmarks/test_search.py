"""benchmarks/search.py without models: the targets and the page from hand-made per-seed numbers, and the
order of its calls."""

import threading
from pathlib import Path

import pytest


def seed(
    sampled: float,
    maj: float,
    bon: float,
    pas: float,
    auroc: float,
    shuffled: float,
    prm: float = 0.95,
    beam=0.7,
    mcts=(0.7, 0.8, 0.75),  # mcts, rstar, mcts-two accuracy
    hits=(0.9, 0.5),  # verified / unverified candidates right
    vote: float = 0.72,
) -> dict:
    point = {"bon": bon, "vote": vote, "maj": maj, "pass": pas}
    curve = {k: {**point, "spent_tokens": 100.0 * k} for k in (1, 2, 4)}
    beams = {b: {"accuracy": beam, "spent_tokens": 300.0, "maj_at_equal_tokens": maj, "beyond_curve": False}
             for b in ("2x2",)}  # fmt: skip
    evals = {name: {"accuracy": acc, "spent_tokens": 800.0, "maj_at_equal_tokens": maj}
             for name, acc in zip(("mcts", "rstar", "mcts-two"), mcts, strict=True)}  # fmt: skip
    return {
        "rstar_evals": {**evals, "verified_right": hits[0], "unverified_right": hits[1]},
        "prm": {"mc_agreement_heldout": prm, "mc_agreement_all": prm, "step_auroc_exact_heldout": prm},
        "prm_beam": beams,
        "greedy": {"accuracy": 0.5, "spent_tokens": 100.0},
        "sampled_accuracy": sampled,
        "bon_search": {"accuracy": bon, "spent_tokens": 400.0},
        "curve": curve,
        "auroc_eval_candidates": auroc,
        "auroc_within_problems": auroc - 0.02,
        "auroc_held_out": auroc,
        "auroc_shuffled_labels": shuffled,
        "search_matches_rerank": 1.0,
        "problems": 300,
    }


@pytest.fixture
def bench(load_bench):
    return load_bench("search")


def test_targets_are_means_over_seeds_and_fail_where_they_should(bench):
    good = {0: seed(0.5, 0.6, 0.7, 0.95, 0.9, 0.5), 1: seed(0.6, 0.6, 0.66, 0.93, 0.88, 0.55)}
    targets, findings = bench.summarize(good, 4, 30.0)
    assert all(t["met"] for t in targets.values()), targets
    assert targets["best-of-4 >= maj@4 + 3 pt"]["value"] == pytest.approx(0.08)
    vote = targets["best-of-4 by verifier-weighted vote (bon-vote) >= maj@4 + 3 pt"]
    assert vote["value"] == pytest.approx(0.12)
    resumed, _ = bench.summarize(good, 4, 30.0, resumed=True)  # a resumed invocation's minutes
    assert [name for name, t in resumed.items() if not t["met"]] == ["benchmark <= 45 min"]
    weak = {
        0: seed(0.9, 0.6, 0.61, 0.6, 0.6, 0.9, prm=0.6, beam=0.62, mcts=(0.55, 0.56, 0.5), hits=(0.5, 0.45),
                vote=0.62)
    }  # too strong a model, chance verifiers
    targets, _ = bench.summarize(weak, 4, 50.0)
    failed = {name for name, t in targets.items() if not t["met"]}
    assert failed == {
        "weak: sampled accuracy at level 3 in [0.40, 0.70]",
        "weak: pass@4 >= 0.90",
        "ORM AUROC on held-out problems' candidates >= 0.85",
        "ORM on shuffled labels: AUROC <= 0.6",
        "best-of-4 >= maj@4 + 3 pt",
        "best-of-4 by verifier-weighted vote (bon-vote) >= maj@4 + 3 pt",
        "best-of-4 never above pass@4 (every seed)",
        "MC step labels agree with exact step correctness >= 95 % (held-out steps)",
        "PRM step AUROC against exact step labels >= 0.9 (held-out)",
        "PRM beam 2x2 >= maj vote at equal spent tokens + 3 pt",
        "rStar >= maj vote at equal spent tokens + 5 pt",
        "MCTS with majority >= maj vote at equal spent tokens",
        "rStar >= MCTS with majority + 2 pt",
        "verified candidates right >= 10 pt more often than unverified",
        "benchmark <= 45 min",
    }
    assert findings["MCTS with majority, five actions - two actions (pt)"] == pytest.approx(-5.0)


def test_the_page_has_a_row_per_seed_and_the_curve(bench):
    numbers = {0: seed(0.5, 0.6, 0.7, 0.95, 0.9, 0.5), 1: seed(0.6, 0.6, 0.66, 0.93, 0.88, 0.55)}
    targets, findings = bench.summarize(numbers, 4, 30.0)
    report = {
        "command": "python benchmarks/search.py",
        "git_commit": "abc",
        "machine": "cpu",
        "n": 4,
        "wall_minutes": 30.0,
        "seeds": numbers,
        "targets": targets,
        "findings": findings,
    }
    page = bench.render(report)
    assert "| 0 | 300 | 50.0% | 50.0% | 60.0% | 70.0% | 72.0% | 95.0% | 0.900 | 0.880 | 0.500 |" in page
    assert "| 4 | 400 | 60.0% | 68.0% | 72.0% | 94.0% |" in page
    assert "| 0 | 95.0% | 0.950 | 2x2 | 300 | 70.0% | 60.0% | +10.0 |" in page
    assert "| 0 | rstar | 800 | 80.0% | 60.0% | +20.0 | 90.0% | 50.0% |" in page
    assert "| 1 | mcts-two | 800 | 75.0% | 60.0% | +15.0 | — | — |" in page


def test_majority_at_equal_tokens_interpolates_in_log_tokens_and_clamps(bench):
    curve = {1: {"spent_tokens": 100.0, "maj": 0.5}, 4: {"spent_tokens": 400.0, "maj": 0.7}}
    assert bench.maj_at(curve, 200.0) == pytest.approx(0.6)
    assert bench.maj_at(curve, 50.0) == 0.5
    assert bench.maj_at(curve, 1600.0) == 0.7


def test_rebuild_makes_the_page_again_from_the_json_alone_with_its_minutes(bench, tmp_path):
    numbers = {0: seed(0.5, 0.6, 0.7, 0.95, 0.9, 0.5), 1: seed(0.6, 0.6, 0.66, 0.93, 0.88, 0.55)}
    targets, findings = bench.summarize(numbers, 4, 30.0)
    seconds = {"run weak-seed0": 300.0, "eval weak-seed0/bon": 120.0, "eval weak-seed1/bon": 150.0}
    report = {"command": "python benchmarks/search.py", "git_commit": "abc", "machine": "cpu", "n": 4,
              "wall_minutes": 30.0, "seconds": seconds, "seeds": numbers, "targets": targets,
              "findings": findings}  # fmt: skip
    results = tmp_path / bench.RESULTS
    results.parent.mkdir(parents=True)
    (tmp_path / bench.DOC).parent.mkdir(parents=True)
    results.write_text(bench.json.dumps(report))  # the JSON's keys are strings now, as on disk
    page = bench.rebuild(tmp_path)
    assert (tmp_path / bench.DOC).read_text() == page and (tmp_path / bench.PLOT).stat().st_size > 0
    assert "| 0 | 300 | 50.0% | 50.0% | 60.0% | 70.0% | 72.0% | 95.0% | 0.900 | 0.880 | 0.500 |" in page
    assert "Wall minutes" in page and "run 5.0, eval 4.5." in page
    assert "| `eval weak-seed1/bon` | 2.5 |" in page
    assert "Where the minutes go" not in bench.render({**report, "seconds": {}})
    assert "at a time" not in page  # the report has no lanes: one call after another
    lanes = {"lanes": 2, "torch_threads_per_lane": 1, "cores": 2}
    assert "ran 2 at a time, 1 torch thread(s) each on 2 cores" in bench.render({**report, "lanes": lanes})
    assert "**resumed**" not in page and "**resumed**" in bench.render({**report, "resumed": True})


def test_every_call_starts_after_the_outputs_it_reads_and_the_seeds_share_the_workers(bench, tmp_path,
                                                                                     monkeypatch):
    """The two seeds' calls (``rl-reasoner`` stubbed: only the command lines are kept) on two workers: each
    reads only outputs already written, rStar's discriminator is the other seed's weak model, and each seed's
    numbers come after all its calls."""
    made, lock = [], threading.Lock()

    def cli(*args):
        with lock:
            made.append(args)
        if args[0] == "run":  # the weak run writes the held-out split the evals read
            run = tmp_path / next(a.removeprefix("name=") for a in args if a.startswith("name="))
            (run / "data").mkdir(parents=True)
            (run / "data" / "eval.jsonl").write_text('{"level": 3, "prompt": "1+1=?", "answer": "2"}\n')

    monkeypatch.setattr(bench, "cli", cli)
    monkeypatch.setattr(bench, "seed_numbers", lambda run, n: {"after": len(made), "run": run.name})
    disc = bench.discriminators([5, 6])
    waves = [bench.seed_tasks(s, tmp_path, 16, 300, [], disc[s]) for s in (5, 6)]
    done = bench.run_tasks([t for k in range(len(waves[0])) for w in waves for t in w[k]], workers=2)

    def where(args):  # "weak-seed5/run", "weak-seed5/verifier-orm", "weak-seed5/bon", ...
        if args[0] == "run":
            return next(a.removeprefix("name=") for a in args if a.startswith("name=")) + "/run"
        return f"{Path(args[1]).name}/{Path(args[args.index('--out') + 1]).name}"

    at = {where(args): i for i, args in enumerate(made)}
    needs = {t.name: set(t.needs) for w in waves for wave in w for t in wave}
    assert len(at) == len(made) == 22  # 11 calls a seed, each once
    for s, other in ((5, 6), (6, 5)):
        w, own = f"weak-seed{s}/", f"{s}:"
        assert own + "verifier-orm" in needs[own + "verifier-orm-shuffled"]  # it reads the ORM's samples
        assert {own + "verifier-orm", own + "sampled"} <= needs[own + "bon"]
        assert own + "verifier-prm" in needs[own + "prm-beam-2x2"] and f"{other}:run" in needs[own + "rstar"]
        assert at[w + "run"] < at[w + "verifier-orm"] < at[w + "verifier-orm-shuffled"]
        assert max(at[w + "verifier-orm"], at[w + "sampled"]) < at[w + "bon"]
        assert at[w + "verifier-prm"] < at[w + "prm-beam-2x2"]
        rstar = made[at[w + "rstar"]]
        assert rstar[rstar.index("--discriminator") + 1] == str(tmp_path / f"weak-seed{other}" / "sft")
        assert at[f"weak-seed{other}/run"] < at[w + "rstar"]
        assert done[f"{s}:numbers"]["run"] == f"weak-seed{s}"
        assert all(i < done[f"{s}:numbers"]["after"] for key, i in at.items() if key.startswith(w))
