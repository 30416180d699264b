"""Can a policy gradient move one level's trace style without moving the next level's? Per SFT checkpoint.

    python benchmarks/style_coupling.py RUN_DIR [RUN_DIR ...] [--steps 40] [--lr 5e-5] [--out F] [--doc F]

Two measurements at the position where the demo's traces choose their style (right after the prompt and
the row's ``head``, its size line), on each run's SFT model and its first 60 eval prompts of levels 2, 3:

* **separation**: per layer, the distance between the two levels' mean hidden states over the mean
  distance of a state from its level's mean. At ~1 the levels look alike where the style is picked, so
  an update that moves level 2's style moves level 3's too.
* **push**: the upper layers only (the demo's ``frozen`` list: embeddings and layers 0-1 stay), AdamW at
  the demo's GRPO learning rate, one cross-entropy step per batch of 16 + 16 training prompts that raises
  the concise opening at level 2 and the verbose one at level 3: the direction a length reward pushes on
  a seed whose SFT model is reliable concise at level 2 only. Logged every 10 steps: each level's mean
  log P(concise)/P(verbose) of the opening's first token, and the share of prompts where it is > 0
  (greedy decoding would open concise).

Not a GRPO run (no sampling, no advantages, no KL or replay): it isolates how strongly one level's
update leaks into the other's choice. Writes ``benchmarks/results/style_coupling.json`` and
``docs/style-coupling.md``.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from rl_reasoner.data.arith import STYLE_PREFIX, THINK_OPEN
from rl_reasoner.data.tables import load_table

ROOT = Path(__file__).resolve().parents[1]
FROZEN = ("model.embed_tokens", "model.layers.0.", "model.layers.1.", "lm_head")  # the demo's `frozen:`
PUSH = {2: "concise", 3: "verbose"}  # level -> the style the push raises there


def choice_ids(tokenizer, rows: list[dict]) -> list[list[int]]:
    """Token ids up to the style choice: prompt, ``<think>`` and the row's head."""
    return [tokenizer(r["prompt"] + THINK_OPEN + r.get("head", ""), add_special_tokens=False).input_ids
            for r in rows]  # fmt: skip


def last_states(model, seqs: list[list[int]], hidden: bool = False) -> torch.Tensor:
    """Per sequence the last position's logits (or every layer's hidden state there), one at a time."""
    out = []
    for ids in seqs:
        res = model(torch.tensor([ids]), output_hidden_states=hidden)
        out.append(torch.stack([h[0, -1] for h in res.hidden_states]) if hidden else res.logits[0, -1])
    return torch.stack(out)


def separation(model, eval_ids: dict[int, list[list[int]]]) -> list[float]:
    """Per layer: |mean_2 - mean_3| / mean within-level distance to the level's mean."""
    with torch.no_grad():
        states = {lv: last_states(model, ids, hidden=True) for lv, ids in eval_ids.items()}
    a, b = states[2], states[3]
    spread = ((a - a.mean(0)).norm(dim=-1).mean(0) + (b - b.mean(0)).norm(dim=-1).mean(0)) / 2
    return ((a.mean(0) - b.mean(0)).norm(dim=-1) / spread.clamp_min(1e-9)).tolist()


def choice_margin(model, ids: list[list[int]], first: dict[str, int]) -> tuple[float, float]:
    """Mean log P(concise)/P(verbose) of the first opening token, and the share of prompts where it is > 0."""
    with torch.no_grad():
        logp = last_states(model, ids).log_softmax(-1)
    margin = logp[:, first["concise"]] - logp[:, first["verbose"]]
    return float(margin.mean()), float((margin > 0).float().mean())


def measure(run: Path, steps: int, lr: float, seed: int = 0) -> dict:
    """Separation and the push trajectory for one run's SFT model."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = AutoTokenizer.from_pretrained(run / "sft")
    model = AutoModelForCausalLM.from_pretrained(run / "sft")
    first = {s: tokenizer(STYLE_PREFIX[s].removeprefix(THINK_OPEN), add_special_tokens=False).input_ids[0]
             for s in ("concise", "verbose")}  # fmt: skip
    evals = load_table(str(run / "data" / "eval.jsonl"), what="eval").to_list()
    train = load_table(str(run / "data" / "grpo.jsonl"), what="grpo").to_list()
    eval_ids = {lv: choice_ids(tokenizer, [r for r in evals if r["level"] == lv][:60]) for lv in PUSH}
    pools = {lv: [r for r in train if r["level"] == lv] for lv in PUSH}
    head = next(r.get("head", "") for r in evals if r["level"] == 3)
    sep = separation(model.eval(), eval_ids)
    for name, param in model.named_parameters():
        param.requires_grad = not name.startswith(FROZEN)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
    trajectory = []
    for step in range(steps + 1):
        if step % 10 == 0:
            trajectory.append({"step": step, **{f"level_{lv}": choice_margin(model, eval_ids[lv], first)
                                                for lv in PUSH}})  # fmt: skip
        if step == steps:
            break
        loss = 0.0
        for lv, style in PUSH.items():
            logp = last_states(model, choice_ids(tokenizer, rng.sample(pools[lv], 16))).log_softmax(-1)
            loss = loss - logp[:, first[style]].mean() / len(PUSH)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"head": head, "separation": sep, "trajectory": trajectory}


def render(report: dict) -> str:
    lines = [
        "# Style coupling between levels 2 and 3 (generated by `benchmarks/style_coupling.py`)",
        "",
        f"Command: `{report['command']}` at commit `{report['git_commit']}`. Each run's SFT model; 60 eval "
        f"prompts per level; push: {report['steps']} AdamW steps at lr {report['lr']} on the upper layers "
        "(level 2 -> concise, level 3 -> verbose). Separation: |mean_2 - mean_3| / within-level spread "
        "at the choosing position, per layer (embeddings first). Push cells: mean log P(concise)/P(verbose) "
        "of the opening's first token (share of prompts where concise wins).",
        "",
        "| run | size line | separation per layer | push step | level 2 | level 3 |",
        "|---|---|---|---|---|---|",
    ]
    for run, res in report["runs"].items():
        sep = " / ".join(f"{v:.1f}" for v in res["separation"])
        for i, point in enumerate(res["trajectory"]):
            cells = " | ".join(f"{m:+.2f} ({s:.0%})" for m, s in (point["level_2"], point["level_3"]))
            left = f"{Path(run).name} | `{res['head']!r}` | {sep}" if i == 0 else " | | "
            lines.append(f"| {left} | {point['step']} | {cells} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", help="run folders with data/ and sft/")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/style_coupling.json"))
    parser.add_argument("--doc", default=str(ROOT / "docs/style-coupling.md"))
    args = parser.parse_args()
    git = ["git", "rev-parse", "HEAD"]
    commit = subprocess.run(git, cwd=ROOT, capture_output=True, text=True).stdout.strip()
    report = {
        "command": " ".join(["python", "benchmarks/style_coupling.py", *sys.argv[1:]]),
        "git_commit": commit,
        "steps": args.steps,
        "lr": args.lr,
        "runs": {run: measure(Path(run), args.steps, args.lr) for run in args.runs},
    }
    Path(args.out).write_text(json.dumps(report, indent=2))
    Path(args.doc).write_text(render(report))
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
