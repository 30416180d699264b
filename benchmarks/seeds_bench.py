"""The demo recipe over several full-pipeline seeds: each seed its own data, SFT, GRPO, baselines and eval.

    python benchmarks/seeds_bench.py [--recipe recipes/tiny-arith/demo.yaml] [--seeds 0,1,2]
                                     [--eval-per-level 300] [--runs-dir DIR] [--from-runs DIR0]
                                     [key=value ...]

A result on one seed is an anecdote (another CPU type is in effect another seed): the length control is
judged by the mean and the worst seed. Every seed's GRPO model is compared with *its own* SFT checkpoint and
*its own* oracle (per level, the shortest trace style that SFT checkpoint gets right >=
``eval.oracle_threshold`` of the time when forced into it), on a held-out split of ``--eval-per-level``
problems per level (tiny-arith's level 1 has only 100 distinct problems: they repeat there). Runs go to
``--runs-dir`` (kept; a rerun resumes finished seeds); writes ``benchmarks/results/seeds.json`` and
``docs/demo-seeds.md``, which also shows each level's sampled styles during GRPO (style_trajectory.py).
``--from-runs DIR0``: each seed starts from the finished data and SFT stages of ``DIR0/<stem>-seed<N>`` (an
earlier run of this benchmark, whose recipe differs only by keys added since), plus its ``val`` split drawn
now (drawn last, it leaves the others as they were: checked); its GRPO units and eval run here, so its
pipeline time excludes data and SFT.

Targets (issue 12), for the main GRPO model (``grpo``) over the seeds: mean accuracy >= SFT's mean - 0.5
pt; every level's mean >= SFT's - 1 pt; no seed below its own SFT - 2 pt; every seed's mean tokens <=
1.10x its own oracle's and <= 0.8x accuracy-only GRPO's; each seed's demo run <= 10 min and the whole
benchmark <= 45 min; ``benchmarks/arith_probe.py`` on each seed's models (``probe.json`` in the run): no
set's errors more than 1 % of its problems above SFT's (``PROBE_N`` problems per set: why 1,000,
arith_probe.py). The adaptation check: a seed shows it when its oracle is ``direct`` at some level and only
the long style is reliable at another.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from rl_reasoner.data.arith import trace_style
from rl_reasoner.evaluation.runner import ORIGINAL, read_samples
from rl_reasoner.recipe import load_recipe, recipe_to_dict

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling benchmarks, also when loaded by path
from arith_probe import PROBE_N, excess, probe_run  # noqa: E402
from style_trajectory import multipliers, sampled_styles, trajectory_lines  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

MAIN, SFT, ACC_ONLY = "grpo", "sft", "grpo-accuracy-only"
LONG_STYLE = "verbose"


def run_seed(
    recipe: str, seed: int, eval_per_level: int, runs: Path, overrides: list[str], from_runs: Path | None
) -> dict:
    """One full pipeline run (the real CLI) for ``seed``; what :func:`collect_seed` reads from it."""
    name = f"{Path(recipe).stem}-seed{seed}"
    sets = [f"seed={seed}", f"name={name}", f"data.eval_per_level={eval_per_level}", "report_to=none"]
    if from_runs is not None:
        seed_data_and_sft(from_runs / name, runs / name, load_recipe(recipe, [*sets, *overrides]))
    cmd = [sys.executable, "-m", "rl_reasoner", "run", recipe, *sets, *overrides, "--runs-dir", str(runs)]
    start = time.time()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    probe_run(runs / name, PROBE_N)  # benchmarks/arith_probe.py on the run's models, kept in its probe.json
    return collect_seed(runs / name, seed, time.time() - start)


def seed_data_and_sft(src: Path, run_dir: Path, recipe) -> None:
    """``src``'s data and SFT stages copied into ``run_dir`` (length_methods.seed_from_run) plus the recipe's
    ``val`` split, after checking that the recipe draws the copied splits exactly as they are."""
    from length_methods import seed_from_run

    from rl_reasoner.data.arith import write_splits
    from rl_reasoner.data.tasks import task_of

    if (run_dir / "manifest.json").exists():
        return  # resuming this benchmark's own run
    run_dir.mkdir(parents=True)
    seed_from_run(src, run_dir, recipe_to_dict(recipe))
    splits = task_of(recipe).splits(recipe)
    for split in ("eval", "grpo", "sft"):
        rows = [json.loads(line) for line in (run_dir / "data" / f"{split}.jsonl").read_text().splitlines()]
        if rows != splits[split]:
            raise SystemExit(f"--from-runs {src}: its {split} split is not what this recipe draws")
    write_splits({"val": splits["val"]} if "val" in splits else {}, run_dir / "data")


def busy_seconds(stages: dict) -> float:
    """The run's stage time with units that ran at once (GRPO units side by side on CPU) counted once: the
    union of each unit's [finished - seconds, finished]; the plain sum for units without a finish time."""
    from datetime import datetime

    spans, loose = [], 0.0
    for entry in stages.values():
        seconds = entry.get("seconds") or 0.0
        if "finished" not in entry:
            loose += seconds
            continue
        end = datetime.fromisoformat(entry["finished"]).timestamp()
        spans.append((end - seconds, end))
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        total += max(0.0, end - max(start, reach))
        reach = max(reach, end)
    return total + loose


