"""``metrics.md`` (tables) and ``budget_curve.png`` (accuracy vs token budget) from ``metrics.json``."""

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
        f"max {cfg['max_new_tokens']} new tokens · backend {cfg['backend']}",
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


def plot_budget_curve(metrics: dict, path: Path) -> Path:
    """pass@1 against the token budget (log2 x axis), the perturbed split dashed when present."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, curve, style in [
        ("original", metrics["budget_curve"], "-o"),
        ("perturbed", metrics.get("perturbed", {}).get("budget_curve"), "--s"),
    ]:
        if curve:
            ax.plot([p["budget"] for p in curve], [p["accuracy"] for p in curve], style, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("token budget (max new tokens)")
    ax.set_ylabel("pass@1")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"Accuracy vs token budget: {Path(metrics['config']['model']).name}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
