"""``rl-reasoner`` command line: run a recipe's pipeline (or one of its training stages under a launcher),
check a recipe, evaluate or export a model, build the tiny model. Every input error, whatever module finds
it, is printed as one paragraph with exit code 2 (:class:`rl_reasoner.errors.UsageError`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rl_reasoner.errors import UsageError
from rl_reasoner.recipe import load_recipe

STAGE_COMMANDS = {
    "sft": "run only the SFT stage of a run dir (what `accelerate launch … -m rl_reasoner sft` runs)",
    "grpo": "run only the GRPO stage (+ baselines) of a run dir (`accelerate launch … -m rl_reasoner grpo`)",
}


def cmd_run(args: argparse.Namespace) -> int:
    recipe = load_recipe(args.recipe, args.overrides)  # before the stages' imports (torch, TRL: seconds)
    from rl_reasoner.pipeline import STAGES, run_stages

    stages = args.stages.split(",") if args.stages else list(STAGES)
    pipeline = run_stages(recipe, stages, runs_dir=args.runs_dir, force=args.force)
    print(f"[rl-reasoner] finished: {pipeline.run_dir}")
    return 0


def cmd_stage(args: argparse.Namespace) -> int:
    """One training stage of an existing run directory, in this process (every launched process runs it;
    the run directory must hold the stages it starts from; only rank 0 writes the manifest)."""
    from rl_reasoner.pipeline import is_rank_zero, run_stages

    recipe = load_recipe(args.recipe, args.overrides)
    run_stages(recipe, [args.stage], run_dir=args.run_dir, force=args.force, launched=True)
    if is_rank_zero():
        print(f"[rl-reasoner] {args.stage} finished: {args.run_dir}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from rl_reasoner.preflight import preflight

    recipe = load_recipe(args.recipe, args.overrides)
    notes = preflight(recipe)
    print(
        f"recipe {args.recipe} is valid: name={recipe.name}, rewards={[r.name for r in recipe.rewards]}, "
        f"baselines={list(recipe.baselines)}"
    )
    for note in notes:
        print(f"  {note}")
    return 0


def cmd_tiny_model(args: argparse.Namespace) -> int:
    from rl_reasoner.tiny_model import TinyModelSpec, save_tiny_model

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} exists and is not empty; refusing to overwrite it")
    spec = TinyModelSpec(layers=args.layers, hidden=args.hidden, heads=args.heads)
    print(f"tiny model saved to {save_tiny_model(out, spec)}")
    return 0


def _add_run_parsers(sub) -> None:
    run = sub.add_parser("run", help="run a recipe's pipeline: data -> sft -> grpo -> eval (resumable)")
    run.add_argument("recipe", help="recipe YAML file, e.g. recipes/tiny-arith/demo.yaml")
    run.add_argument("overrides", nargs="*", help="key=value recipe overrides, e.g. grpo.max_steps=20")
    run.add_argument("--stages", help="comma-separated subset of data,sft,grpo,eval (default: all)")
    run.add_argument("--force", action="store_true", help="redo finished stages (old output kept as *.bak-*)")
    run.add_argument("--runs-dir", default="runs", help="parent folder of runs/<name> (default: runs)")
    run.set_defaults(func=cmd_run)
    for stage, text in STAGE_COMMANDS.items():
        p = sub.add_parser(stage, help=text)
        p.add_argument("--recipe", required=True, help="recipe YAML (the run's own: <run-dir>/recipe.yaml)")
        p.add_argument("--run-dir", required=True, type=Path, help="run directory, e.g. runs/<name>")
        p.add_argument("--force", action="store_true", help="redo the stage (old output kept as *.bak-*)")
        p.add_argument("overrides", nargs="*", help="key=value recipe overrides")
        p.set_defaults(func=cmd_stage, stage=stage)
    check = sub.add_parser("check", help="validate a recipe and its trainer configs without training")
    check.add_argument("recipe")
    check.add_argument("overrides", nargs="*")
    check.set_defaults(func=cmd_check)


def build_parser() -> argparse.ArgumentParser:
    from rl_reasoner.evaluation.cli import add_eval_parser
    from rl_reasoner.export import add_export_parser
    from rl_reasoner.influence.cli import add_influence_parser
    from rl_reasoner.verifier.cli import add_verifier_parser

    parser = argparse.ArgumentParser(prog="rl-reasoner", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run_parsers(sub)
    add_eval_parser(sub)
    add_export_parser(sub)
    add_verifier_parser(sub)
    add_influence_parser(sub)
    tiny = sub.add_parser("tiny-model", help="build the offline tiny tokenizer + model as a HF folder")
    tiny.add_argument("out", help="output folder (must not exist or be empty)")
    tiny.add_argument("--layers", type=int, default=4)
    tiny.add_argument("--hidden", type=int, default=128)
    tiny.add_argument("--heads", type=int, default=4)
    tiny.set_defaults(func=cmd_tiny_model)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # key=value overrides may come after options (argparse stops the positional list at an option)
    stray = [x for x in extra if x.startswith("-") or "=" not in x]
    if stray or (extra and not hasattr(args, "overrides")):
        parser.error(f"unrecognized arguments: {' '.join(stray or extra)}")
    if extra:
        args.overrides = [*args.overrides, *extra]
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"rl-reasoner: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
