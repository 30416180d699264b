"""Inference-time search on a weak model (issue 15): greedy, majority vote, ORM best-of-N, PRM beam, rStar.

    python benchmarks/search.py [--seeds 0,1] [--n 16] [--runs-dir DIR] [--lanes L] [key=value ...]
    python benchmarks/search.py --rebuild     # the page and plot again from the JSON, no runs

Per seed, through the real CLI: the weak recipe (``recipes/tiny-arith/weak.yaml``: short SFT, no GRPO) on its
own data; an outcome verifier (``rl-reasoner verifier RUN --kind orm``) trained on samples of the *training*
prompts, and the same training on shuffled labels of the same samples (the control, ``--samples-from``);
then on the held-out level-3 problems (``data.eval_per_level``, 300): a greedy eval, a sampled eval of
``--n`` answers per problem (pass@k, maj@k) and ``--search bon`` over ``--n`` candidates.
The search draws its candidates as the sampled eval draws its answers (same chunks and seeds; tested in
tests/rl_reasoner/evaluation/test_search.py), so here it ranks the sampled eval's answers
(``--candidates-from``) instead of drawing them again: best-of-N and majority vote rank the very same
candidates, at the same spent tokens. The benchmark checks the picks, scores every candidate with the
verifier (AUROC on problems no verifier saw, and best-of-k for k < n by reranking the first k), takes
``--search bon-vote``'s pick (``evaluation.search.weighted_vote``; the CLI call is tested there) on the same
candidates and scores, and plots accuracy against spent tokens per problem. A
process verifier (``--kind prm``: Monte-Carlo step labels) is trained on the same run and steers
``--search prm-beam`` at the ``BEAMS`` widths; each beam is compared with majority vote at the tokens it
spent, and the PRM's step labels and scores with the exact step checker (``verifier.json``).

The seeds' calls share ``--lanes`` workers (default: one per seed), the cores split among them
(``OMP_NUM_THREADS``): each worker starts the next call whose inputs exist (``schedule.run_tasks``), so no
core waits for another seed's lane; every call is the one a user would make, with the seed's own ``--seed``.

Writes ``benchmarks/results/search.json`` (``targets``: ``{name: {value, bound, met}}``; ``findings``) and
``docs/search.md`` + ``docs/search.png``. No smoke-sized mode: a model trained in seconds answers nothing
right, so no verifier can be trained on it (the search itself is tested in tests/rl_reasoner/evaluation).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import fmean

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling, also when loaded by path
from schedule import Task, run_tasks  # noqa: E402
from search_page import DOC, HARDEST, PLOT, RESULTS, WEAK, plot, rebuild, render  # noqa: E402, F401
from search_prm import BEAMS, PRM, maj_at, prm_numbers, prm_targets, target  # noqa: E402, F401
from search_rstar import MCTS, discriminators, rstar_flags, rstar_numbers, rstar_targets  # noqa: E402

# Chosen on calibration seed 1, held-out *training* prompts (verifier.json): 500 prompts x 600 steps 0.818,
# 1000 x 600 0.883 (5 Dec 2026); 2000 x 600 0.868, 2000 x 1200 0.908 (a later session, same seed: more
# prompts need more steps). The 2000 x 1200 ORM and its shuffled control cost ~12 min more per lane; since
# ORM steps group pairs by length (3a1411f) each training takes ~1/3 less (seeds 1 / 98: 583 -> 398 s,
# 675 -> 443 s), and without activation checkpointing (40370ec) ~30 % less again, the same weights.
VERIFIER = ["--samples-per-prompt", "8", "--prompts", "2000", "--steps", "1200"]


SECONDS: dict[str, float] = {}  # "<command> <run>[/<output>]" -> wall seconds of each call made
THREADS: dict[str, str] = {}  # the environment of every call: torch threads per lane (see main)


def cli(*args: str) -> None:
    """``rl-reasoner ARGS`` as a user runs it; its console output is dropped, a failure stops the bench.
    Its wall time goes to :data:`SECONDS` (the report's ``seconds``: where the bench's minutes go)."""
    cmd = [sys.executable, "-m", "rl_reasoner", *args]
    start = time.time()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, env={**os.environ, **THREADS})
    if args[0] == "run":  # "run weak-seed1"; "verifier weak-seed1/verifier-orm", "eval weak-seed1/bon"
        where = next(a.removeprefix("name=") for a in args if a.startswith("name="))
    else:
        where = f"{Path(args[1]).name}/{Path(args[args.index('--out') + 1]).name}"
    SECONDS[f"{args[0]} {where}"] = round(time.time() - start, 1)


def hardest_rows(run: Path) -> Path:
    """The run's held-out rows of the hardest level, as a jsonl the eval reads with ``--data``."""
    rows = [json.loads(line) for line in (run / "data" / "eval.jsonl").read_text().splitlines()]
    out = run / "search" / f"level{HARDEST}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in rows if r.get("level") == HARDEST))
    return out


