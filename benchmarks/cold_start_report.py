"""Numbers and page of ``benchmarks/cold_start.py``: per part, its targets (``{name: {value, bound, met}}``)
and findings from the collected arms (one dict per seed: ``sft``, ``forced``, ``data``, ...), and the
generated ``docs/cold-start.md``."""

from __future__ import annotations

import json
from statistics import fmean

NOISE = 0.1  # the RevThink part's corruption probability


def _mean(values: list[float]) -> float:
    return round(fmean(values), 4)


def target(value: float, bound: float, met: bool) -> dict:
    return {"value": round(value, 4), "bound": round(bound, 4), "met": bool(met)}


def at(arm: list[dict], level: str, what: str = "accuracy", model: str = "sft") -> list[float]:
    """Per seed, an arm's number at ``level`` (``model``: sft, or a forced style's name)."""
    return [(s[model] if model == "sft" else s["forced"][model])["levels"][level][what] for s in arm]


def diff(a: list[float], b: list[float]) -> list[float]:
    return [x - y for x, y in zip(a, b, strict=True)]


def revthink_numbers(arms: dict[str, list[dict]], kept: list[dict] | None = None) -> tuple[dict, dict]:
    """Targets and findings of the RevThink part (hardest level; mean over seeds, worst seed in findings);
    ``kept``: per seed, the data stage's RevThink summary of the kept-fraction check (see cold_start.py)."""
    hard = max(arms["forward"][0]["sft"]["levels"], key=int)
    fwd, full = at(arms["forward"], hard), at(arms["full"], hard)
    targets = {
        f"forward-only at level {hard} <= 95 % (the regime is low-data)": target(
            fmean(fwd), 0.95, fmean(fwd) <= 0.95
        ),
        f"full >= forward-only + 5 pt at level {hard}": target(
            fmean(diff(full, fwd)), 0.05, fmean(diff(full, fwd)) >= 0.05
        ),
    }
    if "forward-3n" in arms:
        gap = fmean(diff(full, at(arms["forward-3n"], hard)))
        targets[f"full on N >= forward-only on 3N at level {hard} (equal rows)"] = target(gap, 0.0, gap >= 0)
    if "full-noise-filtered" in arms:
        # the filter's kept fraction: from the data-stage check on 3000 problems when there is one (the
        # trained arm's 300 problems give it a standard error of 2.3 pt, more than the bound)
        checked = kept or [s["data"]["revthink"] for s in arms["full-noise-filtered"]]
        fraction = fmean(k["kept_fraction"] for k in checked)
        off, squared = abs(fraction - (1 - NOISE) ** 2), (1 - NOISE) ** 2
        where = f"data stage, {checked[0].get('problems')} problems per seed"
        targets[f"kept fraction with noise {NOISE} within 2 pt of (1-p)^2 = {squared:.2f} ({where})"] = (
            target(off, 0.02, off <= 0.02) | {"kept_fraction": round(fraction, 4)}
        )
    if "full-noise-unfiltered" in arms:
        gap = fmean(diff(at(arms["full-noise-filtered"], hard), at(arms["full-noise-unfiltered"], hard)))
        targets[f"noise {NOISE}: filtered >= unfiltered at level {hard}"] = target(gap, 0.0, gap >= 0)
    findings = {
        f"{arm} - forward-only at level {hard}, pt (mean, worst seed)": [
            round(100 * fmean(d), 1),
            round(100 * min(d), 1),
        ]
        for arm in ("full", "forward-question", "forward-backward")
        if arm in arms
        for d in [diff(at(arms[arm], hard), fwd)]
    }
    if "full-noise-filtered" in arms:
        findings["kept fraction per seed: of the trained filtered arm's problems, of the check's"] = [
            [s["data"]["revthink"]["kept_fraction"], k["kept_fraction"]]
            for s, k in zip(arms["full-noise-filtered"], checked, strict=True)
        ]
    levels = list(arms["forward"][0]["sft"]["levels"])
    gains = {lv: fmean(diff(at(arms["full"], lv), at(arms["forward"], lv))) for lv in levels}
    findings["full - forward-only by level, pt"] = {lv: round(100 * g, 1) for lv, g in gains.items()}
    findings["level with the largest gain"] = max(gains, key=gains.get)
    return targets, findings


