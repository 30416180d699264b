"""docs/influence.md from the report benchmarks/influence.py writes (pure: no model)."""

from __future__ import annotations


def _num(x, fmt: str = ".3f") -> str:
    return "n/a" if x is None else format(x, fmt)


def _targets(report: dict) -> list[str]:
    lines = ["| target | value | bound | met |", "|---|---|---|---|"]
    for name, t in report["targets"].items():
        lines.append(
            f"| {name} | {_num(t['value'], '.4g')} | {t['bound']} | {'yes' if t['met'] else '**no**'} |"
        )
    return lines


def _validity(n: dict, retrain: dict | None) -> list[str]:
    own = n["own_in_top_1pct"]
    lines = [
        "",
        "## Validity",
        "",
        f"{n['documents']} SFT rows scored (all of them); top 1 % = {n['top_1pct_documents']} rows; "
        f"{n['own_documents_per_key']} own rows per key. Queries answered right (greedy): "
        + ", ".join(f"{k} {n['right'][k]} of {n['queries'][k]}" for k in n["queries"])
        + ".",
        "",
        "(a) Right factual queries with one of their own rows in the top 1 %:",
        "",
        "| scores | share |",
        "|---|---|",
        f"| EK-FAC, relative (score / sqrt(self-influence); the targets' ranking) | "
        f"{_num(own.get('ekfac_relative'))} |",
        "| EK-FAC, relative, document ids shuffled (mean of 200) | "
        f"{_num(n['own_in_top_1pct_shuffled_ids'])} |",
        f"| chance (exact) | {_num(n['own_in_top_1pct_chance'])} |",
        "| EK-FAC, relative, every factual query (right or wrong) | "
        f"{_num(n['own_in_top_1pct_all_facts'])} |",
        f"| EK-FAC, raw | {_num(own['ekfac'])} |",
        f"| gradient dot product | {_num(own['grad_dot'])} |",
        f"| gradient cosine | {_num(own['grad_cosine'])} |",
        "",
    ]
    if retrain:
        rise, masked, own = retrain["mean_rise"], retrain["removed"], retrain["removed_own_documents"]
        arms = [arm for arm in ("without-top", "without-random", "without-random-union") if arm in rise]
        lines += [
            f"(b) {retrain['protocol']}. Mean rise of the sampled queries' loss (summed nats over the "
            "answer) and the sampled queries' own rows each arm removed (of 5 per query):",
            "",
            "| arm | rows masked | own rows of the sampled queries | mean loss rise |",
            "|---|---|---|---|",
            *(f"| {arm} | {_count(masked, arm)} | {_count(own, arm)} | {rise[arm]:.3f} |" for arm in arms),
            "",
            "| query | original | " + " | ".join(arm.replace("-", " ") for arm in arms) + " |",
            "|---" * (2 + len(arms)) + "|",
        ]
        losses = retrain["losses"]
        for i, q in enumerate(retrain["queries"]):
            lines.append(f"| {q} | {losses['original'][i]:.3f} | "
                         + " | ".join(f"{losses[arm][i]:.3f}" for arm in arms) + " |")
    else:
        lines.append("(b) not run: no factual query was answered right.")
    lines += ["", "(c) Raw EK-FAC against relative EK-FAC and the gradient baselines (mean over queries):",
              "", "| method | mean Spearman | mean top-k overlap |", "|---|---|---|"]  # fmt: skip
    for method, stats in n["agreement_with_ekfac"].items():
        overlap = next(v for k, v in stats.items() if k.endswith("_overlap_mean"))
        lines.append(f"| {method} | {_num(stats['spearman_mean'])} | {_num(overlap)} |")
    return lines


def _count(value, arm: str):
    """A per-arm count, or the single count results written before the per-query control had."""
    return value.get(arm, "") if isinstance(value, dict) else value if arm == "without-top" else ""


def _findings(n: dict) -> list[str]:
    a, s = n["answer_in_top"], n["steps"]
    ops = [k for k in n["queries"] if k != "fact"]
    lines = ["", "## Replication findings (reported either way)", ""]
    for name, key in (("relative", "correlation"), ("raw", "correlation_raw")):
        if c := n.get(key):
            each = ", ".join(f"{op} {_num(c.get(op))}" for op in ops)
            lines.append(
                "- Influence correlates across arithmetic queries of the same operation more than across "
                f"facts: mean pairwise Pearson correlation of the {name} EK-FAC score rows "
                f"{_num(c['same_operation'])} within an operation ({each}), {_num(c['fact'])} among facts "
                f"(difference {_num(c['difference'])}, p = {_num(c['p_one_sided'], '.4f')}, {c['test']})."
            )
    if o := n.get("operations"):
        lines.append(
            f"- Same operation against two operations: {_num(o['same_operation'])} against "
            f"{_num(o['across_operations'])} (difference {_num(o['difference'])}, p = "
            f"{_num(o['p_one_sided'], '.4f')}, {o['test']})."
        )
    each = ", ".join(f"{op} {a[op]['shown']} of {a[op]['queries']}" for op in ops)
    return [
        *lines,
        f"- The answer among the top documents: facts {a['fact']['shown']} of {a['fact']['queries']}, "
        f"arithmetic {a['arithmetic']['shown']} of {a['arithmetic']['queries']} ({each}; p = "
        f"{_num(a['p_one_sided'], '.4g')}, {a['test']}).",
        f"- Intermediate steps: over {s['queries']} arithmetic queries with column steps, the share of their "
        f"steps written in their top documents is {_num(s['top_mean'])} against {_num(s['random_mean'])} for "
        f"random documents (p = {_num(s['p_one_sided'], '.4g')}, {s['test']}).",
    ]


def _reused(report: dict) -> str:
    """The runs' own time when it exceeds this invocation's wall time (runs of an earlier one reused)."""
    runs = report.get("run_minutes") or 0
    return f" (its runs, some reused from an earlier invocation, took {runs:.1f} min)" if runs > \
        report["wall_minutes"] else ""


def render(report: dict) -> str:
    """The page: command, commit, machine, wall time, targets, the validity numbers and the findings."""
    n = report["numbers"]
    lines = [
        "# Influence functions on the tiny model (generated by benchmarks/influence.py)",
        "",
        f"Command: `{report['command'].strip()}` at commit `{report['git_commit']}`, {report['machine']}, "
        f"{report['wall_minutes']:.1f} min wall{_reused(report)}. Recipe `{report['recipe']}` (calibrated on "
        f"seed 1), seed {report['seed']}. EK-FAC: kronfluence over the decoder's linear layers; a query is "
        "the model's own greedy answer to a held-out prompt; a factual query asks its key in a phrasing none "
        "of that key's own SFT rows uses (other keys' rows do).",
        "",
        "## Targets (issue 16)",
        "",
        *_targets(report),
        *_validity(n, report.get("retrain")),
        *_findings(n),
    ]
    return "\n".join(lines) + "\n"
