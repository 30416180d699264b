"""Accuracy vs tokens over seeds: each length reward at three strengths, one GRPO run per point and seed.

    python benchmarks/length_pareto.py --from-runs DIR [--seeds 0,1] [--runs-dir DIR2] [--reuse DIR3]
                                       [--max-steps N] [--quick] [--methods a,b] [--recipe FILE] [k=v ...]
    python benchmarks/length_pareto.py --from-runs DIR --runs-dir DIR2 --collect-only [the same seeds, k=v]
    python benchmarks/length_pareto.py --rebuild

``--from-runs DIR``: a finished ``benchmarks/seeds_bench.py`` run's ``--runs-dir``, one folder per seed
(``<recipe stem>-seed<N>``; default: every seed there). Per seed a new run ``length-pareto-seed<N>`` in
``--runs-dir`` (default: a new temp folder; a rerun with it resumes) reuses that seed's data and SFT, and its
``grpo`` and ``grpo-accuracy-only`` units where their inputs are unchanged. One GRPO baseline per point of
``POINTS`` and accuracy-only, except a point equal to the recipe's own rewards: the main ``grpo`` unit (row
"recipe"); ``--reuse DIR3`` (an earlier ``--runs-dir``) copies every unit whose inputs are unchanged.
Writes RESULTS, DOC and PLOT; ``--quick`` (smoke.yaml, 1 GRPO step, each method's second
strength; ``--from-runs`` from seeds_bench.py on smoke.yaml) writes them into the runs folder.
``--collect-only`` re-reads the finished runs in ``--runs-dir`` (after a change to what is collected or
shown); the command, commit, machine and times stay those of the JSON written when they were made.
``--rebuild`` needs no runs: it recomputes the summary and verdicts of RESULTS' per-seed numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

import yaml

from rl_reasoner.pipeline import fingerprint
from rl_reasoner.recipe import load_recipe, recipe_from_dict, recipe_to_dict
from rl_reasoner.reward_constraint import CONSTRAINT_DEFAULTS

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script it is already there; loaded from a test it is not
    sys.path.insert(0, str(HERE))
from length_methods import seed_from_run, style_shares  # noqa: E402
from pareto_report import ACC_ONLY, TRADE_OFF_PT, _panel, plot, render, table, write_outputs  # noqa: E402, F401

ROOT = HERE.parent
RECIPE, QUICK_RECIPE = "recipes/tiny-arith/demo.yaml", "recipes/tiny-arith/smoke.yaml"
RESULTS = "benchmarks/results/length_pareto.json"
DOC, PLOT = "docs/length-methods.md", "docs/length-pareto.png"
RUN_PREFIX, MAIN = "length-pareto", "grpo"
LONG_STYLE = "verbose"  # the longest trace style: a level whose oracle is this one needs long reasoning
NUMBERS = {"accuracy": "pass@1", "tokens": "mean_tokens"}  # our key: the eval summary's


def _reward(name: str, weight: float, **params: Any) -> dict:
    return {"name": name, "weight": weight, "params": params}


# Three strengths per method, from the recipe's weight up: at 0.25-1 (and absolute 0.0016-0.0064) the
# 03c35cb sweep put every method at the same point (0.74x oracle, within 0.4 pt), so weaker points showed
# nothing; where each method breaks is what tells them apart.
WEIGHTS = (1.0, 2.0, 4.0)  # reward weights of the methods but absolute
# method -> (strengths, strength -> its length reward); each point's rewards are accuracy (1.0) + that reward.
POINTS: dict[str, tuple[tuple[float, ...], Callable[[float], dict]]] = {
    # x4, x6, x8 of 1e-4 x 4096/256; 03c35cb, 2 seeds: 0.0064 kept levels 2-3 verbose (-0.2 pt), 0.0128 made
    # every level direct (-67 pt); 0.0096 is between
    "absolute": ((0.0064, 0.0096, 0.0128), lambda a: _reward("absolute", 1.0, alpha=a, max_len=256)),
    # the paper's default weight 1 up to 4x
    "below_mean_bonus": (WEIGHTS, lambda w: _reward("below_mean_bonus", w, mode="discrete", mean_over="all")),
    # Kimi k1.5 adds its term with weight 1
    "kimi": (WEIGHTS, lambda w: _reward("kimi", w)),
    # the demo recipe's constraint (term on from step 1, 2-round reference, reliable_margin 0.1 since 7fdfca1,
    # saturation 0.75 since the seeds 115-117 sweep in docs/length-methods.md), its other params at their
    # defaults; the weight scales
    # the bonus as for below_mean_bonus
    "constrained_bonus": (
        WEIGHTS,
        lambda w: _reward(
            "constrained_bonus",
            w,
            start_multiplier=1.0,
            reference_steps=2,
            reliable_margin=0.1,
            saturation=0.75,
        ),
    ),
}
DEFAULTS = {"constrained_bonus": CONSTRAINT_DEFAULTS}  # params a reward may leave out, at these values


@dataclass(frozen=True)
class Point:
    label: str  # the row name; the GRPO unit is ``grpo-<label>`` (``grpo`` for the recipe's own rewards)
    method: str
    strength: float | None
    rewards: tuple[dict, ...]

    @property
    def unit(self) -> str:
        return MAIN if self.label == "recipe" else f"grpo-{self.label}"


def sweep_points(quick: bool = False, methods: list[str] | None = None) -> list[Point]:
    """accuracy-only, then every method of ``POINTS`` by strength (``quick``: only its second strength)."""
    accuracy = {"name": "accuracy", "weight": 1.0}
    out = [Point(ACC_ONLY, ACC_ONLY, None, (accuracy,))]
    for method in (m for m in POINTS if methods is None or m in methods):
        strengths, reward = POINTS[method]
        for s in strengths[1:2] if quick else strengths:
            out.append(Point(f"{method}-{s:g}", method, s, (accuracy, reward(s))))
    return out


def with_recipe(points: list[Point], rewards: Any) -> list[Point]:
    """``points`` and the recipe's own rewards (label "recipe": the main unit): in place of the first point
    whose rewards equal them once defaults are filled (so not trained twice), else first, method "recipe"."""

    def filled(rs: Any) -> list[tuple]:  # name, weight and params with those a reward leaves out
        return [(r["name"], r["weight"], DEFAULTS.get(r["name"], {}) | (r.get("params") or {})) for r in rs]

    same = next((p for p in points if filled(p.rewards) == filled(rewards)), None)
    own = Point("recipe", same.method if same else "recipe", same and same.strength, tuple(rewards))
    return [own if p is same else p for p in points] if same else [own, *points]


def seed_recipe(file: Path, seed: int, source: dict, points: list[Point], overrides: list[str]) -> dict:
    """The recipe of seed ``seed``'s run: ``file`` with the seed, the source run's eval split size,
    no wandb and ``overrides``; its baselines are ``points`` but one equal to the recipe's own rewards."""
    sets = [f"seed={seed}", f"name={RUN_PREFIX}-seed{seed}", "report_to=none"]
    sets.append(f"data.eval_per_level={source['data']['eval_per_level']}")
    recipe = recipe_to_dict(load_recipe(file, [*sets, *overrides]))
    listed = [p for p in with_recipe(points, recipe["rewards"]) if p.unit != MAIN]
    recipe["baselines"] = {p.label: {"rewards": list(p.rewards)} for p in listed}
    return recipe_to_dict(recipe_from_dict(recipe))  # as the CLI reads it back (its fingerprints)