def collect_seed(run_dir: Path, seed: int, wall_s: float) -> dict:
    """A finished run's eval results, its models' trace-style mixes and its stage timings."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    results = json.loads((run_dir / "eval" / "results.json").read_text())
    seconds = {unit: entry.get("seconds") for unit, entry in manifest["stages"].items()}
    return {
        "seed": seed,
        "run_dir": str(run_dir),
        "git_commit": manifest.get("git_commit"),
        "wall_seconds": round(wall_s, 1),
        "pipeline_seconds": round(busy_seconds(manifest["stages"]), 1),
        "stage_seconds": seconds,
        "models": {label: _summary(m) for label, m in results["models"].items()},
        "oracle": results["oracle"],
        "design": results.get("design"),
        "styles": {label: style_mix(run_dir / "eval" / label) for label in results["models"]},
        "gate": {
            unit: json.loads((run_dir / unit / "gate.json").read_text())
            for unit in (MAIN, ACC_ONLY)
            if (run_dir / unit / "gate.json").exists()
        },
        "probe": probe_run(run_dir) if (run_dir / "probe.json").exists() else None,
        "sampled_styles": sampled_styles(run_dir, MAIN),
        "multipliers": multipliers(run_dir, MAIN),
    }


def _summary(metrics: dict) -> dict:
    keep = ("prompts", "pass@1", "mean_tokens", "truncation_rate")
    return {
        "overall": {k: metrics["overall"][k] for k in keep},
        "levels": {lv: {k: s[k] for k in keep} for lv, s in metrics["levels"].items()},
    }


def style_mix(eval_dir: Path) -> dict[str, dict[str, float]]:
    """Per level, the share of each trace style (by its opening) among the model's own greedy answers."""
    counts: dict[str, dict[str, int]] = {}
    for record in read_samples(eval_dir / "samples.jsonl"):
        if record["variant"] != ORIGINAL:
            continue
        text = record["samples"][0]["text"]
        style = trace_style(record, text) or "other"
        level = counts.setdefault(str(record["level"]), {})
        level[style] = level.get(style, 0) + 1
    return {lv: {s: n / sum(c.values()) for s, n in c.items()} for lv, c in sorted(counts.items())}


def seed_numbers(run: dict) -> dict:
    """The main model against this seed's own SFT, oracle and accuracy-only baseline."""
    main, sft, oracle = run["models"][MAIN], run["models"][SFT], run["oracle"]
    styles = {lv: s["style"] for lv, s in oracle["levels"].items()}
    out = {
        "sft_accuracy": sft["overall"]["pass@1"],
        "accuracy": main["overall"]["pass@1"],
        "delta": main["overall"]["pass@1"] - sft["overall"]["pass@1"],
        "level_delta": {lv: s["pass@1"] - sft["levels"][lv]["pass@1"] for lv, s in main["levels"].items()},
        "tokens": main["overall"]["mean_tokens"],
        "x_oracle": main["overall"]["mean_tokens"] / oracle["overall"]["mean_tokens"],
        "oracle_styles": styles,
        "adapts": "direct" in styles.values() and LONG_STYLE in styles.values(),
        "design_holds": bool((run.get("design") or {}).get("holds")),
        "follows_oracle": all(
            max(mix, key=mix.get) == styles[lv] for lv, mix in run["styles"][MAIN].items() if lv in styles
        ),
    }
    if ACC_ONLY in run["models"]:
        baseline = run["models"][ACC_ONLY]["overall"]["mean_tokens"]
        out["x_accuracy_only"] = main["overall"]["mean_tokens"] / baseline
    if run.get("probe"):
        out["probe_excess"] = excess(run["probe"], MAIN)
    return out


