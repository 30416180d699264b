"""The rStar part of ``benchmarks/search.py`` (issue 15): MCTS with majority (five and two actions) and
rStar with a discriminator, each against majority vote at the tokens it spent, and the verified candidates'
hit rate.

Each seed's discriminator is the *next* seed's weak SFT model (a second small model of the same kind, as in
the paper; with one seed, the model itself), so these evals run once every seed's model exists."""

from __future__ import annotations

from pathlib import Path
from statistics import fmean

from search_prm import maj_at, target

ROLLOUTS = 8  # per problem: ~ maj@8's tokens
MCTS = {  # eval name -> its search flags ({disc}: the discriminator model)
    "mcts": ["--search", "mcts", "--rollouts", str(ROLLOUTS)],
    "mcts-two": ["--search", "mcts", "--rollouts", str(ROLLOUTS), "--actions", "two"],
    "rstar": ["--search", "rstar", "--rollouts", str(ROLLOUTS), "--discriminator", "{disc}"],
}


def discriminators(seeds: list[int]) -> dict[int, int]:
    """Seed -> the seed whose weak SFT model is its discriminator: the next one (cyclic; itself when alone).

    >>> discriminators([3, 4, 5]), discriminators([7])
    ({3: 4, 4: 5, 5: 3}, {7: 7})
    """
    return {s: seeds[(i + 1) % len(seeds)] for i, s in enumerate(seeds)}


def rstar_flags(name: str, disc: Path) -> list[str]:
    return [flag.format(disc=disc) for flag in MCTS[name]]


def rstar_numbers(run: Path, curve: dict) -> dict:
    """Per MCTS eval: accuracy, spent tokens, majority vote at those tokens; rstar's verified hit rates."""
    from rl_reasoner.evaluation.runner import load_metrics, read_samples

    out = {}
    for name in MCTS:
        overall = load_metrics(run / "search" / name)["overall"]
        spent = overall["mean_spent_tokens"]
        out[name] = {"accuracy": overall["pass@1"], "spent_tokens": spent,
                     "maj_at_equal_tokens": maj_at(curve, spent)}  # fmt: skip
    records = read_samples(run / "search" / "rstar" / "samples.jsonl")
    judged = [c for r in records for c in r["samples"][0].get("candidates", [])]
    rate = lambda verified: fmean(c["correct"] for c in judged if c["verified"] == verified)  # noqa: E731
    has = {v: any(c["verified"] == v for c in judged) for v in (True, False)}
    out["verified_right"] = rate(True) if has[True] else None
    out["unverified_right"] = rate(False) if has[False] else None
    out["verified_share"] = fmean(c["verified"] for c in judged) if judged else None
    return out


def rstar_targets(seeds: dict[int, dict]) -> dict:
    """Issue 15's rStar numbers, means over seeds (a seed with no verified, or no unverified, candidate
    counts 0 there)."""
    mean = lambda f: fmean(f(s["rstar_evals"]) for s in seeds.values())  # noqa: E731
    gain = lambda name: mean(lambda r: r[name]["accuracy"] - r[name]["maj_at_equal_tokens"])  # noqa: E731
    over_mcts = mean(lambda r: r["rstar"]["accuracy"] - r["mcts"]["accuracy"])
    verified = mean(lambda r: (r["verified_right"] or 0.0) - (r["unverified_right"] or 0.0))
    rstar, mcts = gain("rstar"), gain("mcts")
    return {
        "rStar >= maj vote at equal spent tokens + 5 pt": target(rstar, 0.05, rstar >= 0.05),
        "MCTS with majority >= maj vote at equal spent tokens": target(mcts, 0.0, mcts >= 0.0),
        "rStar >= MCTS with majority + 2 pt": target(over_mcts, 0.02, over_mcts >= 0.02),
        "verified candidates right >= 10 pt more often than unverified": target(
            verified, 0.1, verified >= 0.1
        ),
    }


def rstar_lines(report: dict) -> list[str]:
    """The page's rStar section: each MCTS eval per seed against majority vote at its tokens."""
    lines = [
        "",
        "## MCTS and rStar",
        "",
        f"`--search mcts --rollouts {ROLLOUTS}` (five actions; `--actions two`: A1/A2 only, the ablation) "
        "picks by majority over its trajectories; `--search rstar` keeps those the discriminator (the next "
        "seed's weak SFT model) completes to the same answer from a masked step. Majority vote at equal "
        "tokens as above.",
        "",
        "| seed | search | spent tokens | accuracy | maj at equal tokens | gain pt | verified right | "
        "unverified right |",
        "|---|---|---|---|---|---|---|---|",
    ]
    pct = lambda x: "—" if x is None else f"{x:.1%}"  # noqa: E731
    for seed, s in report["seeds"].items():
        r = s["rstar_evals"]
        for name in MCTS:
            e = r[name]
            hits = f"{pct(r['verified_right'])} | {pct(r['unverified_right'])}"
            extra = hits if name == "rstar" else "— | —"
            lines.append(
                f"| {seed} | {name} | {e['spent_tokens']:.0f} | {e['accuracy']:.1%} | "
                f"{e['maj_at_equal_tokens']:.1%} | {100 * (e['accuracy'] - e['maj_at_equal_tokens']):+.1f} | "
                f"{extra} |"
            )
    return lines