def find_sources(from_runs: Path, seeds: list[int] | None) -> dict[int, Path]:
    """Seed -> its run folder ``<stem>-seed<N>`` in ``from_runs`` (all found, or exactly ``seeds``)."""
    found: dict[int, list[Path]] = {}
    for path in sorted(from_runs.iterdir()) if from_runs.is_dir() else []:
        match = re.fullmatch(r".+-seed(\d+)", path.name)
        if match and (path / "manifest.json").exists():
            found.setdefault(int(match[1]), []).append(path)
    wanted = seeds if seeds is not None else sorted(found)
    if not wanted:
        raise SystemExit(f"--from-runs {from_runs}: no <recipe>-seed<N> run folder there")
    for seed in wanted:
        if len(found.get(seed, [])) != 1:
            names = [p.name for p in found.get(seed, [])]
            raise SystemExit(f"--from-runs {from_runs}: need one run folder for seed {seed}, found {names}")
    return {seed: found[seed][0] for seed in wanted}


def reuse_grpo(src: Path, run_dir: Path, recipe: dict, units: tuple = (MAIN, f"grpo-{ACC_ONLY}")) -> list:
    """Copy ``src``'s finished ``units`` trained from the same inputs as in ``recipe`` (``seed_recipe``'s)
    into ``run_dir`` as ``seed_from_run`` copies data and SFT, unless it has them; the copied ones."""

    def inputs(recipe: dict, unit: str) -> str | None:  # the grpo fingerprint with only the unit's rewards
        own = recipe["rewards"] if unit == MAIN else recipe["baselines"].get(unit.removeprefix("grpo-"))
        return None if own is None else fingerprint(recipe | {"rewards": own, "baselines": None}, "grpo")

    source, path = json.loads((src / "manifest.json").read_text()), run_dir / "manifest.json"
    seeded, copied = json.loads(path.read_text()), []
    for unit in (u for u in units if u not in seeded["stages"] and not (run_dir / u).exists()):
        mine, entry = inputs(recipe, unit), source["stages"].get(unit, {})
        if entry.get("status") != "done" or mine is None or mine != inputs(source["recipe"], unit):
            continue
        shutil.copytree(src / unit, run_dir / unit, ignore=shutil.ignore_patterns("checkpoint-*"))
        seeded["stages"][unit] = entry | {"fingerprint": fingerprint(recipe, "grpo")}
        copied.append(unit)
    seeded["reused_grpo_units"] = seeded.get("reused_grpo_units", []) + copied
    path.write_text(json.dumps(seeded, indent=2))
    return copied


