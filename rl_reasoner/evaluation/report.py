"""Reports from ``metrics.json`` content: one model's ``metrics.md`` and ``budget_curve.png``; a run's
comparison of its models and the oracle (``table.md``, ``plot.png``: accuracy vs tokens per level)."""

from __future__ import annotations

from pathlib import Path


def _row(label: str, s: dict, ks: list[int]) -> str:
    cells = [label, str(s["prompts"]), f"{s['pass@1']:.1%}"]
    cells += [f"{s[f'pass@{k}']:.1%}" for k in ks if k != 1] + [f"{s[f'maj@{k}']:.1%}" for k in ks]
    cells += [
        f"{s['mean_tokens']:.1f}",
        f"{s['median_tokens']:.0f}",
        f"{s['p90_tokens']:.0f}",
        f"{s['truncation_rate']:.1%}",
    ]
    if "mean_spent_tokens" in s:
        cells.append(f"{s['mean_spent_tokens']:.0f}")
    return "| " + " | ".join(cells) + " |"


def _table(result: dict, ks: list[int]) -> list[str]:
    head = [
        "",
        "prompts",
        "pass@1",
        *(f"pass@{k}" for k in ks if k != 1),
        *(f"maj@{k}" for k in ks),
        "mean tokens",
        "median",
        "p90",
        "truncated",
        *(["spent tokens"] if "mean_spent_tokens" in result["overall"] else []),
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), _row("all", result["overall"], ks)]
    lines += [_row(f"level {lv}", s, ks) for lv, s in result.get("levels", {}).items()]
    return lines


def markdown(metrics: dict) -> str:
    """The eval as Markdown: settings, the metrics table, the budget curve and the robustness probe."""
    cfg, ks = metrics["config"], metrics["ks"]
    sampling = (
        "greedy" if cfg["temperature"] == 0 else f"temperature {cfg['temperature']}, top_p {cfg['top_p']}"
    )
    lines = [
        f"### Eval of `{cfg['model']}`",
        "",
        f"Data: `{cfg['data']['source']}` · {cfg['n']} sample(s) per prompt ({sampling}) · "
        f"max {cfg['max_new_tokens']} new tokens · backend {cfg['backend']}"
        + (f" · search {_search(cfg['search'])}" if "search" in cfg else ""),
        "",
        *_table(metrics, ks),
        "",
        "Accuracy vs token budget (a completion that does not end within the budget counts as wrong):",
        "",
        "| budget | " + " | ".join(str(p["budget"]) for p in metrics["budget_curve"]) + " |",
        "|---|" + "---|" * len(metrics["budget_curve"]),
        "| pass@1 | " + " | ".join(f"{p['accuracy']:.1%}" for p in metrics["budget_curve"]) + " |",
    ]
    if "robustness" in metrics:
        rob = metrics["robustness"]
        lines += [
            "",
            "Robustness (same problems, numbers re-sampled at the same level):",
            "",
            "| | original | perturbed | drop |",
            "|---|---|---|---|",
        ]
        for label, r in [
            ("all", rob["overall"]),
            *((f"level {lv}", r) for lv, r in rob.get("levels", {}).items()),
        ]:
            lines.append(f"| {label} | {r['original']:.1%} | {r['perturbed']:.1%} | {r['drop']:+.1%} |")
    return "\n".join(lines) + "\n"


def _search(spec: dict) -> str:
    """``bon of 4 candidates, verifier `DIR```; ``prm-beam (beam width 4, expansions 3), verifier `DIR```."""
    if "candidates" in spec:
        return f"{spec['name']} of {spec['candidates']} candidates, verifier `{spec['verifier']}`"
    budgets = [f"{k.replace('_', ' ')} {v}" for k, v in spec.items() if k not in ("name", "verifier")]
    checked_by = f", verifier `{spec['verifier']}`" if spec.get("verifier") else ""
    return f"{spec['name']} ({', '.join(budgets)}){checked_by}"


def plot_budget_curve(metrics: dict, path: Path) -> Path:
    """pass@1 against the token budget (log2 x axis), the perturbed split dashed when present."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, curve, style in [
        ("original", metrics["budget_curve"], "-o"),
        ("perturbed", metrics.get("variants", {}).get("perturbed", {}).get("budget_curve"), "--s"),
    ]:
        if curve:
            ax.plot([p["budget"] for p in curve], [p["accuracy"] for p in curve], style, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("token budget (max new tokens)")
    ax.set_ylabel("pass@1")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"Accuracy vs token budget: {Path(metrics['config']['model']).name}")
    return _save(fig, ax, path)


def _save(fig, ax, path: Path) -> Path:
    import matplotlib.pyplot as plt

    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


ORACLE = "oracle"


def _rows(results: dict) -> list[tuple[str, dict]]:
    """``(label, metrics)`` per model, then the oracle's."""
    rows = list(results["models"].items())
    if "oracle" in results:
        rows.append((ORACLE, results["oracle"]))
    return rows


def comparison_table(results: dict, title: str = "") -> str:
    """One row per model: overall accuracy / mean tokens / truncation, then ``acc · tokens`` per level."""
    rows = _rows(results)
    levels = sorted(rows[0][1]["levels"], key=int)
    head = ["model", "accuracy", "mean tokens", "truncated", *(f"level {lv}" for lv in levels)]
    lines = [f"### {title}" if title else "", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, summary in rows:
        o = summary["overall"]
        cells = [label, f"{o['pass@1']:.1%}", f"{o['mean_tokens']:.1f}", f"{o['truncation_rate']:.1%}"]
        for lv in levels:
            s = summary["levels"][lv]
            style = f" ({s['style']})" if "style" in s else ""
            cells.append(f"{s['pass@1']:.0%} · {s['mean_tokens']:.0f}{style}")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Cells per level: accuracy · mean completion tokens (greedy decoding, held-out split). "
                 "Oracle: per level, the shortest trace style the SFT model gets right "
                 "when forced into it (style in brackets).")
    return "\n".join(lines).lstrip() + "\n"


def comparison_plot(results: dict, path: Path) -> Path:
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
        ys = [summary["levels"][lv]["pass@1"] for lv in sorted(summary["levels"], key=int)]
        ax.scatter(xs, ys, label=label, marker=markers.get(label, "s"), color=colors[i % len(colors)], s=50)
        for lv, x, y in zip(sorted(summary["levels"], key=int), xs, ys, strict=True):
            ax.annotate(f"L{lv}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        if label.startswith("grpo") and "sft" in rows:
            for lv in summary["levels"]:
                start = rows["sft"]["levels"][lv]
                ax.annotate(
                    "",
                    xy=(summary["levels"][lv]["mean_tokens"], summary["levels"][lv]["pass@1"]),
                    xytext=(start["mean_tokens"], start["pass@1"]),
                    arrowprops={"arrowstyle": "->", "color": colors[i % len(colors)], "alpha": 0.6},
                )
    ax.set_xlabel("mean completion tokens")
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy vs tokens per difficulty level (SFT -> GRPO)")
    return _save(fig, ax, path)


def write_comparison(results: dict, out_dir: Path, title: str = "") -> str:
    """Write ``table.md`` and ``plot.png`` next to ``results.json``; returns the table."""
    table = comparison_table(results, title)
    (out_dir / "table.md").write_text(table)
    comparison_plot(results, out_dir / "plot.png")
    return table