def seed_tasks(
    seed: int, runs: Path, n: int, per_level: int, extra: list[str], disc: int
) -> list[list[Task]]:
    """One seed's calls as a user makes them (the weak run, its two verifiers, the evals, MCTS and rStar with
    seed ``disc``'s weak model as discriminator) and then its numbers, in waves, the longest calls first
    (:func:`main` lists every seed's k-th wave before any (k+1)-th). A finished verifier is not redone."""
    name, run = f"weak-seed{seed}", runs / f"weak-seed{seed}"
    disc_model = runs / f"weak-seed{disc}" / "sft"
    own = f"{seed}:"  # task names: "<seed>:<output>"
    data = run / "search" / f"level{HARDEST}.jsonl"

    def weak() -> None:
        cli("run", WEAK, "--stages", "data,sft", "--runs-dir", str(runs), f"name={name}", f"seed={seed}",
            "report_to=none", f"data.eval_per_level={per_level}", *extra)  # fmt: skip
        hardest_rows(run)

    def verifier(out: str, kind: str, flags: list[str], needs: tuple[str, ...] = ()) -> Task:
        def call() -> None:
            if not (run / out / "verifier.json").exists():
                cli("verifier", str(run), "--kind", kind, "--seed", str(seed), "--out", str(run / out),
                    *flags)  # fmt: skip
        return Task(own + out, call, needs=(own + "run", *needs))

    def evaluate(out: str, flags: list[str], needs: tuple[str, ...]) -> Task:
        def call() -> None:
            cli("eval", str(run), "--stage", "sft", "--seed", str(seed), "--data", str(data), "--out",
                str(run / "search" / out), *flags)  # fmt: skip
        return Task(own + out, call, needs=(own + "run", *needs))

    shuffled = ["--shuffle-labels", "--samples-from", str(run / "verifier-orm")]  # the same labelled samples
    ranked = ["--verifier", str(run / "verifier-orm"), "--candidates", str(n),
              "--candidates-from", str(run / "search" / "sampled")]  # the sampled eval's answers, ranked
    orm, sampled = own + "verifier-orm", own + "sampled"
    prm = ["--search", "prm-beam", "--verifier", str(run / "verifier-prm")]
    beams = [evaluate(f"prm-beam-{w}x{e}", [*prm, "--beam-width", str(w), "--expansions", str(e)],
                      (own + "verifier-prm",)) for w, e in BEAMS]  # fmt: skip
    waves = [
        [Task(own + "run", weak)],
        [verifier("verifier-orm", "orm", VERIFIER)],
        [verifier("verifier-prm", "prm", PRM)],
        [verifier("verifier-orm-shuffled", "orm", [*shuffled, *VERIFIER], (orm,))],
        [evaluate(out, rstar_flags(out, disc_model), (f"{disc}:run",)) for out in MCTS],
        [evaluate("sampled", ["--n", str(n), "--k", ",".join(str(k) for k in ks_up_to(n))], ())],
        beams,
        [evaluate("bon", ["--search", "bon", *ranked], (orm, sampled))],
        [evaluate("greedy", [], ())],
    ]
    calls = tuple(t.name for wave in waves for t in wave)
    return [*waves, [Task(own + "numbers", lambda: seed_numbers(run, n), needs=calls)]]


def ks_up_to(n: int) -> list[int]:
    ks, k = [], 1
    while k < n:
        ks.append(k)
        k *= 2
    return [*ks, n]


