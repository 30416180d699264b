"""Cold-start data of the seed papers, each against its control, SFT only (issue 14).

    python benchmarks/cold_start.py [--parts revthink,draft,teacher] [--seeds 0,1] [--runs-dir DIR]
                                    [--teacher SFT_FOLDER] [--lanes L] [--quick] [key=value ...]

Every arm is one run of the real CLI (``rl-reasoner run RECIPE --stages data,sft,eval``) of a recipe under
``recipes/tiny-arith/`` with the overrides of :data:`ARMS`; each seed is its own data and SFT. Parts:

* ``revthink`` (cold-start-revthink.yaml, 300 problems, 1200 optimizer steps): full objectives against
  forward-only at equal steps, against forward-only on 3x the problems (the same row count), the seed
  paper's ablations (forward + question, forward + backward reasoning), and ``noise: 0.1`` with the
  consistency filter on and off;
* ``draft`` (cold-start-draft.yaml): one SFT model on all four trace styles, forced into each on the same
  problems; the share of forced drafts whose every column value is right;
* ``teacher`` (cold-start-teacher.yaml): students from the base model on the shortest correct of k = 1, 4, 8
  samples of a verbose-leaning SFT model (``--teacher``, default: the demo recipe's SFT trained here; a
  ``{seed}`` in it is replaced by each seed), and the control "shortest of 8, right or wrong". The teacher
  samples 8 per prompt once per seed (the k8 arm); the other arms re-select from that draw
  (``data.teacher.samples``), so k = 1 and 4 are its first 1 and 4 samples.

The seeds run side by side (``--lanes``, default all of them), the cores split among the lanes
(``OMP_NUM_THREADS``); each lane runs its seed's arms in order, as a user would one after another.

Writes ``benchmarks/results/cold_start.json`` (``targets``: ``{name: {value, bound, met}}``; ``findings``:
the replications reported either way) and ``docs/cold-start.md``; ``--quick`` (smoke-sized; seed 0 unless
``--seeds``) writes them into the runs folder. Runs are kept; a rerun resumes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import fmean

from rl_reasoner.data.revthink import DRAFT_TAG, column_values, questions
from rl_reasoner.evaluation.runner import read_samples

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script it is already there; loaded from a test it is not
    sys.path.insert(0, str(HERE))
from cold_start_report import (  # noqa: E402
    ABOUT,
    NOISE,
    draft_numbers,
    render,
    revthink_numbers,
    teacher_numbers,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS, DOC = "benchmarks/results/cold_start.json", "docs/cold-start.md"
RECIPES = {part: f"recipes/tiny-arith/cold-start-{part}.yaml" for part in ("revthink", "draft", "teacher")}
# part -> arm -> overrides of the part's recipe
ARMS: dict[str, dict[str, list[str]]] = {
    "revthink": {
        "forward": ["data.revthink.objectives=[forward]"],
        "full": [],
        "forward-3n": ["data.revthink.objectives=[forward]", "data.train_size=900"],  # 3x the recipe's 300
        "forward-question": ["data.revthink.objectives=[forward,question]"],
        "forward-backward": ["data.revthink.objectives=[forward,backward]"],
        "full-noise-filtered": [f"data.revthink.noise={NOISE}"],
        "full-noise-unfiltered": [f"data.revthink.noise={NOISE}", "data.revthink.filter=false"],
    },
    "draft": {"four-styles": []},
    "teacher": {  # k8 first: it draws the samples the others re-select from
        "k8": [],
        "k8-level": ["data.teacher.select=level_reliable"],  # beyond the issue: see cold_start_report
        "k1": ["data.teacher.k=1"],
        "k4": ["data.teacher.k=4"],
        "k1-level": ["data.teacher.k=1", "data.teacher.select=level_reliable"],  # the k sweep of k8-level
        "k4-level": ["data.teacher.k=4", "data.teacher.select=level_reliable"],
        "k8-shortest-unverified": ["data.teacher.select=shortest"],
        "k8-reliable": ["data.teacher.select=shortest_reliable"],  # beyond the issue: see cold_start_report
    },
}
KEPT_CHECK = ["data.train_size=3000", f"data.revthink.noise={NOISE}"]  # the filter alone (see kept_check)
# the selection rule each teacher arm's rows are re-checked against (the others: shortest_correct)
RULES = {"k8-reliable": "shortest_reliable"} | {f"k{k}-level": "level_reliable" for k in (1, 4, 8)}
QUICK = [  # smoke-sized: what makes every arm's data, SFT and eval run in seconds
    "model.tiny={layers: 1, hidden: 32, heads: 2, intermediate: 64, max_positions: 256}",
    "data.train_size=24",
    "data.eval_per_level=4",
    "sft.max_steps=2",
    "sft.per_device_train_batch_size=8",
    "sft.gradient_accumulation_steps=1",
    "grpo.max_completion_length=24",
    "eval.batch_size=16",
]
_DRAFT = re.compile(rf"{re.escape(DRAFT_TAG)}\s*(.*)")
THREADS: dict[str, str] = {}  # the environment of every run: torch threads per lane (see main)


def cli(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, env={**os.environ, **THREADS})


def run_arm(part: str, arm: str, seed: int, runs: Path, teacher: str | None, extra: list[str]) -> Path:
    """One arm on one seed through the real CLI (data, SFT, eval); returns its run folder. A teacher arm
    other than k8 re-selects from the k8 arm's samples (that arm runs first)."""
    name = f"{part}-{arm}-seed{seed}"
    draw = runs / f"{part}-k8-seed{seed}" / "data" / "teacher-samples.jsonl"
    teaching = [f"data.teacher.model={teacher}", *([f"data.teacher.samples={draw}"] if arm != "k8" else [])]
    overrides = [*ARMS[part][arm], *(teaching if part == "teacher" else []), *extra]
    cmd = [
        sys.executable,
        "-m",
        "rl_reasoner",
        "run",
        RECIPES[part],
        "--stages",
        "data,sft,eval",
        "--runs-dir",
        str(runs),
        f"name={name}",
        f"seed={seed}",
        "report_to=none",
        *overrides,
    ]
    cli(cmd)
    return runs / name


