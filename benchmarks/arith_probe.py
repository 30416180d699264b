"""Probe a demo run's models on addition patterns the held-out split almost never contains.

    python benchmarks/arith_probe.py RUN_DIR [--n 300] [--models sft,grpo,grpo-accuracy-only]

The eval split holds 100 random sums per level, so a systematic error on a rare digit pattern can hide
behind one miss. This probe scores greedy completions on two extra sets of 3-digit sums:

* ``zero-middle``: both operands have 0 as their middle digit (``207+302``), the pattern on which
  length-penalised GRPO with TRL's token-level loss learned to write ``0+0+0=1``;
* ``random``: uniform 3-digit sums, as a control.

Each model is run as it answers by itself, plus the SFT model forced into the concise style (the
style the length bonus moves toward). Writes ``benchmarks/results/arith_probe.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rewards.verify import verify  # noqa: E402
from rl_reasoner.data.arith import STYLE_PREFIX, prompt_text  # noqa: E402


def problem_sets(n: int, seed: int = 1) -> dict[str, list[tuple[int, int]]]:
    rng = random.Random(seed)

    def zero_middle() -> int:
        return rng.randint(1, 9) * 100 + rng.randint(0, 9)

    return {
        "zero-middle": [(zero_middle(), zero_middle()) for _ in range(n)],
        "random": [(rng.randint(100, 999), rng.randint(100, 999)) for _ in range(n)],
    }


def score(model_dir: Path, problems: list[tuple[int, int]], prefix: str, batch_size: int) -> dict:
    from rl_reasoner.evaluation.backends import HFBackend

    backend = HFBackend(str(model_dir), batch_size=batch_size)
    prompts = [prompt_text(a, b) + prefix for a, b in problems]
    outputs = backend.generate(prompts, n=1, max_new_tokens=256, temperature=0.0, top_p=1.0, seed=0)
    wrong = [
        {"problem": f"{a}+{b}", "completion": prefix + group[0].text}
        for (a, b), group in zip(problems, outputs, strict=True)
        if not verify(str(a + b), group[0].text)
    ]
    return {"n": len(problems), "errors": len(wrong), "examples": wrong[:3]}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", type=Path, help="a finished run, e.g. runs/tiny-arith-demo")
    parser.add_argument("--n", type=int, default=300, help="problems per set")
    parser.add_argument("--models", default="sft,grpo,grpo-accuracy-only")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/arith_probe.json")
    args = parser.parse_args()

    sets = problem_sets(args.n)
    variants = [(name, name, "") for name in args.models.split(",")]
    variants.insert(1, ("sft, forced concise", "sft", STYLE_PREFIX["concise"]))
    rows = []
    for label, folder, prefix in variants:
        model_dir = args.run_dir / folder
        if not (model_dir / "config.json").is_file():
            print(f"skipping {label}: no model in {model_dir}", file=sys.stderr)
            continue
        start = time.perf_counter()
        results = {
            name: score(model_dir, problems, prefix, args.batch_size) for name, problems in sets.items()
        }
        rows.append(
            {"model": label, "folder": str(model_dir), "seconds": time.perf_counter() - start, **results}
        )

    header = "| model | " + " | ".join(f"{name} errors" for name in sets) + " |"
    lines = [header, "|" + "---|" * (len(sets) + 1)]
    for row in rows:
        cells = " | ".join(f"{row[name]['errors']} / {row[name]['n']}" for name in sets)
        lines.append(f"| {row['model']} | {cells} |")
    print("\n".join(lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"run_dir": str(args.run_dir), "n": args.n, "rows": rows}, indent=2) + "\n"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
