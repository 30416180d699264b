"""Evaluate a finished demo run's models with ``rl-reasoner eval`` and time HF generate, batched vs not.

    python benchmarks/eval_bench.py --run RUN_DIR [--n 4] [--temperature 0.8] [--limit N]

RUN_DIR is a finished ``rl-reasoner run recipes/tiny-arith/demo.yaml`` directory (``demo_bench.py``
keeps its run directory and prints where). Writes ``benchmarks/results/eval.json``,
``docs/eval-results.md`` and ``docs/eval-budget-curve.png`` (issue 6's numbers).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPE = "recipes/tiny-arith/demo.yaml"
STAGES = ("sft", "grpo", "grpo-accuracy-only")


def run_eval(run: Path, stage: str, out: Path, args: argparse.Namespace) -> dict:
    """One ``rl-reasoner eval`` of a run's stage, as a user runs it; its metrics.json."""
    cmd = [
        sys.executable, "-m", "rl_reasoner", "eval", str(run), "--stage", stage,
        "--data", f"recipe:{RECIPE}", "--n", str(args.n), "--k", f"1,{args.n}",
        "--temperature", str(args.temperature), "--max-new-tokens", "256", "--perturb", "--out", str(out),
    ]  # fmt: skip
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    start = time.monotonic()
    subprocess.run(cmd, check=True, cwd=ROOT)
    metrics = json.loads((out / "metrics.json").read_text())
    metrics["wall_seconds"] = round(time.monotonic() - start, 1)
    return metrics


def throughput(model_path: Path, prompts: list[str]) -> dict[str, float]:
    """Greedy samples per second for the same prompts, one generate call per prompt vs batches of 64."""
    from rl_reasoner.generation import generate_samples, load_policy

    model, tokenizer = load_policy(str(model_path))
    rates = {}
    for label, batch_size in (("unbatched", 1), ("batched (64)", 64)):
        start = time.monotonic()
        generate_samples(model, tokenizer, prompts, max_new_tokens=256, batch_size=batch_size, desc=label)
        rates[label] = len(prompts) / (time.monotonic() - start)
    return rates


def plot(curves: dict[str, list[dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, curve in curves.items():
        ax.plot([p["budget"] for p in curve], [p["accuracy"] for p in curve], marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set(xlabel="token budget", ylabel="pass@1 (cut-off answers count as wrong)", ylim=(-0.02, 1.02))
    ax.set_title("tiny-arith: accuracy vs token budget")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render(results: dict, command: str) -> str:
    n = results["n"]
    lines = [
        "# Eval results (generated)",
        "",
        f"Command: `{command}` at commit `{results['git_commit']}`, {results['cpus']} CPU cores. "
        f"Held-out split of `{RECIPE}`, {n} samples per prompt at temperature {results['temperature']}, "
        "256 new tokens at most.",
        "",
        f"| model | pass@1 | pass@{n} | maj@{n} | mean / median / p90 tokens | truncated | "
        "pass@1 with re-sampled numbers | eval wall s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for stage, m in results["models"].items():
        o, p = m["overall"], m["variants"]["perturbed"]["overall"]
        lines.append(
            f"| {stage} | {o['pass@1']:.1%} | {o[f'pass@{n}']:.1%} | {o[f'maj@{n}']:.1%} | "
            f"{o['mean_tokens']:.0f} / {o['median_tokens']:.0f} / {o['p90_tokens']:.0f} | "
            f"{o['truncation_rate']:.1%} | {p['pass@1']:.1%} ({p['pass@1'] - o['pass@1']:+.1%}) | "
            f"{m['wall_seconds']} |"
        )
    lines += ["", "pass@1 at each token budget (an answer cut off by the budget counts as wrong):", ""]
    budgets = [p["budget"] for p in next(iter(results["models"].values()))["budget_curve"]]
    lines += ["| model | " + " | ".join(str(b) for b in budgets) + " |", "|---|" + "---|" * len(budgets)]
    for stage, m in results["models"].items():
        lines.append(f"| {stage} | " + " | ".join(f"{p['accuracy']:.1%}" for p in m["budget_curve"]) + " |")
    lines += ["", "![budget curve](eval-budget-curve.png)", ""]
    lines += ["## HF generate throughput (SFT model, greedy)", ""]
    lines += ["| mode | samples/s |", "|---|---|"]
    lines += [f"| {label} | {rate:.2f} |" for label, rate in results["throughput"].items()]
    lines.append(f"\n{results['throughput_prompts']} prompts from the held-out split, up to 256 new tokens.")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="finished demo run directory")
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--limit", type=int, default=None, help="first N eval prompts only")
    parser.add_argument("--throughput-prompts", type=int, default=32)
    args = parser.parse_args()
    missing = [s for s in STAGES if not (args.run / s).is_dir()]
    if missing:
        parser.error(f"{args.run} has no finished stage(s) {missing}; run the demo first")
    results: dict = {"n": args.n, "temperature": args.temperature, "cpus": __import__("os").cpu_count()}
    results["git_commit"] = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    results["platform"] = platform.platform()
    with tempfile.TemporaryDirectory(prefix="rl-reasoner-eval-") as tmp:
        results["models"] = {s: run_eval(args.run, s, Path(tmp) / s, args) for s in STAGES}
    rows = [json.loads(line) for line in (args.run / "data" / "eval.jsonl").read_text().splitlines()]
    prompts = [r["prompt"] for r in rows][: args.throughput_prompts]
    results["throughput_prompts"] = len(prompts)
    results["throughput"] = throughput(args.run / "sft", prompts)
    out_json = ROOT / "benchmarks" / "results" / "eval.json"
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(results, indent=2) + "\n")
    curves = {s: m["budget_curve"] for s, m in results["models"].items()}
    plot(curves, ROOT / "docs" / "eval-budget-curve.png")
    command = "python benchmarks/eval_bench.py --run RUN_DIR " + " ".join(a for a in sys.argv[1:] if a not in
                                                                         ("--run", str(args.run)))
    markdown = render(results, command.strip())
    (ROOT / "docs" / "eval-results.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