def run_seed(recipe: dict, runs: Path) -> float:
    """Write the recipe next to its run and run stages grpo and eval through the CLI; the wall time."""
    path = runs / f"{recipe['name']}.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    args, start = ["run", str(path), "--stages", "grpo,eval", "--runs-dir", str(runs)], time.time()
    if subprocess.run([sys.executable, "-m", "rl_reasoner", *args], cwd=ROOT).returncode:
        raise SystemExit(f"the pipeline failed (its error is above); rerun with --runs-dir {runs} to resume")
    return time.time() - start


def numbers(metrics: dict) -> dict:
    """Accuracy (pass@1) and mean tokens, overall and per level, of one eval summary."""
    levels = {lv: {k: s[v] for k, v in NUMBERS.items()} for lv, s in metrics["levels"].items()}
    return {k: metrics["overall"][v] for k, v in NUMBERS.items()} | {"levels": levels}


def collect_seed(run_dir: Path, seed: int, source: Path, points: list[Point], wall_s: float) -> dict:
    """One seed's finished run: its SFT, oracle (with styles), points ("recipe": the main unit), reused."""
    results = json.loads((run_dir / "eval" / "results.json").read_text())
    models, oracle = results["models"], results["oracle"]
    units = {"recipe": MAIN} | {p.label: p.unit for p in points}
    out = {"seed": seed, "run_dir": str(run_dir), "source": str(source), "wall_seconds": round(wall_s, 1)}
    styles = {lv: s["style"] for lv, s in oracle["levels"].items()}
    out |= {"sft": numbers(models["sft"]), "oracle": numbers(oracle) | {"styles": styles}}
    out["points"] = {label: numbers(models[unit]) for label, unit in units.items() if unit in models}
    for label, unit in {"sft": "sft", **units}.items():  # each level's greedy trace-style shares
        if label in out["points"] or label == "sft":
            numbers_of = out["sft"] if label == "sft" else out["points"][label]
            numbers_of["styles"] = style_shares(run_dir / "eval" / unit / "samples.jsonl")
    manifest = run_dir / "manifest.json"
    out["reused"] = json.loads(manifest.read_text()).get("reused_grpo_units", []) if manifest.exists() else []
    return out


def long_levels(seed: dict) -> list[str]:
    """The levels where this seed's SFT model is reliable only in the longest style (its oracle is verbose):
    where a length reward that shortens cuts reasoning the model needs. None such: the hardest level."""
    styles = seed["oracle"].get("styles") or {}
    return sorted((lv for lv, st in styles.items() if st == LONG_STYLE), key=int) or [
        max(seed["sft"]["levels"], key=int)
    ]


def summarize(seeds: list[dict], labels: list[str]) -> dict[str, dict]:
    """Per label (a point, "sft" or "oracle"), over the seeds that have it: mean and worst seed of its
    accuracy minus its seed's SFT (points), of the same over that seed's :func:`long_levels` (their mean),
    and of its tokens / its seed's oracle; the long levels' mean tokens."""
    out = {}
    for label in labels:
        have = [s for s in seeds if label in ("sft", "oracle") or label in s["points"]]
        if not have:
            continue
        own = [s[label] if label in ("sft", "oracle") else s["points"][label] for s in have]
        pairs = list(zip(own, have, strict=True))
        delta = [100 * (r["accuracy"] - s["sft"]["accuracy"]) for r, s in pairs]
        long_delta = [
            fmean(
                100 * (r["levels"][lv]["accuracy"] - s["sft"]["levels"][lv]["accuracy"])
                for lv in long_levels(s)
            )
            for r, s in pairs
        ]
        x = [r["tokens"] / s["oracle"]["tokens"] for r, s in pairs]
        out[label] = {"seeds": [s["seed"] for s in have]}
        out[label] |= {"mean_delta_pt": fmean(delta), "worst_delta_pt": min(delta)}
        out[label] |= {"mean_long_delta_pt": fmean(long_delta), "worst_long_delta_pt": min(long_delta)}
        out[label] |= {"mean_x_oracle": fmean(x), "worst_x_oracle": max(x)}
        out[label]["mean_long_tokens"] = fmean(
            fmean(r["levels"][lv]["tokens"] for lv in long_levels(s)) for r, s in pairs
        )
    return out