def summarize(runs: list[dict]) -> dict:
    """Mean and worst seed of the main model's numbers; per level, the mean accuracy against SFT's."""
    rows = [seed_numbers(r) for r in runs]
    levels = list(runs[0]["models"][MAIN]["levels"])

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    return {
        "seeds": [r["seed"] for r in runs],
        "rows": rows,
        "mean_delta": mean([r["delta"] for r in rows]),
        "worst_delta": min(r["delta"] for r in rows),
        "level_mean_delta": {lv: mean([r["level_delta"][lv] for r in rows]) for lv in levels},
        "level_worst_delta": {lv: min(r["level_delta"][lv] for r in rows) for lv in levels},
        "mean_x_oracle": mean([r["x_oracle"] for r in rows]),
        "worst_x_oracle": max(r["x_oracle"] for r in rows),
        "worst_x_accuracy_only": max((r.get("x_accuracy_only", 0.0) for r in rows), default=0.0),
        "adapting_seeds": sum(r["adapts"] for r in rows),
        "design_seeds": sum(r["design_holds"] for r in rows),
        "oracle_style_seeds": sum(r["follows_oracle"] for r in rows),
        "worst_seed_minutes": max(r["pipeline_seconds"] for r in runs) / 60,
        "worst_probe_excess": max((r["probe_excess"] for r in rows if "probe_excess" in r), default=None),
    }


def targets(summary: dict, total_s: float) -> dict[str, dict]:
    """Issue 12's numbers, each as value, bound and whether it is met."""
    worst_level = min(summary["level_mean_delta"].values())
    at_least = {  # value >= bound
        "mean accuracy >= SFT's mean - 0.5 pt": (summary["mean_delta"], -0.005),
        "every level's mean accuracy >= SFT's - 1 pt": (worst_level, -0.01),
        "no seed below its own SFT - 2 pt": (summary["worst_delta"], -0.02),
    }
    at_most = {  # value <= bound
        "every seed's tokens <= 1.10 x its oracle": (summary["worst_x_oracle"], 1.10),
        "every seed's tokens <= 0.8 x accuracy-only": (summary["worst_x_accuracy_only"], 0.8),
        "slowest seed's pipeline <= 10 min": (summary["worst_seed_minutes"], 10.0),
        "whole benchmark <= 45 min": (total_s / 60, 45.0),
    }
    if summary.get("worst_probe_excess") is not None:
        at_most["arith probe: no set's errors > SFT's + 1 % (every seed)"] = (
            summary["worst_probe_excess"],
            0.01,
        )
    out = {name: {"value": v, "bound": b, "met": v >= b} for name, (v, b) in at_least.items()}
    return out | {name: {"value": v, "bound": b, "met": v <= b} for name, (v, b) in at_most.items()}


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}"


def _mix(mix: dict[str, float]) -> str:
    style, share = max(mix.items(), key=lambda item: item[1])
    return f"{style} {share:.0%}"


def _kept(gates: dict) -> str:
    """Each unit's kept checkpoint step of its last, e.g. ``30 of 40 / 40 of 40``; "off" without a gate."""

    def one(record: dict) -> str:
        return f"{record['kept_step']} of {max((h['step'] for h in record['history']), default=0)}"

    return " / ".join(one(gates[u]) for u in (MAIN, ACC_ONLY) if u in gates) or "off"


def _probe(probe: dict | None) -> str:
    if not probe:
        return "not run"
    errors = probe["errors"]
    counts = " / ".join(str(errors[m]["zero-middle"]) for m in (SFT, MAIN, ACC_ONLY) if m in errors)
    return f"{counts} of {probe['n']}"


