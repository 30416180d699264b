"""Does a model choose its trace style by difficulty? P(style | prompt) per level, for each model of a run.

    python benchmarks/style_choice.py RUN_DIR [RUN_DIR ...] [--per-level 100]

For every eval prompt the demo's three style openings (``SCORED`` in ``STYLE_PREFIX``) are scored by the model
(summed log-probabilities of the opening's tokens after the prompt) and normalised over the three styles;
the table gives each level's mean. A model that adapts its reasoning to difficulty puts more mass on the
short styles at level 1 than at level 3; one whose choice does not depend on the level shows the same row
at every level. Greedy decoding follows the largest entry. Writes ``benchmarks/results/style_choice.json``
and ``docs/style-choice.md`` (runs from ``benchmarks/seeds_bench.py``: each seed's SFT, GRPO and
accuracy-only models).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from rl_reasoner.data.arith import forced_opening
from rl_reasoner.data.tables import load_table

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("sft", "grpo", "grpo-accuracy-only")
SCORED = ("direct", "concise", "verbose")  # the demo's styles (draft is in no mix it trains on)


def opening_logprob(model, tokenizer, prompt: str, opening: str) -> float:
    """log P(opening | prompt): the opening's tokens scored after the prompt's."""
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    full_ids = tokenizer(prompt + opening, add_special_tokens=False).input_ids
    ids = torch.tensor([full_ids])
    with torch.no_grad():
        logprobs = model(ids).logits[0, :-1].log_softmax(-1)
    targets = ids[0, 1:]
    picked = logprobs.gather(-1, targets[:, None])[:, 0]
    return float(picked[len(prompt_ids) - 1 :].sum())


def style_choice(model_dir: Path, rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per level, the mean over prompts of P(style | prompt), normalised over the task's styles."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    sums: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    for row in rows:
        scores = torch.tensor(
            [opening_logprob(model, tokenizer, row["prompt"], forced_opening(s, row)) for s in SCORED]
        )
        probs = scores.softmax(-1).tolist()
        level = str(row["level"])
        counts[level] = counts.get(level, 0) + 1
        acc = sums.setdefault(level, dict.fromkeys(SCORED, 0.0))
        for style, p in zip(SCORED, probs, strict=True):
            acc[style] += p
    return {lv: {s: v / counts[lv] for s, v in acc.items()} for lv, acc in sorted(sums.items())}


def measure_run(run_dir: Path, per_level: int) -> dict:
    """Every model of one run on the first ``per_level`` eval prompts of each level."""
    rows = load_table(str(run_dir / "data" / "eval.jsonl"), what="eval").to_list()
    taken: dict[int, int] = {}
    chosen = []
    for row in rows:
        if taken.get(row["level"], 0) < per_level:
            taken[row["level"]] = taken.get(row["level"], 0) + 1
            chosen.append(row)
    return {m: style_choice(run_dir / m, chosen) for m in MODELS if (run_dir / m / "config.json").exists()}


def render(report: dict) -> str:
    lines = [
        "# Style choice by level (generated)",
        "",
        f"Command: `{report['command']}` at commit `{report['git_commit']}`. P(style | prompt): each style's",
        "opening scored by the model after the prompt, normalised over the three styles, mean over",
        f"{report['per_level']} eval prompts per level. Greedy decoding follows the largest entry.",
        "",
        "| run | model | level | direct | concise | verbose |",
        "|---|---|---|---|---|---|",
    ]
    for run, models in report["runs"].items():
        for model, levels in models.items():
            for level, probs in levels.items():
                cells = " | ".join(f"{probs[s]:.3f}" for s in SCORED)
                lines.append(f"| {Path(run).name} | {model} | {level} | {cells} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", help="run folders (runs/<name>) with data/ and model folders")
    parser.add_argument("--per-level", type=int, default=100)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/style_choice.json"))
    parser.add_argument("--doc", default=str(ROOT / "docs/style-choice.md"))
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    report = {
        "command": " ".join(["python", "benchmarks/style_choice.py", *sys.argv[1:]]),
        "git_commit": commit,
        "per_level": args.per_level,
        "runs": {run: measure_run(Path(run), args.per_level) for run in args.runs},
    }
    Path(args.out).write_text(json.dumps(report, indent=2))
    Path(args.doc).write_text(render(report))
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