def draft_numbers(arms: dict[str, list[dict]]) -> tuple[dict, dict]:
    """Targets and findings of the Chain-of-Draft part (forced styles of one SFT model per seed)."""
    seeds = arms["four-styles"]
    hard = max(seeds[0]["sft"]["levels"], key=int)
    gap = diff(at(seeds, hard, model="draft"), at(seeds, hard, model="direct"))
    ratio = [s["forced"]["draft"]["tokens"] / s["forced"]["concise"]["tokens"] for s in seeds]
    targets = {
        f"forced draft >= forced direct + 50 pt at level {hard} (worst seed)": target(
            min(gap), 0.5, min(gap) >= 0.5
        ),
        "forced draft tokens <= 0.6 x forced concise (worst seed)": target(
            max(ratio), 0.6, max(ratio) <= 0.6
        ),
    }
    levels = list(seeds[0]["sft"]["levels"])
    findings = {
        "forced accuracy by level (mean over seeds)": {
            style: {lv: _mean(at(seeds, lv, model=style)) for lv in levels} for style in seeds[0]["forced"]
        },
        "forced tokens by level (mean over seeds)": {
            style: {lv: round(fmean(at(seeds, lv, "tokens", style)), 1) for lv in levels}
            for style in seeds[0]["forced"]
        },
        "drafts whose every column value is right, by level": {
            lv: _mean([s["draft_columns_right"][lv] for s in seeds]) for lv in levels
        },
    }
    return targets, findings


def teacher_numbers(arms: dict[str, list[dict]], oracle_tokens: list[float]) -> tuple[dict, dict]:
    """Targets and findings of the shortest-correct-of-k part (students from the base model, no RL)."""
    hard = max(arms["k8"][0]["sft"]["levels"], key=int)
    acc = {arm: [s["sft"]["accuracy"] for s in seeds] for arm, seeds in arms.items()}
    tokens = {arm: fmean(s["sft"]["tokens"] for s in seeds) for arm, seeds in arms.items()}
    x_oracle = max(s["sft"]["tokens"] / o for s, o in zip(arms["k8"], oracle_tokens, strict=True))
    falls = tokens["k1"] > tokens["k4"] > tokens["k8"]
    spread = max(fmean(acc[k]) for k in ("k1", "k4", "k8")) - min(fmean(acc[k]) for k in ("k1", "k4", "k8"))
    loss = fmean(diff(at(arms["k8"], hard), at(arms["k8-shortest-unverified"], hard)))
    rows = [s["selection"] for s in arms["k8"]]
    targets = {
        "k=8 student accuracy >= 99 % (worst seed)": target(min(acc["k8"]), 0.99, min(acc["k8"]) >= 0.99),
        "k=8 student tokens <= 1.25 x the teacher's oracle (worst seed)": target(
            x_oracle, 1.25, x_oracle <= 1.25
        ),
        "tokens fall k=1 -> 4 -> 8 with accuracy within 1 pt": target(spread, 0.01, falls and spread <= 0.01),
        f"shortest without the verifier loses >= 20 pt at level {hard}": target(loss, 0.2, loss >= 0.2),
        "every kept row verified and the shortest verified sample of its prompt (re-checked here)": target(
            sum(min(r["verified"], r.get("shortest", 0)) for r in rows),
            sum(r["rows"] for r in rows),
            all(r["verified"] == r.get("shortest") == r["rows"] for r in rows),
        ),
    }
    findings = {
        "accuracy (mean over seeds)": {k: _mean(v) for k, v in acc.items()},
        "accuracy (worst seed)": {k: round(min(v), 4) for k, v in acc.items()},
        "tokens (mean over seeds)": {k: round(v, 1) for k, v in tokens.items()},
        "tokens / the teacher's oracle (worst seed)": {
            k: round(max(s["sft"]["tokens"] / o for s, o in zip(seeds, oracle_tokens, strict=True)), 4)
            for k, seeds in arms.items()
        },
        "teacher selection (per seed)": {
            k: [s["data"].get("teacher") for s in seeds] for k, seeds in arms.items()
        },
    }
    for arm in ("k8-reliable", "k1-level", "k4-level", "k8-level"):  # beyond the issue: teacher.py rules
        if arm not in arms:
            continue
        checked = [s["selection"] for s in arms[arm]]
        findings[f"{arm}: every kept row verified and the rule's pick (re-checked here)"] = {
            "rows": sum(r["rows"] for r in checked), "verified": sum(r["verified"] for r in checked),
            "rule's pick": sum(r["shortest"] for r in checked),
        }
    if "k8-level" in arms:  # the k=8 bounds, met or not by the level-aware selection
        worst = min(acc["k8-level"])
        ratio = max(s["sft"]["tokens"] / o for s, o in zip(arms["k8-level"], oracle_tokens, strict=True))
        findings["k8-level: the k=8 bounds (accuracy >= 99 %, tokens <= 1.25 x oracle, worst seed)"] = {
            "accuracy": round(worst, 4), "x_oracle": round(ratio, 4), "met": worst >= 0.99 and ratio <= 1.25,
            "reliable_tokens": [s["selection"].get("reliable_tokens") for s in arms["k8-level"]],
        }
    if all(f"k{k}-level" in arms for k in (1, 4, 8)):  # the k sweep again, each k selected level_reliable
        sweep = [f"k{k}-level" for k in (1, 4, 8)]
        means = [fmean(acc[k]) for k in sweep]
        falls = tokens[sweep[0]] > tokens[sweep[1]] > tokens[sweep[2]]
        findings["level_reliable: tokens fall k=1 -> 4 -> 8 with accuracy within 1 pt"] = {
            "tokens": [round(tokens[k], 1) for k in sweep], "accuracy": [round(a, 4) for a in means],
            "spread": round(max(means) - min(means), 4), "met": falls and max(means) - min(means) <= 0.01,
        }
    return targets, findings


