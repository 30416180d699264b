"""Run the demo recipe from a clean runs directory; record wall time, the eval table and the targets.

    python benchmarks/demo_bench.py [--recipe recipes/tiny-arith/demo.yaml] [key=value ...]

Writes ``benchmarks/results/demo.json`` and ``docs/demo-results.md`` (+ the plot) and prints the table.
Targets (issue 2): GRPO with the bonus reaches accuracy >= SFT's and >= 95 %, with mean tokens
<= 1.25x the oracle's and <= 0.8x the accuracy-only GRPO's; demo wall time <= 15 min (goal 10).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def targets(results: dict, wall_s: float) -> dict[str, dict]:
    models, oracle = results["models"], results["oracle"]["overall"]
    bonus, acc_only, sft = (models[k]["overall"] for k in ("grpo", "grpo-accuracy-only", "sft"))
    checks = {
        "bonus accuracy >= SFT accuracy": (
            bonus["pass@1"],
            sft["pass@1"],
            bonus["pass@1"] >= sft["pass@1"],
        ),
        "bonus accuracy >= 95 %": (bonus["pass@1"], 0.95, bonus["pass@1"] >= 0.95),
        "bonus tokens <= 1.25 x oracle": (
            bonus["mean_tokens"],
            1.25 * oracle["mean_tokens"],
            bonus["mean_tokens"] <= 1.25 * oracle["mean_tokens"],
        ),
        "bonus tokens <= 0.8 x accuracy-only": (
            bonus["mean_tokens"],
            0.8 * acc_only["mean_tokens"],
            bonus["mean_tokens"] <= 0.8 * acc_only["mean_tokens"],
        ),
        "wall time <= 15 min": (wall_s, 900.0, wall_s <= 900),
    }
    return {name: {"value": v, "bound": b, "met": ok} for name, (v, b, ok) in checks.items()}


def verdicts(report: dict) -> list[str]:
    return [
        f"{name}: {t['value']:.3f} vs {t['bound']:.3f} -> {'met' if t['met'] else 'NOT met'}"
        for name, t in report["targets"].items()
    ]


def render(report: dict, table: str) -> str:
    """docs/demo-results.md: the command and machine, the run's comparison table, the targets, the plot."""
    return (
        "# Demo results (generated)\n\n"
        f"Command: `{report['command']}` at commit `{report['git_commit']}`, "
        f"{report['machine']['cpus']} CPU cores, wall time {report['wall_seconds'] / 60:.1f} min "
        f"(stages: {report['stage_seconds']}).\n\n"
        + table
        + "\n## Targets\n\n"
        + "\n".join(f"- {line}" for line in verdicts(report))
        + "\n\n![accuracy vs tokens](demo-plot.png)\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipe", default=str(ROOT / "recipes/tiny-arith/demo.yaml"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/demo.json"))
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()

    runs = Path(tempfile.mkdtemp(prefix="rl-reasoner-bench-"))
    cmd = [sys.executable, "-m", "rl_reasoner", "run", args.recipe, "--runs-dir", str(runs), *args.overrides]
    start = time.time()
    subprocess.run(cmd, check=True, cwd=ROOT)
    wall_s = time.time() - start

    run_dir = next(p for p in runs.iterdir() if p.is_dir())
    results = json.loads((run_dir / "eval" / "results.json").read_text())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    report = {
        "command": " ".join(["python", "benchmarks/demo_bench.py", *args.overrides]),
        "git_commit": manifest["git_commit"],
        "machine": {"cpus": __import__("os").cpu_count(), "platform": platform.platform()},
        "wall_seconds": round(wall_s, 1),
        "stage_seconds": {k: v.get("seconds") for k, v in manifest["stages"].items()},
        "targets": targets(results, wall_s),
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))

    table = (run_dir / "eval" / "table.md").read_text()
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    shutil.copy(run_dir / "eval" / "plot.png", docs / "demo-plot.png")
    (docs / "demo-results.md").write_text(render(report, table))
    print(table)
    print(f"wall time: {wall_s / 60:.1f} min")
    print("\n".join(verdicts(report)))
    print(f"run directory kept for inspection: {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