def train_teacher(seed: int, runs: Path, extra: list[str]) -> Path:
    """The demo recipe's SFT model (verbose-leaning traces) and its eval: the teacher and its oracle."""
    name = f"teacher-demo-seed{seed}"
    cmd = [
        sys.executable,
        "-m",
        "rl_reasoner",
        "run",
        "recipes/tiny-arith/demo.yaml",
        "--stages",
        "data,sft,eval",
        "--runs-dir",
        str(runs),
        f"name={name}",
        f"seed={seed}",
        "report_to=none",
        *extra,
    ]
    cli(cmd)
    return runs / name


def draft_columns_right(samples: Path) -> dict[str, float]:
    """Per level, the share of forced drafts whose draft values are all the problem's column values."""
    right: dict[str, list[bool]] = {}
    for record in read_samples(samples):
        if record["variant"] != "forced-draft":
            continue
        (op, a, b), text = questions(record["prompt"])[0], record["samples"][0]["text"]
        found = _DRAFT.search(text.split("</think>")[0])
        values = found[1].strip().split(",") if found else []
        ok = bool(values) and all(re.fullmatch(r"-?\d+", v.strip()) for v in values)
        right.setdefault(str(record["level"]), []).append(
            ok and [int(v) for v in values] == column_values(op, a, b)
        )
    return {lv: fmean(oks) for lv, oks in sorted(right.items())}


def last_train_loss(sft: Path) -> float | None:
    """The last training loss the SFT trainer logged (its last checkpoint's ``trainer_state.json``): near 0
    when an arm has memorised its rows; None when no checkpoint has one."""
    states = sorted(sft.glob("checkpoint-*/trainer_state.json"), key=lambda p: int(p.parent.name[11:]))
    history = json.loads(states[-1].read_text())["log_history"] if states else []
    logged = [h["loss"] for h in history if "loss" in h]
    return round(logged[-1], 4) if logged else None