def arm_table(arms: dict[str, list[dict]]) -> list[str]:
    """One row per arm: SFT rows, accuracy (mean and worst seed), per level mean accuracy and tokens, and the
    last train loss when the part recorded it (a mean only when every seed has one)."""
    levels = list(next(iter(arms.values()))[0]["sft"]["levels"])
    with_loss = any("train_loss" in s for seeds in arms.values() for s in seeds)
    lines = [
        "| arm | SFT rows | accuracy (mean / worst seed) | tokens | "
        + " | ".join(f"level {lv}" for lv in levels)
        + (" | last train loss |" if with_loss else " |"),
        "|---" * (4 + len(levels) + with_loss) + "|",
    ]
    for arm, seeds in arms.items():
        acc = [s["sft"]["accuracy"] for s in seeds]
        cells = [f"{100 * fmean(at(seeds, lv)):.1f}% · {fmean(at(seeds, lv, 'tokens')):.0f}" for lv in levels]
        losses = [s.get("train_loss") for s in seeds]
        loss = (f" {fmean(losses):.3f} |" if None not in losses else " — |") if with_loss else ""
        lines.append(
            f"| {arm} | {seeds[0]['data'].get('sft', '')} | {100 * fmean(acc):.1f}% / "
            f"{100 * min(acc):.1f}% | {fmean(s['sft']['tokens'] for s in seeds):.1f} | "
            + " | ".join(cells)
            + " |"
            + loss
        )
    return lines


