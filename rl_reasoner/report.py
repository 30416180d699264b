"""Eval report: a Markdown table and a PNG plot (accuracy vs mean tokens per level, SFT -> GRPO arrows)."""

from __future__ import annotations

from pathlib import Path

ORACLE = "oracle"


def _rows(results: dict) -> list[tuple[str, dict]]:
    rows = list(results["models"].items())
    if "oracle" in results:
        rows.append((ORACLE, results["oracle"]))
    return rows


def markdown_table(results: dict, title: str = "") -> str:
    """One row per model: overall accuracy / mean tokens / truncation, then ``acc · tokens`` per level."""
    rows = _rows(results)
    levels = sorted(rows[0][1]["levels"], key=int)
    head = ["model", "accuracy", "mean tokens", "truncated", *(f"level {lv}" for lv in levels)]
    lines = [f"### {title}" if title else "", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, summary in rows:
        o = summary["overall"]
        cells = [label, f"{o['accuracy']:.1%}", f"{o['mean_tokens']:.1f}", f"{o['truncation_rate']:.1%}"]
        for lv in levels:
            s = summary["levels"][lv]
            style = f" ({s['style']})" if "style" in s else ""
            cells.append(f"{s['accuracy']:.0%} · {s['mean_tokens']:.0f}{style}")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Cells per level: accuracy · mean completion tokens (greedy decoding, held-out split). "
                 "Oracle: per level, the shortest trace style the SFT model gets right "
                 "when forced into it (style in brackets).")
    return "\n".join(lines).lstrip() + "\n"


def plot(results: dict, path: Path) -> Path:
    """Accuracy vs mean tokens per level; arrows from the SFT point to each GRPO model's point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = dict(_rows(results))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    markers = {"sft": "o", ORACLE: "*"}
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, summary) in enumerate(rows.items()):
        xs = [summary["levels"][lv]["mean_tokens"] for lv in sorted(summary["levels"], key=int)]
        ys = [summary["levels"][lv]["accuracy"] for lv in sorted(summary["levels"], key=int)]
        ax.scatter(xs, ys, label=label, marker=markers.get(label, "s"), color=colors[i % len(colors)], s=50)
        for lv, x, y in zip(sorted(summary["levels"], key=int), xs, ys, strict=True):
            ax.annotate(f"L{lv}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        if label.startswith("grpo") and "sft" in rows:
            for lv in summary["levels"]:
                start = rows["sft"]["levels"][lv]
                ax.annotate(
                    "",
                    xy=(summary["levels"][lv]["mean_tokens"], summary["levels"][lv]["accuracy"]),
                    xytext=(start["mean_tokens"], start["accuracy"]),
                    arrowprops={"arrowstyle": "->", "color": colors[i % len(colors)], "alpha": 0.6},
                )
    ax.set_xlabel("mean completion tokens")
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy vs tokens per difficulty level (SFT -> GRPO)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_report(results: dict, out_dir: Path, title: str = "") -> str:
    """Write ``table.md`` and ``plot.png`` next to ``results.json``; returns the table."""
    table = markdown_table(results, title)
    (out_dir / "table.md").write_text(table)
    plot(results, out_dir / "plot.png")
    return table
