"""How close can Monte-Carlo step labels come to exact step correctness? (issue 15's ">= 95 %")

    python benchmarks/mc_thresholds.py RUN [RUN ...] [--continuations M] [--seed S] [--out-dir DIR]

Each RUN is a search-bench run with a process verifier (``RUN/verifier-prm/step_labels.jsonl``: the sampled
completions its labels were made from) and its SFT model (``RUN/sft``). Every proper step prefix of every one
of those completions, right or wrong, gets ``M`` continuations of the SFT model (temperature 1.0, the
budget the sample had left: ``verifier.mc_labels.right_continuations``, as the PRM's labelling draws them),
and several label rules read off the same draws are compared with the exact tiny-arith step labels
(``verifier.arith_steps``, prefix correctness: once a line is wrong every later step is):

* ``reachable``: the PRM's rule (Math-Shepherd's hard estimate with every rollout counted): a step is right
  when its own continuations, a later step's, or the completion itself reached the gold;
* ``soft >= t``: a step is right when at least a share ``t`` of its continuations did (the soft estimate),
  the final step its completion's verdict;
* ``monotone soft >= t``: as ``soft``, and every step after a wrong one is wrong (as the exact labels are).

Writes ``benchmarks/results/mc_thresholds.json`` and ``docs/mc-thresholds.md`` (``--out-dir``: both there).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARES = (0.125, 0.25, 0.375, 0.5, 0.625, 0.75)
TARGET = 0.95


def rule_labels(rule: str, fractions: list[float], verdict: bool) -> list[bool]:
    """One completion's step labels under ``rule`` from its proper steps' shares of right continuations
    (the last step is the completion's verdict).

    >>> rule_labels("reachable", [0.5, 0.0, 0.25], False), rule_labels("reachable", [0.0, 0.0], True)
    ([True, True, True, False], [True, True, True])
    >>> shares = [0.5, 0.25, 0.75]
    >>> rule_labels("soft >= 0.5", shares, True), rule_labels("monotone soft >= 0.5", shares, True)
    ([True, False, True, True], [True, False, False, False])
    """
    if rule == "reachable":
        if verdict:
            return [True] * (len(fractions) + 1)
        last = max((i for i, f in enumerate(fractions) if f > 0), default=-1)
        return [i <= last for i in range(len(fractions))] + [False]
    share = float(rule.rsplit(">= ", 1)[1])
    labels = [f >= share for f in fractions] + [verdict]
    if rule.startswith("monotone"):
        labels = [all(labels[: i + 1]) for i in range(len(labels))]
    return labels


RULES = ("reachable", *(f"soft >= {s}" for s in SHARES), *(f"monotone soft >= {s}" for s in SHARES))


def agreement(pairs: list[tuple[list[bool], list[bool]]]) -> dict:
    """Over (rule labels, exact labels) of many completions: the agreement and both kinds of disagreement."""
    flat = [(m, e) for mc, exact in pairs for m, e in zip(mc, exact, strict=True)]
    return {"steps": len(flat), "rate": round(sum(m == e for m, e in flat) / max(1, len(flat)), 4),
            "mc_right_exact_wrong": sum(m and not e for m, e in flat),
            "mc_wrong_exact_right": sum(e and not m for m, e in flat)}  # fmt: skip


def labelled_items(run: Path) -> list:
    """The PRM's sampled completions of ``run``, grouped by prompt, with their verdicts (rewards.verify)."""
    from rewards.verify import verify_batch
    from rl_reasoner.reward_funcs import GRPO_EXTRACTION
    from rl_reasoner.verifier.samples import LabelledPrompt

    rows = {r["id"]: r for r in map(json.loads, (run / "data" / "grpo.jsonl").read_text().splitlines())}
    grouped: OrderedDict[str, list[str]] = OrderedDict()
    for line in (run / "verifier-prm" / "step_labels.jsonl").read_text().splitlines():
        record = json.loads(line)
        grouped.setdefault(record["id"], []).append(record["completion"])
    items = []
    for qid, completions in grouped.items():
        row = rows[qid]
        verdicts = verify_batch([row["answer"]] * len(completions), completions, mode=GRPO_EXTRACTION)
        items.append(LabelledPrompt(qid, row["level"], row["prompt"], row["answer"], tuple(completions),
                                    tuple(v is True for v in verdicts), ))  # fmt: skip
    return items


def measure(run: Path, m: int, seed: int) -> dict:
    """Every rule's agreement with the exact labels on ``run``'s PRM samples (addition prompts)."""
    from rl_reasoner.generation import load_policy
    from rl_reasoner.verifier.arith_steps import addition_operands, exact_step_labels
    from rl_reasoner.verifier.mc_labels import Continuations, prefix_rows, right_continuations

    items = labelled_items(run)
    model, tokenizer = load_policy(str(run / "sft"))
    prefixes = prefix_rows(items, lambda t: len(tokenizer(t, add_special_tokens=False)["input_ids"]))
    began = time.time()
    counts = right_continuations(model, tokenizer, prefixes, Continuations(m=m, max_new_tokens=256,
                                                                           batch_size=256), seed)  # fmt: skip
    fractions: dict[tuple[int, int], list[float]] = {}
    for row, right in zip(prefixes, counts, strict=True):
        fractions.setdefault(row["sample"], []).append(right / m)
    per_rule: dict[str, list] = {rule: [] for rule in RULES}
    for p, item in enumerate(items):
        operands = addition_operands({"prompt": item.prompt})
        for c, (completion, verdict) in enumerate(zip(item.completions, item.correct, strict=True)):
            if operands is None:
                continue
            exact = exact_step_labels(*operands, completion)
            for rule in RULES:
                per_rule[rule].append((rule_labels(rule, fractions.get((p, c), []), verdict), exact))
    return {"run": str(run), "prompts": len(items), "prefixes": len(prefixes), "continuations": m,
            "seconds": round(time.time() - began, 1),
            "rules": {rule: agreement(pairs) for rule, pairs in per_rule.items()}}  # fmt: skip


def render(report: dict) -> str:
    """docs/mc-thresholds.md: the command, each rule's agreement per run, and the best rule's."""
    runs = report["runs"]
    head = "| rule | " + " | ".join(Path(r["run"]).name for r in runs) + " |"
    lines = [
        "# Monte-Carlo step labels against exact step correctness (generated by benchmarks/mc_thresholds.py)",
        "",
        f"Command: `{report['command']}` at commit `{report['git_commit']}`, {report['machine']}. "
        f"Every proper step prefix of each run's PRM samples gets {runs[0]['continuations']} continuations "
        "of its SFT model; each rule reads its labels off the same draws. Cells: agreement with the exact "
        "labels (MC right & exact wrong / MC wrong & exact right). Issue 15's bound: 95 %.",
        "",
        head,
        "|---" * (len(runs) + 1) + "|",
    ]
    for rule in RULES:
        cells = [f"{r['rules'][rule]['rate']:.1%} ({r['rules'][rule]['mc_right_exact_wrong']} / "
                 f"{r['rules'][rule]['mc_wrong_exact_right']})" for r in runs]  # fmt: skip
        lines.append(f"| {rule} | " + " | ".join(cells) + " |")
    reached = "yes" if report["met"] else "**no**"
    lines += ["", "Best rule per run, picked after the fact (an upper bound on what a choice of rule can "
              f"do): {report['best']}. 95 % reached on every run: {reached}.", ""]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="search-bench runs with verifier-prm/ and sft/")
    parser.add_argument("--continuations", type=int, default=8, help="M continuations per step prefix")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, help="where the JSON and the page go (default: the repo's)")
    args = parser.parse_args(argv)
    for run in args.runs:
        if not (run / "verifier-prm" / "step_labels.jsonl").is_file() or not (run / "sft").is_dir():
            raise SystemExit(
                f"{run}: no verifier-prm/step_labels.jsonl or sft/ (run benchmarks/search.py first)"
            )
    runs = [measure(run, args.continuations, args.seed) for run in args.runs]
    best = {Path(r["run"]).name: max(RULES, key=lambda rule: r["rules"][rule]["rate"]) for r in runs}
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    report = {
        "command": "python benchmarks/mc_thresholds.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "git_commit": commit.strip(), "machine": platform.platform(), "runs": runs, "best": best,
        "met": all(r["rules"][best[Path(r["run"]).name]]["rate"] >= TARGET for r in runs),
    }  # fmt: skip
    out_json, page = (
        (args.out_dir / "mc_thresholds.json", args.out_dir / "mc-thresholds.md")
        if args.out_dir
        else (ROOT / "benchmarks/results/mc_thresholds.json", ROOT / "docs/mc-thresholds.md")
    )
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(report, indent=2) + "\n")
    page.write_text(render(report))
    print(render(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