def verdicts(summary: dict[str, dict], points: list[Point]) -> dict[str, str]:
    """Per method: whether some strength costs the long levels more than 1 pt beyond accuracy-only GRPO's
    own change there while their mean tokens are below accuracy-only's (the trade-off), with the figures."""
    ref, base, out = summary[ACC_ONLY]["mean_long_tokens"], summary[ACC_ONLY]["mean_long_delta_pt"], {}
    for method in dict.fromkeys(p.method for p in points if p.method not in (ACC_ONLY, "recipe")):
        rows = [(p.strength, summary[p.label]) for p in points if p.method == method and p.label in summary]
        each = [
            (w, s["mean_long_delta_pt"], s["mean_long_tokens"], s["worst_long_delta_pt"]) for w, s in rows
        ]
        figures = "; ".join(
            f"{w:g}: {d:+.1f} pt (worst seed {m:+.1f}) at {t:.1f} tokens" for w, d, t, m in each
        )
        cost = any(d < base + TRADE_OFF_PT and t < ref for _, d, t, _ in each)
        what = "shortens but costs the long levels" if cost else "does not show the trade-off"
        if each:
            out[method] = (
                f"{what} (by strength: {figures}; accuracy-only: {base:+.1f} pt at {ref:.1f} tokens)"
            )
    return out


def build_report(seeds: list[dict], points: list[Point], recipe: dict, meta: dict) -> dict:
    """The JSON report: ``meta`` (command, commit, machine, wall time, from_runs), the points (the recipe's
    own first), the per-seed numbers, the summary and the verdicts."""
    listed = with_recipe(points, recipe["rewards"])
    report = meta | {"seeds": [s["seed"] for s in seeds], "grpo": recipe["grpo"]}
    report["prompts"] = recipe["data"]["eval_per_level"] * len(seeds[0]["sft"]["levels"])
    report["oracle_threshold"] = recipe["eval"]["oracle_threshold"]
    report["gate"] = (recipe.get("gate") or {}).get("max_drop")  # None: every point is its run's last step
    report["points"] = [asdict(p) | {"unit": p.unit} for p in listed]
    return summarized(report | {"per_seed": seeds})


def summarized(report: dict) -> dict:
    """``report`` with its summary, verdicts and long levels computed from its points and per-seed numbers."""
    seeds, listed = report["per_seed"], [_point(p) for p in report["points"]]
    report = {k: v for k, v in report.items() if k not in ("hardest_level", "per_seed")}
    report["long_levels"] = {str(s["seed"]): long_levels(s) for s in seeds}
    summary = summarize(seeds, ["sft", "oracle", *(p.label for p in listed)])
    return report | {"summary": summary, "verdicts": verdicts(summary, listed), "per_seed": seeds}


def _point(p: dict) -> Point:
    return Point(p["label"], p["method"], p["strength"], tuple(p["rewards"]))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("--from-runs", type=Path, help="--runs-dir of a seeds_bench.py run (required)")
    parser.add_argument("--seeds", help="comma-separated seeds (default: every seed folder in --from-runs)")
    parser.add_argument("--runs-dir", type=Path, help="where the new runs go (default: a new temp folder)")
    parser.add_argument("--reuse", type=Path, help="an earlier --runs-dir: copy its units whose inputs match")
    parser.add_argument("--max-steps", type=int, help="grpo.max_steps of every GRPO run")
    parser.add_argument("--quick", action="store_true", help="smoke.yaml, 1 GRPO step, 1 strength per method")
    parser.add_argument("--methods", help=f"comma-separated subset of {list(POINTS)} (default: all)")
    parser.add_argument("--recipe", help=f"recipe file (default: {RECIPE}; --quick: {QUICK_RECIPE})")
    parser.add_argument(
        "--collect-only",
        action="store_true",
        help=f"re-read --runs-dir's finished runs; times and command from the earlier {RESULTS}",
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help=f"no runs: recompute the summary and verdicts of {RESULTS}'s per-seed numbers, rewrite the page",
    )
    parser.add_argument("overrides", nargs="*", help="key=value recipe overrides, e.g. eval.batch_size=50")
    args = parser.parse_args(argv)
    if not args.from_runs and not args.rebuild:
        parser.error("--from-runs DIR is required (the --runs-dir of a seeds_bench.py run)")
    if args.collect_only and not args.runs_dir:
        parser.error("--collect-only re-reads finished runs: give their --runs-dir")
    return args


