"""The process-verifier part of ``benchmarks/search.py`` (issue 15): the PRM's checks, each beam against
majority vote at the tokens it spent, their targets and the page's section."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import fmean

PRM = ["--samples-per-prompt", "4", "--prompts", "60", "--continuations", "4", "--steps", "300"]  # ~2400
# prm-beam (width, expansions): 2x2 spends about maj@4's tokens. A 4x4 beam (about maj@16's) ran ~16 s a
# problem on 2 cores (~80 min for 300): it does not fit the bench's 45 minutes.
BEAMS = ((2, 2),)
WIDEST = f"{BEAMS[-1][0]}x{BEAMS[-1][1]}"


def target(value: float, bound: float, met: bool) -> dict:
    return {"value": round(value, 4), "bound": bound, "met": bool(met)}


def prm_numbers(run: Path, curve: dict) -> dict:
    """The process verifier's label and step checks, and each beam against majority vote at its tokens."""
    from rl_reasoner.evaluation.runner import load_metrics

    prm = json.loads((run / "verifier-prm" / "verifier.json").read_text())
    beams = {}
    for width, expansions in BEAMS:
        overall = load_metrics(run / "search" / f"prm-beam-{width}x{expansions}")["overall"]
        spent = overall["mean_spent_tokens"]
        beams[f"{width}x{expansions}"] = {
            "accuracy": overall["pass@1"],
            "spent_tokens": spent,
            "maj_at_equal_tokens": maj_at(curve, spent),
            "beyond_curve": spent > max(c["spent_tokens"] for c in curve.values()),
        }
    return {
        "prm": {
            "mc_agreement_heldout": prm["mc_vs_exact"]["heldout"]["rate"],
            "mc_agreement_all": prm["mc_vs_exact"]["all"]["rate"],
            "step_auroc_exact_heldout": prm["heldout_step_auroc_exact"],
        },
        "prm_beam": beams,
    }


def maj_at(curve: dict, spent: float) -> float:
    """Majority vote's accuracy at ``spent`` tokens per problem: linear in log(tokens) between the two
    sampled k around it; the nearest end of the curve outside it (maj@n when a search spent more: the
    comparison then favours the search).

    >>> maj_at({1: {"spent_tokens": 100, "maj": 0.5}, 4: {"spent_tokens": 400, "maj": 0.7}}, 200)
    0.6
    """
    points = sorted((c["spent_tokens"], c["maj"]) for c in curve.values())
    if spent <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if spent <= x1:
            t = (math.log(spent) - math.log(x0)) / (math.log(x1) - math.log(x0))
            return round(y0 + t * (y1 - y0), 10)
    return points[-1][1]


def prm_targets(seeds: dict[int, dict]) -> dict:
    """Issue 15's process-verifier numbers, means over seeds."""
    mean = lambda f: fmean(f(s) for s in seeds.values())  # noqa: E731
    gain = mean(lambda s: s["prm_beam"][WIDEST]["accuracy"] - s["prm_beam"][WIDEST]["maj_at_equal_tokens"])
    agreement = mean(lambda s: s["prm"]["mc_agreement_heldout"])
    step_auroc = mean(lambda s: s["prm"]["step_auroc_exact_heldout"] or 0.0)
    return {
        "MC step labels agree with exact step correctness >= 95 % (held-out steps)": target(
            agreement, 0.95, agreement >= 0.95
        ),
        "PRM step AUROC against exact step labels >= 0.9 (held-out)": target(
            step_auroc, 0.9, step_auroc >= 0.9
        ),
        f"PRM beam {WIDEST} >= maj vote at equal spent tokens + 3 pt": target(gain, 0.03, gain >= 0.03),
    }


def _prm_lines(report: dict) -> list[str]:
    """The page's process-verifier section: label agreement, step AUROC and each beam per seed."""
    lines = [
        "",
        "## Process verifier and its beam search",
        "",
        "The PRM (`rl-reasoner verifier RUN --kind prm " + " ".join(PRM) + "`) learns Monte-Carlo step "
        "labels; the exact tiny-arith step checker only evaluates them. Beam search: `--search prm-beam "
        "--beam-width W --expansions E`; majority vote at equal tokens is interpolated on the sampled curve "
        "(log tokens; maj@n when the beam spent more, marked *).",
        "",
        "| seed | MC = exact (held-out steps) | step AUROC (held-out) | beam W x E | spent tokens | "
        "accuracy | maj at equal tokens | gain pt |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for seed, s in report["seeds"].items():
        for b, r in s["prm_beam"].items():
            auroc, gain = s["prm"]["step_auroc_exact_heldout"], r["accuracy"] - r["maj_at_equal_tokens"]
            lines.append(
                f"| {seed} | {s['prm']['mc_agreement_heldout']:.1%} | "
                f"{auroc if auroc is None else f'{auroc:.3f}'} | {b} | {r['spent_tokens']:.0f} | "
                f"{r['accuracy']:.1%} | {r['maj_at_equal_tokens']:.1%}{'*' if r['beyond_curve'] else ''} | "
                f"{100 * gain:+.1f} |"
            )
    return lines