def seed_table(runs: list[dict], summary: dict) -> list[str]:
    """One row per seed, then the mean and the worst seed."""
    levels = list(runs[0]["models"][MAIN]["levels"])
    head = ["seed", "SFT acc", "GRPO acc", "Δ pt", *(f"L{lv} Δ pt" for lv in levels), "tokens",
            "× own oracle", "× acc-only", "oracle styles", "GRPO styles (most common)",
            "gate kept step (GRPO / acc-only)", "probe zero-middle errors SFT / GRPO / acc-only",
            "pipeline min"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for run, row in zip(runs, summary["rows"], strict=True):
        mixes = run["styles"][MAIN]
        cells = [
            str(run["seed"]),
            f"{row['sft_accuracy']:.1%}",
            f"{row['accuracy']:.1%}",
            _pct(row["delta"]),
            *(_pct(row["level_delta"][lv]) for lv in levels),
            f"{row['tokens']:.1f}",
            f"{row['x_oracle']:.2f}",
            f"{row.get('x_accuracy_only', float('nan')):.2f}",
            " / ".join(row["oracle_styles"][lv] for lv in levels),
            " / ".join(_mix(mixes[lv]) for lv in levels),
            _kept(run.get("gate", {})),
            _probe(run.get("probe")),
            f"{run['pipeline_seconds'] / 60:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    mean = [
        "mean",
        "",
        "",
        _pct(summary["mean_delta"]),
        *(_pct(summary["level_mean_delta"][lv]) for lv in levels),
        "",
        f"{summary['mean_x_oracle']:.2f}",
    ]
    worst = [
        "worst",
        "",
        "",
        _pct(summary["worst_delta"]),
        *(_pct(summary["level_worst_delta"][lv]) for lv in levels),
        "",
        f"{summary['worst_x_oracle']:.2f}",
        f"{summary['worst_x_accuracy_only']:.2f}",
    ]
    for cells in (mean, worst):
        lines.append("| " + " | ".join(cells + [""] * (len(head) - len(cells))) + " |")
    return lines


def render(report: dict) -> str:
    """docs/demo-seeds.md: command, commit and machine; the per-seed table; the targets."""
    s = report["summary"]
    lines = [
        "# Demo over seeds (generated)",
        "",
        f"Command: `{report['command']}` at commit `{report['git_commit']}`, {report['machine']['cpus']} CPU "
        f"cores ({report['machine']['platform']}), {report['total_seconds'] / 60:.1f} min in all. Held-out "
        f"split: {report['eval_per_level']} problems per level, greedy decoding. Each seed is a full "
        "pipeline (its own data, SFT, GRPO, baselines); Δ is the GRPO model's accuracy minus its own SFT "
        "checkpoint's, in points; × own oracle: its mean tokens over its own oracle's."
        + (
            f" Data and SFT of each seed reused from `{report['from_runs']}` (its runs' pipeline minutes are "
            "GRPO and eval only)."
            if report.get("from_runs")
            else ""
        ),
        "",
        *seed_table(report["runs"], s),
        "",
        f"Seeds whose oracle is direct at some level and verbose at another (adaptation shown): "
        f"{s['adapting_seeds']} of {len(s['seeds'])}; whose oracle is the task's designed style at every "
        f"level: {s.get('design_seeds', 0)} of {len(s['seeds'])}; whose GRPO model answers in its oracle's "
        f"style at every level (most common style): {s.get('oracle_style_seeds', 0)} of {len(s['seeds'])}.",
        "",
        "## Targets",
        "",
        *(
            f"- {name}: {t['value']:.3f} vs {t['bound']:.3f} -> {'met' if t['met'] else 'NOT met'}"
            for name, t in report["targets"].items()
        ),
        *trajectory_lines(report["runs"]),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipe", default="recipes/tiny-arith/demo.yaml")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--eval-per-level", type=int, default=300)
    parser.add_argument("--runs-dir", default=str(ROOT / "runs" / "seeds-bench"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/seeds.json"))
    parser.add_argument("--doc", default=str(ROOT / "docs/demo-seeds.md"))
    parser.add_argument("--from-runs", type=Path, help="reuse data and SFT of <stem>-seed<N> runs there")
    parser.add_argument(
        "--collect-only", action="store_true", help="re-read the finished runs; times and command from --out"
    )
    parser.add_argument("overrides", nargs="*", help="key=value recipe overrides for every seed")
    args = parser.parse_args()
    start, runs_dir, seeds = time.time(), Path(args.runs_dir), [int(s) for s in args.seeds.split(",")]
    command = " ".join(["python", "benchmarks/seeds_bench.py", *sys.argv[1:]])
    if args.collect_only:  # e.g. after a change to what is collected: the runs and their times are kept
        before = json.loads(Path(args.out).read_text())
        walls = {run["seed"]: run["wall_seconds"] for run in before["runs"]}
        name = Path(args.recipe).stem
        for s in seeds:  # runs made before the probe joined the benchmark get it now (not in total_seconds)
            probe_run(runs_dir / f"{name}-seed{s}")
        runs = [collect_seed(runs_dir / f"{name}-seed{s}", s, walls[s]) for s in seeds]
        total, command = before["total_seconds"], before["command"]
    else:
        runs = [
            run_seed(args.recipe, s, args.eval_per_level, runs_dir, args.overrides, args.from_runs)
            for s in seeds
        ]
        total = time.time() - start
    summary = summarize(runs)
    report = {
        "command": command,
        "git_commit": runs[0]["git_commit"],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "eval_per_level": args.eval_per_level,
        "from_runs": str(args.from_runs) if args.from_runs else None,
        "total_seconds": round(total, 1),
        "summary": summary,
        "targets": targets(summary, total),
        "runs": runs,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    Path(args.doc).write_text(render(report))
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
