"""Markdown page for ``benchmarks/verify_bench.py``'s results (``docs/verify-results.md``)."""

from __future__ import annotations


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _header_md(res: dict) -> list[str]:
    packages = ", ".join(f"{k} {v}" for k, v in res["versions"].items())
    return [
        "# Verifier results (generated)",
        "",
        f"Command: `{res['command']}` at commit `{res['commit']}`, {res['date']}, "
        f"{res['cpu_count']} CPU cores, Python {res['python']}; {packages}.",
        "",
    ]


def _agreement_md(res: dict) -> list[str]:
    lines = [
        f"## Agreement with the labels ({res['n_cases']} cases, `tests/rewards/verify/verify_cases.jsonl`)",
        "",
        "| category | n | ours | Math-Verify |",
        "|---|---|---|---|",
    ]
    for group, row in res["agreement"].items():
        name = f"**{group}**" if group == "overall" else group
        lines.append(f"| {name} | {row['n']} | {_pct(row['ours'])} | {_pct(row.get('math_verify'))} |")
    counters = ", ".join(f"{k} {v}" for k, v in res["labeled_counters"].items())
    lines += ["", f"Ours: one `verify_batch` call, {res['labeled_batch_s']:.1f} s; counters: {counters}."]
    return [*lines, ""]


def _timing_md(res: dict) -> list[str]:
    t = res["timing_realistic"]
    lines = [
        f"## Time per case (realistic completions: reasoning + `\\boxed{{}}`, n={t['ours_cold']['n']})",
        "",
        "| verifier | mean ms | p50 ms | max ms |",
        "|---|---|---|---|",
    ]
    labels = {
        "math_verify": "Math-Verify (after one pass over all cases)",
        "ours_cold": "ours, one call per case, result and parse caches cleared before each",
        "ours_warm": "ours, one call per case, cache hits",
    }
    for key, label in labels.items():
        if key in t:
            row = t[key]
            lines.append(f"| {label} | {row['mean_ms']:.2f} | {row['p50_ms']:.2f} | {row['max_ms']:.2f} |")
    for key, label in (
        ("ours_cold_one_batch", "ours, one batch, result and parse caches cleared"),
        ("ours_first_sight_one_batch", "ours, one batch on fresh workers (parser grammar caches cold too)"),
    ):
        lines.append(f"| {label} | {t[key]['mean_ms']:.2f} | - | - |")
    cleared = ", ".join(res["caches_cleared"]) or "none found"
    return [
        *lines,
        "",
        f"Caches cleared for the cold rows: {cleared}, and each worker's parse cache. Except on fresh",
        "workers, ANTLR's prediction (DFA) cache stays warm, as it is in a trainer after its first steps and",
        "in Math-Verify's process here.",
        "",
    ]


def _adversarial_md(res: dict) -> list[str]:
    adv = res["adversarial"]
    lines = [
        f"## Adversarial set, ours ({adv['n_cases']} cases, timeout_s={res['timeout_s']})",
        "",
        "| caller | max latency s | slowest case | over timeout + 0.5 s | injection graded True "
        "| caller peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for caller in ("main_thread", "worker_thread"):
        if caller in adv:
            a = adv[caller]
            over = ", ".join(a["over_deadline"]) or "none"
            injected = ", ".join(a["injection_true"]) or "none"
            lines.append(
                f"| {caller.replace('_', ' ')} | {a['max_latency_s']:.2f} | {a['slowest_case']} | {over} "
                f"| {injected} | {a['peak_rss_mb']:.0f} |"
            )
    side_effects = ", ".join(adv["side_effects"]) or "none"
    return [*lines, "", f"Payload side effects (marker files): {side_effects}.", ""]


def _wrong_md(res: dict) -> list[str]:
    lines = []
    for name, wrong in res["wrong"].items():
        title = "Math-Verify" if name == "math_verify" else "ours"
        lines += [f"## Disagreements: {title} ({len(wrong)})", ""]
        for w in wrong:
            lines.append(
                f"- [{w['category']}] gold `{w['gold']}`, extracted `{w['extracted']}`: "
                f"expected {w['expected']}, got {w['got']} ({w['note']})"
            )
        lines.append("")
    if "math_verify" not in res["wrong"]:
        lines.append("Math-Verify was not run (`--no-math-verify` or not installed).")
    return lines


def render(res: dict) -> str:
    sections = (_header_md, _agreement_md, _timing_md, _adversarial_md, _wrong_md)
    return "\n".join(line for section in sections for line in section(res)).rstrip() + "\n"
