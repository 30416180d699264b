"""Markdown page for ``benchmarks/verify_bench.py``'s results (``docs/verify-results.md``).

Its last section is ``docs/verify-differences.md`` (hand-written: each case where ours differs from
Math-Verify on purpose, and why), copied in at each run so the page holds the list next to the numbers.
"""

from __future__ import annotations

from pathlib import Path

DIFFERENCES = Path(__file__).resolve().parents[1] / "docs" / "verify-differences.md"


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


def _timing_rows(t: dict) -> list[str]:
    """The time table of one set (``timing_realistic`` or the second set's ``timing``)."""
    lines = ["| verifier | mean ms | p50 ms | max ms |", "|---|---|---|---|"]
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
    if "math_verify" in t:
        mv = t["math_verify"]["mean_ms"]
        ratios = ", ".join(f"{k} {t[k]['mean_ms'] / mv:.2f}x" for k in ("ours_cold", "ours_cold_one_batch"))
        lines += ["", f"Ours / Math-Verify mean time per case: {ratios}."]
    return lines


def _timing_md(res: dict) -> list[str]:
    t = res["timing_realistic"]
    cleared = ", ".join(res["caches_cleared"]) or "none found"
    return [
        f"## Time per case (realistic completions: reasoning + `\\boxed{{}}`, n={t['ours_cold']['n']})",
        "",
        *_timing_rows(t),
        "",
        f"Caches cleared for the cold rows: {cleared}, and each worker's parse cache (a round trip each",
        "worker acknowledges, so the timed call starts right after it, as Math-Verify's calls follow each",
        "other). Except on fresh workers, ANTLR's prediction (DFA) cache stays warm, as it is in a trainer",
        "after its first steps and in Math-Verify's process here.",
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


def _code(text: str | None) -> str:
    """``text`` as a one-line code span."""
    return "`None`" if text is None else "`" + text.replace("`", "'").replace("\n", "\\n") + "`"


def _mv_source_md(res: dict) -> list[str]:
    mv = res["math_verify_set"]
    src = mv["source"]
    return [
        f"## Second labeled set: Math-Verify's own tests ({mv['n_cases']} cases)",
        "",
        f"Source: {src['repository']} at commit `{src['commit']}` ({src['commit_date']}; package version "
        f"{src['package_version']} in that commit), its `tests/test_*.py` read with `ast` (never run) by "
        f"`{src['extracted_by']}` into `benchmarks/data/math_verify_cases.jsonl`; licence: {src['licence']}.",
        f"Math-Verify run here: {res['versions']['math-verify']}, in this process. Ours: `verify_batch` on",
        "gold and prediction exactly as the test passes them. Math-Verify as tested: the test's own",
        "comparison (`compare_strings` with the test's extraction targets, precision and options, or",
        "`verify(parse(gold), parse(pred))`). Math-Verify defaults: `parse` + `verify` as on the first set.",
        "",
    ]


def _mv_agreement_md(res: dict) -> list[str]:
    mv = res["math_verify_set"]
    skipped: dict[str, int] = {}
    for s in mv["skipped"]:
        skipped[s["file"]] = skipped.get(s["file"], 0) + s["count"]
    lines = [
        "| test file | kept | skipped | ours | Math-Verify as tested | Math-Verify defaults |",
        "|---|---|---|---|---|---|",
    ]
    for name, kept in mv["kept"].items():
        row = mv["agreement"].get(name, {})
        cells = [_pct(row.get(k)) if row else "-" for k in ("ours", "math_verify", "math_verify_defaults")]
        lines.append(f"| {name} | {kept} | {skipped.get(name, 0)} | {' | '.join(cells)} |")
    for group, n_skipped in (("overall", sum(skipped.values())), ("tests without options", "-")):
        row = mv["agreement"][group]
        cells = [_pct(row.get(k)) for k in ("ours", "math_verify", "math_verify_defaults")]
        lines.append(f"| **{group}** | {row['n']} | {n_skipped} | {' | '.join(cells)} |")
    counters = ", ".join(f"{k} {v}" for k, v in mv["counters"].items())
    lines += [
        "",
        "Tests without options: `compare_strings` with its defaults (`match_types` latex + expr, precision",
        "6, strict, no set/relation comparison) or `verify(parse(gold), parse(pred))`.",
        f"Ours: one `verify_batch` call, {mv['batch_s']:.1f} s; counters: {counters}.",
        "",
        "Skipped (not a gold/prediction verdict with literal values):",
        "",
        *(f"- {s['file']}::{s['test']}: {s['count']}, {s['reason']}" for s in mv["skipped"]),
        "",
    ]
    return lines


def _mv_timing_md(res: dict) -> list[str]:
    t = res["math_verify_set"]["timing"]
    return [
        f"### Time per case, Math-Verify's tests ({t['ours_cold']['n']} cases)",
        "",
        *_timing_rows(t),
        "",
        "Math-Verify has no batch call: its row is one call per case, the test's own comparison. Ours: the",
        "same cache clearing as on the first set.",
        "",
    ]


def _mv_families_md(res: dict) -> list[str]:
    fams = res["math_verify_set"]["families"]
    cols = [k for k in ("ours", "math_verify", "math_verify_defaults") if k in fams[0]["wrong"]]
    names = {"ours": "ours", "math_verify": "Math-Verify as tested", "math_verify_defaults": "MV defaults"}
    lines = [
        "### Families of the cases ours gets wrong (facts about the inputs; a case can be in several)",
        "",
        f"| family | what | cases | {' | '.join(names[c] + ' wrong' for c in cols)} |",
        "|---|---|---|" + "---|" * len(cols),
    ]
    for f in fams:
        wrong = " | ".join(str(f["wrong"][c]) for c in cols)
        lines.append(f"| {f['family']} | {f['description']} | {f['n']} | {wrong} |")
    lines.append("")
    for f in (f for f in fams if f["examples"]):
        lines.append(f"- **{f['family']}**:")
        for e in f["examples"]:
            lines.append(
                f"  - {e['id']}: gold {_code(e['gold'])}, prediction {_code(e['prediction'])}, "
                f"extracted {_code(e['extracted'])}: expected {e['expected']}, got {e['got']}"
            )
    return [*lines, ""]


def _mv_wrong_md(res: dict) -> list[str]:
    wrong = res["math_verify_set"]["wrong"]
    lines = [f"Ours disagrees on {len(wrong['ours'])} cases (all in `benchmarks/results/verify.json`).", ""]
    for name, title in (
        ("math_verify", "Math-Verify as tested"),
        ("math_verify_defaults", "Math-Verify defaults"),
    ):
        if name not in wrong:
            continue
        lines += [f"### Disagreements, Math-Verify's tests: {title} ({len(wrong[name])})", ""]
        for w in wrong[name]:
            lines.append(
                f"- {w['note']}: gold {_code(w['gold'])}, extracted {_code(w['extracted'])}: "
                f"expected {w['expected']}, got {w['got']}"
            )
        lines.append("")
    return lines


def _math_verify_set_md(res: dict) -> list[str]:
    if "math_verify_set" not in res:
        return []
    sections = (_mv_source_md, _mv_agreement_md, _mv_timing_md, _mv_families_md, _mv_wrong_md)
    return [line for section in sections for line in section(res)]


def _heldout_md(res: dict) -> list[str]:
    if "heldout_set" not in res:
        return []
    h = res["heldout_set"]
    lines = [
        f"## Held-out answer pairs ({h['n_cases']} cases, `{h['path']}`)",
        "",
        "Written after the verifier by a helper that had not read it or the other sets, committed before the",
        "first measurement, never used to change the verifier.",
        "",
        "| category | n | ours | Math-Verify |",
        "|---|---|---|---|",
    ]
    for group, row in h["agreement"].items():
        name = f"**{group}**" if group == "overall" else group
        lines.append(f"| {name} | {row['n']} | {_pct(row['ours'])} | {_pct(row.get('math_verify'))} |")
    lines += ["", "### Time per case, held-out pairs", "", *_timing_rows(h["timing"]), ""]
    for name, wrong in h["wrong"].items():
        lines += [f"### Disagreements, held-out pairs: {'Math-Verify' if name == 'math_verify' else 'ours'} "
                  f"({len(wrong)})", ""]  # fmt: skip
        lines += [
            f"- [{w['category']}] gold {_code(w['gold'])}, extracted {_code(w['extracted'])}: "
            f"expected {w['expected']}, got {w['got']} ({w['note']})"
            for w in wrong
        ]
        lines.append("")
    return lines


def _differences_md(res: dict) -> list[str]:
    if not DIFFERENCES.exists():
        return []
    body = DIFFERENCES.read_text(encoding="utf-8").splitlines()
    title = body[0].lstrip("# ") if body and body[0].startswith("# ") else "Deliberate differences"
    return [f"## {title} (`docs/verify-differences.md`)", *body[1:], ""]


def render(res: dict) -> str:
    sections = (
        _header_md,
        _agreement_md,
        _timing_md,
        _adversarial_md,
        _wrong_md,
        _math_verify_set_md,
        _heldout_md,
        _differences_md,
    )
    return "\n".join(line for section in sections for line in section(res)).rstrip() + "\n"