def seed_numbers(run: Path, n: int) -> dict:
    """Accuracy and spent tokens per method, the verifier's AUROCs and the pairing checks of one seed."""
    from rl_reasoner.evaluation.runner import load_metrics, read_samples
    from rl_reasoner.verifier import auroc, load_verifier

    greedy, sampled, bon = (load_metrics(run / "search" / m) for m in ("greedy", "sampled", "bon"))
    records = read_samples(run / "search" / "sampled" / "samples.jsonl")
    verifier = load_verifier(str(run / "verifier-orm"), kind="orm")
    flat = [(r, s) for r in records for s in r["samples"]]
    scores = verifier.score([r["prompt"] for r, _ in flat], [s["text"] for _, s in flat])
    labels = [s["correct"] for _, s in flat]
    picks = {r["id"]: r["samples"][0] for r in read_samples(run / "search" / "bon" / "samples.jsonl")}
    by_id, pos, same = {}, 0, 0
    for r in records:
        ranked = scores[pos : pos + len(r["samples"])]
        pos += len(r["samples"])
        by_id[r["id"]] = (r["samples"], ranked)
        best = max(range(len(ranked)), key=lambda i: (not r["samples"][i]["truncated"], ranked[i], -i))
        same += r["samples"][best]["text"] == picks[r["id"]]["text"]
    curve = {}
    for k in ks_up_to(n):
        chosen = [_best(samples[:k], ranked[:k]) for samples, ranked in by_id.values()]
        pooled = [_voted(samples[:k], ranked[:k]) for samples, ranked in by_id.values()]
        spent = fmean(sum(s["tokens"] for s in samples[:k]) for samples, _ in by_id.values())
        curve[k] = {
            "bon": fmean(c["correct"] for c in chosen),
            "vote": fmean(c["correct"] for c in pooled),
            "maj": sampled["overall"][f"maj@{k}"],
            "pass": sampled["overall"][f"pass@{k}"],
            "spent_tokens": spent,
        }
    shuffled = json.loads((run / "verifier-orm-shuffled" / "verifier.json").read_text())
    return {
        **prm_numbers(run, curve),
        "rstar_evals": rstar_numbers(run, curve),
        "greedy": {"accuracy": greedy["overall"]["pass@1"], "spent_tokens": greedy["overall"]["mean_tokens"]},
        "sampled_accuracy": sampled["overall"]["pass@1"],
        "bon_search": {
            "accuracy": bon["overall"]["pass@1"],
            "spent_tokens": bon["overall"]["mean_spent_tokens"],
        },
        "curve": curve,
        "auroc_eval_candidates": auroc(scores, labels),
        "auroc_within_problems": within_problem_auroc(by_id.values()),
        "auroc_held_out": json.loads((run / "verifier-orm" / "verifier.json").read_text())["heldout_auroc"],
        "auroc_shuffled_labels": shuffled["heldout_auroc"],
        "search_matches_rerank": same / len(records),
        "problems": len(records),
    }


def within_problem_auroc(problems) -> float:
    """Mean over problems with right and wrong candidates of the AUROC among that problem's candidates:
    the ranking best-of-N uses (the pooled AUROC also credits telling easy problems from hard ones).

    >>> right, wrong = {"correct": True}, {"correct": False}
    >>> within_problem_auroc([([right, wrong], [0.9, 0.1]), ([right, wrong, wrong], [0.2, 0.5, 0.1]),
    ...                       ([right], [0.3])])
    0.75
    """
    from rl_reasoner.verifier import auroc

    per = [auroc(ranked, [c["correct"] for c in samples]) for samples, ranked in problems
           if 0 < sum(c["correct"] for c in samples) < len(samples)]  # fmt: skip
    return fmean(per)


def _best(samples: list[dict], ranked: list[float]) -> dict:
    return samples[max(range(len(ranked)), key=lambda i: (not samples[i]["truncated"], ranked[i], -i))]


def _voted(samples: list[dict], ranked: list[float]) -> dict:
    """``--search bon-vote``'s pick among ``samples``: the sampled eval's answer classes (``vote``), each
    weighted by its members' σ(score). Votes are relabelled in order of appearance, so a prefix of the
    candidates breaks ties as the search does on that prefix alone."""
    from rl_reasoner.evaluation.search import weighted_vote

    labels: dict = {}
    votes = [None if s.get("vote") is None else labels.setdefault(s["vote"], len(labels)) for s in samples]
    fallback = samples.index(_best(samples, ranked))
    return samples[weighted_vote(votes, ranked, default=fallback)]


def summarize(seeds: dict[int, dict], n: int, wall_min: float, resumed: bool = False) -> tuple[dict, dict]:
    """``targets`` of issue 15 this benchmark measures (means over seeds) and the ``findings``. ``resumed``:
    the runs dir held earlier outputs, so the wall time is not the whole bench's and its target is not met."""
    mean = lambda f: fmean(f(s) for s in seeds.values())  # noqa: E731
    at_n = lambda key: mean(lambda s: s["curve"][n][key])  # noqa: E731

    targets = {
        "weak: sampled accuracy at level 3 in [0.40, 0.70]": target(
            mean(lambda s: s["sampled_accuracy"]), 0.4, 0.4 <= mean(lambda s: s["sampled_accuracy"]) <= 0.7
        ),
        f"weak: pass@{n} >= 0.90": target(at_n("pass"), 0.9, at_n("pass") >= 0.9),
        "ORM AUROC on held-out problems' candidates >= 0.85": target(
            mean(lambda s: s["auroc_eval_candidates"]),
            0.85,
            mean(lambda s: s["auroc_eval_candidates"]) >= 0.85,
        ),
        "ORM on shuffled labels: AUROC <= 0.6": target(
            mean(lambda s: s["auroc_shuffled_labels"]), 0.6, mean(lambda s: s["auroc_shuffled_labels"]) <= 0.6
        ),
        f"best-of-{n} >= maj@{n} + 3 pt": target(
            at_n("bon") - at_n("maj"), 0.03, at_n("bon") - at_n("maj") >= 0.03
        ),
        f"best-of-{n} by verifier-weighted vote (bon-vote) >= maj@{n} + 3 pt": target(
            at_n("vote") - at_n("maj"), 0.03, at_n("vote") - at_n("maj") >= 0.03
        ),
        f"best-of-{n} never above pass@{n} (every seed)": target(
            max(s["curve"][n]["bon"] - s["curve"][n]["pass"] for s in seeds.values()),
            0.0,
            all(s["curve"][n]["bon"] <= s["curve"][n]["pass"] + 1e-9 for s in seeds.values()),
        ),
        **prm_targets(seeds),
        **rstar_targets(seeds),
        "benchmark <= 45 min": target(wall_min, 45.0, wall_min <= 45.0 and not resumed),
    }
    return targets, _findings(seeds, n)