def git_state() -> tuple[str, bool]:
    def git(*cmd: str) -> str:
        return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "HEAD"), bool(git("status", "--porcelain"))


def run_all(
    args: argparse.Namespace, points: list[Point], runs: Path, walls: dict[int, float] | None = None
) -> tuple[list[dict], dict]:
    """Every seed's run (seeded from its --from-runs folder, then grpo + eval): their numbers, the recipe.
    With ``walls`` (seed -> wall seconds of an earlier run) the finished runs are only read back."""
    max_steps = args.max_steps or (1 if args.quick else None)
    overrides = [*args.overrides, *([f"grpo.max_steps={max_steps}"] if max_steps else [])]
    recipe_file = ROOT / (args.recipe or (QUICK_RECIPE if args.quick else RECIPE))
    wanted = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    seeds, recipe = [], {}
    for seed, src in find_sources(args.from_runs, wanted).items():
        source_recipe = json.loads((src / "manifest.json").read_text())["recipe"]
        recipe = seed_recipe(recipe_file, seed, source_recipe, points, overrides)
        run_dir = runs / recipe["name"]
        if walls is not None:
            seeds.append(collect_seed(run_dir, seed, src, points, walls[seed]))
            continue
        run_dir.mkdir(parents=True, exist_ok=True)
        seed_from_run(src, run_dir, recipe)
        copied = reuse_grpo(src, run_dir, recipe)
        if args.reuse and (args.reuse / recipe["name"] / "manifest.json").exists():  # every unit, same inputs
            units = (MAIN, *(f"grpo-{name}" for name in recipe["baselines"]))
            copied += reuse_grpo(args.reuse / recipe["name"], run_dir, recipe, units)
        print(f"[length_pareto] seed {seed}: copied {copied}", flush=True)
        seeds.append(collect_seed(run_dir, seed, src, points, run_seed(recipe, runs)))
    return seeds, recipe


def main(argv: list[str] | None = None) -> int:
    args, start = parse_args(argv), time.time()
    if args.rebuild:  # the numbers, command, commit and machine stay those of the JSON
        paths = [ROOT / p for p in (RESULTS, DOC, PLOT)]
        write_outputs(summarized(json.loads(paths[0].read_text())), *paths)
        print(f"rewrote {', '.join(map(str, paths))} from its per-seed numbers")
        return 0
    methods = args.methods.split(",") if args.methods else None
    if unknown := sorted(set(methods or []) - set(POINTS)):
        raise SystemExit(f"unknown method(s) {unknown}; choose among {list(POINTS)}")
    points = sweep_points(args.quick, methods)
    runs = args.runs_dir or Path(tempfile.mkdtemp(prefix="rl-reasoner-pareto-"))
    print(f"[length_pareto] runs folder: {runs}", flush=True)
    paths = [runs / Path(p).name if args.quick else ROOT / p for p in (RESULTS, DOC, PLOT)]
    before = json.loads(paths[0].read_text()) if args.collect_only else None
    walls = {s["seed"]: s["wall_seconds"] for s in before["per_seed"]} if before else None
    seeds, recipe = run_all(args, points, runs, walls)
    commit, dirty = git_state()
    command = " ".join(["python", "benchmarks/length_pareto.py", *(sys.argv[1:] if argv is None else argv)])
    meta = {"command": command, "git_commit": commit, "uncommitted_changes": dirty}
    meta |= {"machine": {"platform": platform.platform(), "cpus": os.cpu_count()}, "runs_dir": str(runs)}
    meta |= {"from_runs": str(args.from_runs), "wall_seconds": round(time.time() - start, 1)}
    if before:  # the runs were made by the earlier command, at its commit, on its machine, in its time
        kept = ("command", "git_commit", "uncommitted_changes", "machine", "wall_seconds")
        meta |= {k: before[k] for k in kept}
    report = build_report(seeds, points, recipe, meta)
    write_outputs(report, *paths)
    print(table(report) + "\n".join(f"{m}: {v}" for m, v in report["verdicts"].items()))
    print(f"wrote {', '.join(map(str, paths))}; runs kept in {runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
