"""``rl-reasoner influence RUN``: argument parsing and the checks that run before any model loads (the run's
SFT model folder, the documents asked for, the query kinds, the output folder, then the extra)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rl_reasoner.influence.inputs import (
    DEFAULT_PER_KIND,
    QUERY_KINDS,
    InfluenceError,
    check_run,
    choose_documents,
    choose_queries,
    default_specs,
    parse_queries,
    require_kronfluence,
)
from rl_reasoner.influence.run import InfluenceSettings

DEFAULT_MAX_NEW_TOKENS = 256  # when the run's recipe cannot be read back
DEFAULTS = InfluenceSettings(max_new_tokens=DEFAULT_MAX_NEW_TOKENS)


def add_influence_parser(sub) -> None:
    """Registers ``influence`` on the ``rl-reasoner`` subcommand parser."""
    p = sub.add_parser(
        "influence", help="which SFT rows a run's answers rely on (EK-FAC influence functions)"
    )
    p.add_argument("run", type=Path, help="run directory with a finished SFT stage, e.g. runs/<name>")
    p.add_argument(
        "--queries",
        nargs="+",
        metavar="KIND[:N]",
        help=f"eval prompts to explain: KIND one of {list(QUERY_KINDS)}, N prompts each (default: "
        f"{DEFAULT_PER_KIND} of every kind the run's eval split holds)",
    )
    p.add_argument(
        "--docs", type=int, help="score against N SFT rows, stratified by kind and level (default: all)"
    )
    p.add_argument("--out", type=Path, help="output folder (default: RUN/influence; new or empty)")
    p.add_argument("--top-k", type=int, default=DEFAULTS.top_k, help="documents listed per query")
    p.add_argument(
        "--max-new-tokens",
        type=int,
        help="greedy budget of the queries' completions (default: the run's eval budget)",
    )
    p.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    p.add_argument(
        "--seed", type=int, default=DEFAULTS.seed, help="draws the document subset and the queries"
    )
    p.set_defaults(func=cmd_influence)


def _budget(run: Path) -> int:
    """The run's eval budget (as ``rl-reasoner eval`` takes it), else :data:`DEFAULT_MAX_NEW_TOKENS`."""
    from rl_reasoner.recipe import RecipeError, recipe_from_dict
    from rl_reasoner.trainer_config import eval_budget

    try:
        manifest = json.loads((run / "manifest.json").read_text())
        return eval_budget(recipe_from_dict(manifest["recipe"], source=f"{run}/manifest.json"))
    except (OSError, KeyError, RecipeError, ValueError):
        return DEFAULT_MAX_NEW_TOKENS


def _check_flags(args: argparse.Namespace) -> None:
    for flag in ("top_k", "batch_size", "max_new_tokens"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise InfluenceError(f"--{flag.replace('_', '-')} must be >= 1, got {value}")


def cmd_influence(args: argparse.Namespace) -> int:
    """Checks every input before any model loads, then scores and writes the report."""
    from rl_reasoner.influence.run import run_influence

    _check_flags(args)
    specs = parse_queries(args.queries) if args.queries else None
    model_path = check_run(args.run)
    documents = choose_documents(args.run, args.docs, args.seed)
    queries = choose_queries(args.run, specs or default_specs(args.run), args.seed)
    if not queries:
        raise InfluenceError(f"run {args.run} has no eval prompts of a known kind {list(QUERY_KINDS)}")
    out = args.out or args.run / "influence"
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InfluenceError(f"{out} exists and is not empty; refusing to overwrite it (pass another --out)")
    require_kronfluence()
    settings = InfluenceSettings(
        max_new_tokens=args.max_new_tokens or _budget(args.run),
        batch_size=args.batch_size,
        top_k=args.top_k,
        seed=args.seed,
    )
    report = run_influence(args.run, model_path, documents, queries, out, settings)
    right = sum(q["correct"] for q in report["queries"])
    print(
        f"[rl-reasoner] influence of {len(documents)} SFT rows on {len(queries)} answers ({right} right) "
        f"written to {out}: influence.md, influence.json, scores.npz"
    )
    for method, stats in report["agreement_with_ekfac"].items():
        print(f"  {method} vs EK-FAC: mean Spearman {stats['spearman_mean']}")
    return 0