def _findings(seeds: dict[int, dict], n: int) -> dict:
    """What the benchmark reports beside its targets: means over seeds."""
    mean = lambda f: fmean(f(s) for s in seeds.values())  # noqa: E731
    return {
        "MCTS with majority, five actions - two actions (pt)": mean(
            lambda s: 100 * (s["rstar_evals"]["mcts"]["accuracy"] - s["rstar_evals"]["mcts-two"]["accuracy"])
        ),
        "search backend picks = rerank of the sampled eval's candidates": mean(
            lambda s: s["search_matches_rerank"]
        ),
        "greedy accuracy": mean(lambda s: s["greedy"]["accuracy"]),
        "ORM AUROC held-out training prompts": mean(lambda s: s["auroc_held_out"] or 0.0),
        "ORM AUROC within each problem's candidates (mean over problems with both kinds)": mean(
            lambda s: s["auroc_within_problems"]
        ),
        "curve (mean over seeds)": {
            k: {
                key: mean(lambda s, k=k, key=key: s["curve"][k][key])
                for key in ("bon", "vote", "maj", "pass", "spent_tokens")
            }
            for k in ks_up_to(n)
        },
        "prm beam (mean over seeds)": {
            b: {
                key: mean(lambda s, b=b, key=key: s["prm_beam"][b][key])
                for key in ("accuracy", "spent_tokens", "maj_at_equal_tokens")
            }
            for b in (f"{w}x{e}" for w, e in BEAMS)
        },
    }


def _git_commit() -> str:
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--eval-per-level", type=int, default=300)
    parser.add_argument("--runs-dir", type=Path)
    parser.add_argument("--lanes", type=int, default=0,
                        help="calls run side by side (default: one per seed), the cores shared among them")
    parser.add_argument("--rebuild", action="store_true", help=f"regenerate {DOC} from {RESULTS}; no runs")
    args, extra = parser.parse_known_args(argv)
    if args.rebuild:
        print(rebuild(ROOT))
        return 0
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = args.runs_dir or Path(tempfile.mkdtemp(prefix="rl-reasoner-search-"))
    n, per_level = args.n, args.eval_per_level
    lanes = max(1, min(args.lanes or len(seeds), len(seeds)))
    THREADS["OMP_NUM_THREADS"] = str(max(1, len(os.sched_getaffinity(0)) // lanes))
    import torch

    torch.set_num_threads(int(THREADS["OMP_NUM_THREADS"]))  # the numbers tasks score here, beside a call
    disc = discriminators(seeds)
    waves = [seed_tasks(s, runs, n, per_level, extra, disc[s]) for s in seeds]
    tasks = [task for k in range(len(waves[0])) for seed_waves in waves for task in seed_waves[k]]
    resumed = any((runs / f"weak-seed{s}").exists() for s in seeds)  # earlier outputs: calls skipped
    start = time.time()
    done = run_tasks(tasks, workers=lanes)
    numbers = {seed: done[f"{seed}:numbers"] for seed in seeds}
    wall = (time.time() - start) / 60
    targets, findings = summarize(numbers, n, wall, resumed=resumed)
    report = {
        "command": "python benchmarks/search.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "git_commit": _git_commit(),
        "machine": f"{platform.processor() or platform.machine()}, {platform.platform()}",
        "wall_minutes": wall,
        "resumed": resumed,
        "lanes": {"lanes": lanes, "torch_threads_per_lane": int(THREADS["OMP_NUM_THREADS"]),
                  "cores": len(os.sched_getaffinity(0))},
        "seconds": SECONDS,
        "n": n,
        "seeds": numbers,
        "targets": targets,
        "findings": findings,
    }
    base = ROOT
    for rel, text in ((RESULTS, json.dumps(report, indent=2)), (DOC, render(report))):
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_text(text)
    plot(report, base / PLOT)
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