def collect(run_dir: Path) -> dict:
    """An arm's numbers: its SFT model's accuracy and tokens (per level too), each forced style's, the
    oracle, and the data stage's summary (RevThink's kept fraction, the teacher's selection)."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    results = json.loads((run_dir / "eval" / "results.json").read_text())
    sft = results["models"]["sft"]

    def numbers(m: dict) -> dict:
        levels = {lv: {"accuracy": s["pass@1"], "tokens": s["mean_tokens"]} for lv, s in m["levels"].items()}
        return {"accuracy": m["overall"]["pass@1"], "tokens": m["overall"]["mean_tokens"], "levels": levels}

    data = manifest["stages"]["data"].get("result", {})
    out = {
        "sft": numbers(sft),
        "forced": {v.removeprefix("forced-"): numbers(m) for v, m in sft.get("variants", {}).items()},
        "oracle": results.get("oracle"),
        "data": {k: data[k] for k in ("sft", "revthink", "teacher") if k in data},
        "seconds": {u: e.get("seconds") for u, e in manifest["stages"].items()},
    }
    out["train_loss"] = last_train_loss(run_dir / "sft")
    if "draft" in out["forced"]:
        out["draft_columns_right"] = draft_columns_right(run_dir / "eval" / "sft" / "samples.jsonl")
    return out


def verified_selection(run_dir: Path, rule: str = "shortest_correct") -> dict:
    """Every SFT row a teacher arm kept, re-checked here against all of its prompt's samples
    (``data/teacher-samples.jsonl``): its completion verifies against the row's answer (``rewards.verify``)
    and is the pick of ``rule`` among the prompt's samples that verify and ended within the budget:
    ``shortest_correct`` the shortest; ``shortest_reliable`` the shortest longer than every other sample of
    the prompt; ``level_reliable`` the shortest at least as long as its level's reliable length (as the data
    stage recorded it); for the last two the longest right one when no right one qualifies."""
    from rewards.verify import verify_batch
    from rl_reasoner.reward_funcs import GRPO_EXTRACTION

    rows = [json.loads(line) for line in (run_dir / "data" / "sft.jsonl").read_text().splitlines()]
    drawn = {r["id"]: r["samples"] for r in map(json.loads, (run_dir / "data" / "teacher-samples.jsonl")
                                                  .read_text().splitlines()[1:])}
    manifest = json.loads((run_dir / "manifest.json").read_text())
    floors = manifest["stages"]["data"]["result"]["teacher"].get("reliable_tokens", {})
    kept = verify_batch([r["answer"] for r in rows], [r["completion"] for r in rows], mode=GRPO_EXTRACTION)
    pool = [(r, s) for r in rows for s in drawn[r["id"]]]
    right = verify_batch([r["answer"] for r, _ in pool], [s["text"] for _, s in pool], mode=GRPO_EXTRACTION)
    lengths: dict[str, dict[bool, list[int]]] = {r["id"]: {True: [], False: []} for r in rows}
    for (r, s), ok in zip(pool, right, strict=True):
        lengths[r["id"]][ok is True and not s["truncated"]].append(s["tokens"])
    level = {r["id"]: str(r.get("level", "")) for r in rows}
    expected = {}
    for i, by in lengths.items():
        floor = {"shortest_correct": 0, "shortest_reliable": max(by[False], default=-1) + 1,
                 "level_reliable": floors.get(level[i], 0)}[rule]
        longer = [n for n in by[True] if n >= floor]
        expected[i] = min(longer) if longer else max(by[True], default=None)
    shortest_kept = [v is True and r["teacher"]["tokens"] == expected[r["id"]]
                     and any(s["text"] == r["completion"] for s in drawn[r["id"]])
                     for v, r in zip(kept, rows, strict=True)]
    return {"rows": len(rows), "verified": sum(v is True for v in kept), "shortest": sum(shortest_kept),
            **({"reliable_tokens": floors} if rule == "level_reliable" else {})}


def teacher_oracle_tokens(teacher: Path) -> float:
    """The mean tokens of the teacher's oracle: its run's eval (``--teacher`` is a run's ``sft`` folder)."""
    results = teacher.parent / "eval" / "results.json"
    if not results.exists():
        raise SystemExit(
            f"--teacher {teacher}: no {results} to read its oracle from; pass the sft folder of a "
            "run whose eval stage finished (rl-reasoner run RECIPE --stages data,sft,eval)"
        )
    return json.loads(results.read_text())["oracle"]["overall"]["mean_tokens"]


def kept_check(seed: int, runs: Path, extra: list[str]) -> dict:
    """The RevThink consistency filter's kept fraction on :data:`KEPT_CHECK`'s 3000 problems with noise
    (the data stage only, seconds): the trained arm's 300 problems give the fraction a standard error of
    2.3 pt, more than the issue's 2 pt bound. Returns the data stage's RevThink summary and the seed."""
    name = f"revthink-kept-seed{seed}"
    cli([sys.executable, "-m", "rl_reasoner", "run", RECIPES["revthink"], "--stages", "data", "--runs-dir",
         str(runs), f"name={name}", f"seed={seed}", "report_to=none", *KEPT_CHECK, *extra])
    manifest = json.loads((runs / name / "manifest.json").read_text())
    return manifest["stages"]["data"]["result"]["revthink"] | {"seed": seed}


def seed_lane(part: str, seed: int, runs: Path, teacher: Path | None, extra: list[str]) -> dict[str, dict]:
    """One seed's arms of ``part``, in the order of :data:`ARMS`: arm -> its numbers."""
    out = {}
    for arm in ARMS[part]:
        run_dir = run_arm(part, arm, seed, runs, str(teacher or "") or None, extra)
        out[arm] = collect(run_dir) | {"seed": seed}
        if part == "teacher" and arm != "k8-shortest-unverified":
            out[arm]["selection"] = verified_selection(run_dir, RULES.get(arm, "shortest_correct"))
    return out


def run_part(
    part: str, seeds: list[int], runs: Path, teachers: dict[int, Path], extra: list[str], lanes: int = 1
) -> dict:
    with ThreadPoolExecutor(lanes) as pool:  # each lane one seed's arms, in order; the lanes side by side
        per_seed = list(pool.map(lambda s: seed_lane(part, s, runs, teachers.get(s), extra), seeds))
    arms = {arm: [lane[arm] for lane in per_seed] for arm in ARMS[part]}
    kept = [kept_check(s, runs, extra) for s in seeds] if part == "revthink" else []
    if part == "revthink":
        targets, findings = revthink_numbers(arms, kept)
    elif part == "draft":
        targets, findings = draft_numbers(arms)
    else:
        oracle = [teacher_oracle_tokens(teachers[s]) for s in seeds]
        targets, findings = teacher_numbers(arms, oracle)
    return {"arms": arms, "targets": targets, "findings": findings} | ({"kept_check": kept} if kept else {})


def merge(out: Path, parts: dict) -> dict:
    """The results file's parts (each with its own command, commit, seeds and wall time) with ``parts`` run
    now in place of their earlier runs; targets and findings of all of them, keyed ``<part>: <name>``."""
    old = json.loads(out.read_text()) if out.exists() else {"parts": {}}
    shared = {k: old[k] for k in ("command", "git_commit", "seeds", "machine", "wall_seconds") if k in old}
    earlier = {p: shared | body for p, body in old["parts"].items()}  # a file from before parts had their own
    merged = {p: earlier[p] for p in ARMS if p in earlier and p not in parts} | parts
    merged = {p: merged[p] for p in ARMS if p in merged}  # in the order of ARMS
    return {
        "parts": merged,
        "targets": {f"{p}: {n}": t for p, b in merged.items() for n, t in b["targets"].items()},
        "findings": {f"{p}: {n}": f for p, b in merged.items() for n, f in b["findings"].items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="revthink,draft,teacher", help="comma-separated subset of parts")
    parser.add_argument("--seeds", help="comma-separated seeds (default: 0,1; --quick: 0)")
    parser.add_argument("--runs-dir", type=Path, help="where the runs go (default: a new temp folder)")
    parser.add_argument("--teacher", help="an SFT folder to sample from (default: the demo's SFT, per seed)")
    parser.add_argument("--lanes", type=int, default=0,
                        help="seeds run side by side, the cores split among them (default: one per seed)")
    parser.add_argument("--quick", action="store_true", help="smoke-sized runs, outputs in runs dir")
    parser.add_argument("overrides", nargs="*", help="key=value overrides for every run")
    args = parser.parse_args(argv)
    parts = args.parts.split(",")
    if unknown := [p for p in parts if p not in ARMS]:
        raise SystemExit(f"unknown part(s) {unknown}; valid parts: {list(ARMS)}")
    seeds = [int(s) for s in (args.seeds or ("0" if args.quick else "0,1")).split(",")]
    if len(set(seeds)) < len(seeds):
        raise SystemExit(f"--seeds {args.seeds}: a seed twice (each seed is one run folder per arm)")
    runs = args.runs_dir or Path(tempfile.mkdtemp(prefix="cold-start-"))
    extra = [*(QUICK if args.quick else []), *args.overrides]
    lanes = max(1, min(args.lanes or len(seeds), len(seeds)))
    THREADS["OMP_NUM_THREADS"] = str(max(1, len(os.sched_getaffinity(0)) // lanes))
    out, doc = (
        (runs / "cold_start.json", runs / "cold-start.md") if args.quick else (ROOT / RESULTS, ROOT / DOC)
    )
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    meta = {
        "command": "python benchmarks/cold_start.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "git_commit": commit.strip(),
        "seeds": seeds,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "runs_dir": str(runs),
        "lanes": {"lanes": lanes, "torch_threads_per_lane": int(THREADS["OMP_NUM_THREADS"]),
                  "cores": len(os.sched_getaffinity(0))},
    }
    teachers, teacher_s = {}, 0.0
    if "teacher" in parts:  # trained once per seed, its time counted in the teacher part's
        began = time.time()
        given = args.teacher
        with ThreadPoolExecutor(lanes) as pool:
            made = pool.map(lambda s: Path(given.replace("{seed}", str(s))) if given
                            else train_teacher(s, runs, extra) / "sft", seeds)
            teachers = dict(zip(seeds, made, strict=True))
        teacher_s = time.time() - began
    done = {}
    for part in parts:
        began = time.time()
        done[part] = run_part(part, seeds, runs, teachers, extra, lanes) | meta | {"about": ABOUT[part]}
        done[part]["wall_seconds"] = round(time.time() - began + (teacher_s if part == "teacher" else 0), 1)
        # what the runs took: the true cost when a benchmark is resumed or split over processes
        arms = [a for per_seed in done[part]["arms"].values() for a in per_seed]
        done[part]["run_seconds"] = round(sum(t or 0 for a in arms for t in a["seconds"].values()), 1)
    report = merge(out, done)
    out.write_text(json.dumps(report, indent=2) + "\n")
    doc.write_text(render(report))
    print(render(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
