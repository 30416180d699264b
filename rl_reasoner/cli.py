"""``rl-reasoner`` command line: run a recipe's pipeline, check a recipe, build the tiny model."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rl_reasoner.recipe import Recipe, RecipeError, load_recipe


class PreflightError(ValueError):
    """The recipe is well-formed but cannot run here (missing model path, invalid trainer settings)."""


def preflight(recipe: Recipe) -> list[str]:
    """Everything that can be checked without training: model path, trainer configs, rewards, launch file
    and vLLM; returns notes on the set-up (launcher, vLLM mode)."""
    import warnings

    from rl_reasoner.data.hub import check_hub_source
    from rl_reasoner.launch import check_scaleout, one_process_view
    from rl_reasoner.reward_funcs import build_reward_funcs
    from rl_reasoner.stages.grpo import build_grpo_config
    from rl_reasoner.stages.sft import build_sft_config

    base = recipe.model.base
    looks_like_hub_id = not base.startswith((".", "/", "~")) and base.count("/") == 1
    if base != "tiny" and not Path(base).exists() and not looks_like_hub_id:
        raise PreflightError(
            f"model.base {base!r} is neither an existing local folder nor a hub id (owner/name); "
            "use 'tiny' to build the offline tiny model, a folder saved with save_pretrained, or a hub id"
        )
    probe = Path(os.devnull)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            notes = check_scaleout(recipe)  # before trainer configs: a missing vLLM or DeepSpeed named first
            if recipe.data.task == "hub":
                check_hub_source(recipe.data.hub)
            build_sft_config(probe, recipe.sft, seed=recipe.seed, report_to="none")
            grpo_args = one_process_view(recipe)  # with a launch: section, batch sizes x processes
            for specs in [recipe.rewards, *(b.rewards for b in recipe.baselines.values())]:
                config = build_grpo_config(probe, grpo_args, specs, seed=recipe.seed, report_to="none")
                build_reward_funcs(specs, num_generations=config.num_generations, eos_token_ids=[0])
        except (ValueError, TypeError) as exc:
            raise PreflightError(f"recipe {recipe.name!r} cannot run: {exc}") from None
    return notes


def _setup_reporting(recipe: Recipe, run_dir: Path) -> str:
    """wandb through TRL's ``report_to``; offline by default, files under the run directory."""
    if recipe.report_to != "wandb" or recipe.wandb.mode == "disabled":
        return "none"
    os.environ.setdefault("WANDB_MODE", recipe.wandb.mode)
    os.environ.setdefault("WANDB_PROJECT", recipe.wandb.project)
    os.environ.setdefault("WANDB_DIR", str(run_dir))
    run_dir.mkdir(parents=True, exist_ok=True)
    return "wandb"


def cmd_run(args: argparse.Namespace) -> int:
    from rl_reasoner.pipeline import STAGES, Pipeline

    recipe = load_recipe(args.recipe, args.overrides)
    preflight(recipe)
    pipeline = Pipeline(recipe, runs_dir=args.runs_dir, force=args.force)
    stages = args.stages.split(",") if args.stages else list(STAGES)
    pipeline.plan(stages)  # refuses before any work when finished outputs would be touched
    pipeline.report_to = _setup_reporting(recipe, pipeline.run_dir)
    pipeline.run(stages)
    print(f"[rl-reasoner] finished: {pipeline.run_dir}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
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
        raise PreflightError(f"{out} exists and is not empty; refusing to overwrite it")
    spec = TinyModelSpec(layers=args.layers, hidden=args.hidden, heads=args.heads)
    print(f"tiny model saved to {save_tiny_model(out, spec)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rl-reasoner", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a recipe's pipeline: data -> sft -> grpo -> eval (resumable)")
    run.add_argument("recipe", help="recipe YAML file, e.g. recipes/tiny-arith/demo.yaml")
    run.add_argument("overrides", nargs="*", help="key=value recipe overrides, e.g. grpo.max_steps=20")
    run.add_argument("--stages", help="comma-separated subset of data,sft,grpo,eval (default: all)")
    run.add_argument("--force", action="store_true", help="redo finished stages (old output kept as *.bak-*)")
    run.add_argument("--runs-dir", default="runs", help="parent folder of runs/<name> (default: runs)")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="validate a recipe and its trainer configs without training")
    check.add_argument("recipe")
    check.add_argument("overrides", nargs="*")
    check.set_defaults(func=cmd_check)

    tiny = sub.add_parser("tiny-model", help="build the offline tiny tokenizer + model as a HF folder")
    tiny.add_argument("out", help="output folder (must not exist or be empty)")
    tiny.add_argument("--layers", type=int, default=4)
    tiny.add_argument("--hidden", type=int, default=128)
    tiny.add_argument("--heads", type=int, default=4)
    tiny.set_defaults(func=cmd_tiny_model)

    from rl_reasoner.evaluation.cli import add_eval_parser
    from rl_reasoner.export import add_export_parser
    from rl_reasoner.stage_commands import add_stage_parsers

    add_eval_parser(sub)
    add_export_parser(sub)
    add_stage_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from rl_reasoner.pipeline import PipelineError

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
    except (RecipeError, PipelineError, PreflightError) as exc:
        print(f"rl-reasoner: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
