"""Each level's *sampled* trace-style mix over GRPO training, read from TRL's completions log.

The eval shows where a run ended (greedy answers); this shows how it got there: per logged step
(``<unit>/completions/completions_<step>.parquet``, what TRL writes with ``log_completions``), per level, the
share of each trace style among the generation round's samples, how often that style was right and, where
TRL logged it, the style's mean GRPO advantage (the force on that style's opening: the sign says whether the
update made it likelier at that level). It is
how seed 39's stall was read (its runs in docs/demo-seeds-*-seed39.md): level 2's concise samples were
right, the direct ones leaking in from level 1 were not, and (at lr 1e-4) concise grew at level 3 as it grew
at level 2.
Levels come from the run's ``data/grpo.jsonl`` (prompt -> row), styles from the trace openings.
"""

from __future__ import annotations

import json
from pathlib import Path

from rl_reasoner.data.arith import STYLE_PREFIX, trace_style

ORDER = {style: i for i, style in enumerate([*STYLE_PREFIX, "other"])}  # column order of a cell

Trajectory = dict[str, dict[str, dict[str, list[float]]]]  # step -> level -> style -> [share, right(, adv)]


def sampled_styles(run_dir: Path, unit: str = "grpo") -> Trajectory:
    """Per logged step and level: ``{style: [share of the samples, share of those right, mean advantage]}``.

    ({} when nothing was logged; the advantage is left out for logs without TRL's ``advantage`` column.)
    """
    import pyarrow.parquet as pq

    logs = sorted((run_dir / unit / "completions").glob("*.parquet"))
    if not logs:
        return {}
    with open(run_dir / "data" / "grpo.jsonl") as f:
        rows = {row["prompt"]: row for row in map(json.loads, f)}
    out: Trajectory = {}
    for path in logs:
        table = pq.read_table(path)
        wanted = [
            c for c in ("step", "prompt", "completion", "accuracy", "advantage") if c in table.column_names
        ]
        items = table.select(wanted).to_pylist()
        if not items:
            continue
        step, counts = str(items[0]["step"]), {}
        for item in items:
            row = rows.get(item["prompt"], {})
            key = (str(row.get("level", "?")), trace_style(row, item["completion"]) or "other")
            seen = counts.setdefault(key, [0, 0.0, 0.0])
            seen[0], seen[1] = seen[0] + 1, seen[1] + (item["accuracy"] or 0.0)
            seen[2] += item.get("advantage") or 0.0
        totals: dict[str, int] = {}
        for (level, _), (n, *_) in counts.items():
            totals[level] = totals.get(level, 0) + n
        for (level, style), (n, right, adv) in sorted(
            counts.items(), key=lambda kv: (kv[0][0], ORDER[kv[0][1]])
        ):
            cell = [n / totals[level], right / n] + ([adv / n] if "advantage" in wanted else [])
            out.setdefault(step, {}).setdefault(level, {})[style] = cell
    return dict(sorted(out.items(), key=lambda kv: int(kv[0])))


def multipliers(run_dir: Path, unit: str = "grpo") -> dict[str, dict[str, float]]:
    """Per logged step and level, the length constraint's multiplier λ (``constrained_bonus``'s
    ``length/<reward>_level_<L>_multiplier`` in the newest checkpoint's log); {} for a run without one."""
    states = sorted(
        (run_dir / unit).glob("checkpoint-*/trainer_state.json"), key=lambda p: int(p.parent.name[11:])
    )
    if not states:
        return {}
    out: dict[str, dict[str, float]] = {}
    for entry in json.loads(states[-1].read_text()).get("log_history", []):
        for key, value in entry.items():
            if key.startswith("length/") and key.endswith("_multiplier") and "_level_" in key:
                level = key[: -len("_multiplier")].rsplit("_level_", 1)[1]
                out.setdefault(str(entry["step"]), {})[level] = value
    return out


def trajectory_lines(runs: list[dict]) -> list[str]:
    """A page section: per seed, a table of logged steps x levels (empty when no run logged samples)."""
    logged = [run for run in runs if run.get("sampled_styles")]
    if not logged:
        return []
    lines = [
        "",
        "## Sampled trace styles during GRPO",
        "",
        "Per logged step and level, each style's share of the round's samples, how often it was right "
        "and, where logged, its mean GRPO advantage (`share % · right % · advantage`; d direct, c concise, "
        "v verbose, r draft, o no style opening), then the level's length multiplier λ after that step "
        "where the run logged one.",
    ]
    for run in logged:
        steps = run["sampled_styles"]
        levels = sorted({lv for by_level in steps.values() for lv in by_level})
        header = "| step | " + " | ".join(f"level {lv}" for lv in levels) + " |"
        lines += ["", f"Seed {run['seed']}:", "", header]
        lines.append("|---|" + "---|" * len(levels))
        lams = run.get("multipliers") or {}
        for step, by_level in steps.items():
            cells = [_cell(by_level.get(lv, {}), lams.get(step, {}).get(lv)) for lv in levels]
            lines.append(f"| {step} | " + " | ".join(cells) + " |")
    return lines


def _cell(styles: dict[str, list[float]], lam: float | None = None) -> str:
    short = {"direct": "d", "concise": "c", "verbose": "v", "draft": "r"}
    parts = [
        f"{short.get(s, 'o')} {v[0]:.0%}·{v[1]:.0%}" + (f"·{v[2]:+.1f}" if len(v) > 2 else "")
        for s, v in styles.items()
    ]
    return " ".join(parts + ([f"λ {lam:.2f}"] if lam is not None else []))