def forced_table(seeds: list[dict]) -> list[str]:
    """The draft part: the one SFT model forced into each style, mean over seeds."""
    levels = list(seeds[0]["sft"]["levels"])
    lines = [
        "| forced style | accuracy | tokens | " + " | ".join(f"level {lv}" for lv in levels) + " |",
        "|---" * (3 + len(levels)) + "|",
    ]
    for style in seeds[0]["forced"]:
        acc, tokens = (
            fmean(s["forced"][style]["accuracy"] for s in seeds),
            fmean(s["forced"][style]["tokens"] for s in seeds),
        )
        cells = [
            f"{100 * fmean(at(seeds, lv, model=style)):.1f}% · {fmean(at(seeds, lv, 'tokens', style)):.0f}"
            for lv in levels
        ]
        lines.append(f"| {style} | {100 * acc:.1f}% | {tokens:.1f} | " + " | ".join(cells) + " |")
    return lines


ABOUT = {
    "revthink": "RevThink (cold-start-revthink.yaml): SFT on 300 problems (levels 2-3, add and sub), 1200 "
    "optimizer steps of 32 rows for every arm (the data-limited regime: forward-only memorises its rows); "
    "forward-3n has 900 problems (as many rows as full). The step-limited regime of 1000 problems x 600 "
    "steps, where the full objectives lost: docs/cold-start-revthink-1000.md. The noise filter's kept "
    "fraction is also checked on 3000 problems per seed (data stage only).",
    "draft": "Chain-of-Draft (cold-start-draft.yaml): one SFT model on the four styles at levels 1-4 (4800 "
    "steps of 32 rows), forced into each; the draft's tag is `D:` (it was `Draft:`, 4 more tokens).",
    "teacher": "Shortest correct of k (cold-start-teacher.yaml): students trained from the base model on the "
    "teacher's selected samples, no RL. One draw of 8 samples per prompt and seed; k1 and k4 select from its "
    "first 1 and 4. Not in the issue: k8-reliable selects `shortest_reliable` (the shortest correct sample "
    "longer than every wrong one of its prompt), k8-level `level_reliable` (the shortest correct sample at "
    "least as long as its level's reliable length: where the first tenth of the level's samples, by length, "
    "starts whose accuracy is within `margin` (0.05) of the level's best tenth).",
}


def lanes_line(lanes: dict | None) -> list[str]:
    """How the seeds shared the cores (absent in results from before the lanes)."""
    if not lanes or lanes["lanes"] == 1:
        return []
    return [f"The seeds ran side by side: {lanes['lanes']} lane(s) of {lanes['torch_threads_per_lane']} "
            f"torch thread(s) on {lanes['cores']} cores, so the stages' minutes add up to more than the "
            "wall time."]


def render(report: dict) -> str:
    """docs/cold-start.md: per part its command, commit, machine and time, its table, targets and findings."""
    lines = [
        "# Cold-start data: RevThink, Chain-of-Draft, shortest correct of k (generated)",
        "",
        "Each arm of each seed is its own data and SFT run "
        "(`rl-reasoner run RECIPE --stages data,sft,eval`), greedy decoding on the held-out split. "
        "Cells: accuracy · mean tokens; means over the seeds.",
    ]
    for part, body in report["parts"].items():
        lines += ["", f"## {part}", "", body.get("about", ABOUT[part]), ""]  # as it was when the part ran
        lines += [
            f"Command: `{body['command']}` at commit `{body['git_commit']}`, "
            f"{body['machine']['cpus']} CPU cores ({body['machine']['platform']}), seeds {body['seeds']}, "
            f"{body['wall_seconds'] / 60:.1f} min wall in this invocation; its runs' stages took "
            f"{body.get('run_seconds', 0) / 60:.1f} min in all (finished runs of an earlier invocation are "
            "reused, not rerun).",
            *lanes_line(body.get("lanes")),
            "",
        ]
        lines += forced_table(body["arms"]["four-styles"]) if part == "draft" else arm_table(body["arms"])
        lines += ["", "Targets:", ""]
        lines += [
            f"- {name}: {t['value']:g} vs {t['bound']:g} -> {'met' if t['met'] else 'NOT met'}"
            for name, t in body["targets"].items()
        ]
        lines += ["", "Findings (reported either way):", ""]
        lines += [f"- {name}: {json.dumps(value)}" for name, value in body["findings"].items()]
    return "\n".join(lines) + "\n"
