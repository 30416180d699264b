"""The page of ``benchmarks/length_pareto.py``: the Markdown table, the two-panel accuracy-vs-tokens plot,
the generated doc and the JSON written next to them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ACC_ONLY = "accuracy-only"
TRADE_OFF_PT = -1.0  # long levels' accuracy change (points) below which a point "costs the long levels"
INITIALS = {"direct": "d", "concise": "c", "verbose": "v", "draft": "r", "other": "o"}
MARKS = ((ACC_ONLY, "s", "black"), ("recipe", "D", "grey"), ("sft", "v", "brown"), ("oracle", "*", "k"))


def table(report: dict) -> str:
    """SFT, the oracle, every point (a sweep point with the recipe's own rewards is marked "(the recipe)")."""
    summary = report["summary"]
    head = "| method | strength | mean Δacc pt | worst Δacc pt | long levels mean Δ pt (worst) "
    head += "| mean tokens ×oracle "
    lines = [head + "| worst ×oracle |", "|---|---|---|---|---|---|---|"]
    rows = [("sft", "sft", None), ("oracle", "oracle", None)]
    rows += [(p["label"], p["method"], p["strength"]) for p in report["points"]]
    for label, method, strength in (r for r in rows if r[0] in summary):
        s, what = summary[label], "recipe (own rewards)" if method == "recipe" else method
        at = "" if strength is None else f"{strength:g}" + (label == "recipe") * " (the recipe)"
        lines.append(
            f"| {what} | {at} | {s['mean_delta_pt']:+.1f} | {s['worst_delta_pt']:+.1f} | "
            f"{s['mean_long_delta_pt']:+.1f} ({s['worst_long_delta_pt']:+.1f}) | {s['mean_x_oracle']:.2f} | "
            f"{s['worst_x_oracle']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def level_table(report: dict) -> str:
    """Per point and level: mean Δ accuracy vs own SFT (worst seed), mean tokens, and each seed's most
    common greedy trace style (its initial, seeds in order; the oracle row: its styles)."""
    seeds, levels = report["per_seed"], sorted(report["per_seed"][0]["sft"]["levels"], key=int)
    head = "| point | " + " | ".join(f"level {lv}: Δ pt (worst) · tokens · styles" for lv in levels) + " |"
    lines = [head, "|---|" + "---|" * len(levels)]
    labels = ["sft", "oracle"] + [p["label"] for p in report["points"] if p["label"] in report["summary"]]
    for label in labels:
        own = [(s, s[label] if label in ("sft", "oracle") else s["points"].get(label)) for s in seeds]
        own = [(s, r) for s, r in own if r is not None]  # a point some seeds lack: over those that have it
        cells = []
        for lv in levels:
            delta = [100 * (r["levels"][lv]["accuracy"] - s["sft"]["levels"][lv]["accuracy"]) for s, r in own]
            tokens = sum(r["levels"][lv]["tokens"] for _, r in own) / len(own)
            styles = "/".join(_style(r, lv) for _, r in own)
            cells.append(f"{sum(delta) / len(delta):+.1f} ({min(delta):+.1f}) · {tokens:.0f} · {styles}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _style(numbers: dict, level: str) -> str:
    """The initial of a model's most common greedy style at ``level`` (``?`` where it was not collected)."""
    if "styles" not in numbers:
        return "?"
    styles = numbers["styles"]
    if isinstance(styles.get(level), str):  # the oracle: one style per level
        return INITIALS.get(styles[level], "?")
    return INITIALS.get(next(iter(styles.get(level) or {"?": 1})), "?")


def _panel(ax: Any, report: dict, key: str, title: str) -> None:
    """A line per method (by strength, markers labelled), then accuracy-only, recipe, SFT, oracle (x=1)."""
    summary, points = report["summary"], [p for p in report["points"] if p["label"] in report["summary"]]
    for method in dict.fromkeys(p["method"] for p in points if p["method"] not in (ACC_ONLY, "recipe")):
        line = sorted((p["strength"], p["label"]) for p in points if p["method"] == method)
        xy = [(summary[label]["mean_x_oracle"], summary[label][key]) for _, label in line]
        ax.plot(*zip(*xy, strict=True), "o-", label=method)
        for (strength, label), at in zip(line, xy, strict=True):
            text = f"{strength:g}" + (label == "recipe") * " (recipe)"
            ax.annotate(text, at, fontsize=7, textcoords="offset points", xytext=(3, 3))
    for label, marker, color in (m for m in MARKS if m[0] in summary):
        x, size = (1.0, 14) if label == "oracle" else (summary[label]["mean_x_oracle"], 8)
        ax.plot([x], [summary[label][key]], marker, color=color, ms=size, ls="none", label=label)
    ax.axhline(0.0, color="grey", linewidth=0.5)
    ax.set(xlabel="mean tokens / own oracle's", ylabel="accuracy Δ vs own SFT (pt)", title=title)


def plot(report: dict, path: Path) -> None:
    """Two panels, x = mean tokens / own oracle: y = mean accuracy Δ vs SFT, then the long levels' Δ."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharex=True)
    seeds = f"mean over seeds {report['seeds']}"
    _panel(axes[0], report, "mean_delta_pt", f"all levels, {seeds}")
    _panel(axes[1], report, "mean_long_delta_pt", f"levels only the long style solves, {seeds}")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render(report: dict, png: str) -> str:
    """The Markdown page: command, commit, machine, wall time; the table and the plot; the verdicts."""
    dirty = " (with uncommitted changes)" if report["uncommitted_changes"] else ""
    machine = report["machine"]
    long = "; ".join(f"seed {s}: {', '.join(lv)}" for s, lv in report["long_levels"].items())
    reused = "; ".join(f"seed {s['seed']}: {s.get('reused') or 'none'}" for s in report["per_seed"])
    rewards = [f"| {p['label']} | `{json.dumps(p['rewards'])}` |" for p in report["points"]]
    gate = report.get("gate", "not recorded")
    gate = (
        "Validation gate: off (`gate.max_drop: null`): each point is its run's last step, the length "
        "reward's own effect (the recipe's gate hands on an earlier checkpoint where a level lost accuracy)."
        if gate is None
        else f"Validation gate: `max_drop` {gate} (a run that lost accuracy hands on an earlier checkpoint)."
    )
    return f"""# Length rewards: accuracy vs tokens (generated by `benchmarks/length_pareto.py`)

Command: `{report["command"]}` at commit `{report["git_commit"]}`{dirty}; machine: {machine["platform"]}, \
{machine["cpus"]} CPU cores; wall time {report["wall_seconds"] / 60:.1f} min. Seeds {report["seeds"]}: each \
reuses the data and SFT stages of its `{report["from_runs"]}/<recipe>-seed<N>` run, and its GRPO units whose \
inputs are unchanged ({reused}); the other GRPO runs and the eval are made here.

Each point is one GRPO run from its seed's own SFT checkpoint with rewards accuracy + the method's length \
reward at that strength (absolute: alpha per token; the others: recipe weight), with the recipe's GRPO \
config, seed and steps: `{json.dumps(report["grpo"])}`. "recipe" is the main `grpo` unit (the recipe's own \
rewards); a sweep point with the same rewards is that unit, not a second run (its row: "(the recipe)"). \
Greedy decoding on the held-out split ({report["prompts"]} prompts per seed). Δacc: accuracy (pass@1) minus \
its seed's SFT checkpoint's, in points; mean over seeds and worst seed. Long levels: per seed, the levels \
whose oracle is the verbose style (the SFT model is reliable in no shorter one), where a length reward that \
shortens cuts reasoning the model needs; their mean Δ ({long}). \
×oracle: mean tokens / its seed's oracle's (per level, the shortest trace style SFT gets right \
>= {report["oracle_threshold"]:.0%} of the time when forced into it).

{gate}

{table(report)}
![accuracy vs tokens]({png})

## Per level

Mean over seeds of each level's accuracy change against its seed's SFT (worst seed in brackets), mean \
tokens, and each seed's most common greedy trace style there (d direct, c concise, v verbose, r draft, \
o other; seeds in the order {report["seeds"]}).

{level_table(report)}
## Trade-off per method

Shown when at some strength the long levels' mean Δ is more than {-TRADE_OFF_PT:g} pt below accuracy-only \
GRPO's own Δ there (a loss GRPO has without a length term is not the length term's) while their mean tokens \
are below accuracy-only's.

{chr(10).join(f"- **{m}**: {v}" for m, v in report["verdicts"].items())}

## Points

| point | rewards |
|---|---|
{chr(10).join(rewards)}
"""


def write_outputs(report: dict, out: Path, doc: Path, png: Path) -> None:
    for path in (out, doc, png):
        path.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    plot(report, png)
    doc.write_text(render(report, os.path.relpath(png, doc.parent)))
