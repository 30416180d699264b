"""``rl-reasoner sft|grpo --recipe R --run-dir D``: one training stage of a run directory, in this process.

This is what runs on every process of ``accelerate launch --config_file F -m rl_reasoner grpo …`` (and what
``rl-reasoner run`` launches for a recipe with a ``launch:`` section). The run directory must already hold
the stages this one starts from (``data``; ``sft`` for grpo unless ``model.grpo_from: base``). All
processes train; only rank 0 writes the manifest. ``grpo`` runs the main GRPO unit and every baseline.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = {
    "sft": "run only the SFT stage of a run dir (what `accelerate launch … -m rl_reasoner sft` runs)",
    "grpo": "run only the GRPO stage (+ baselines) of a run dir (`accelerate launch … -m rl_reasoner grpo`)",
}


def add_stage_parsers(sub) -> None:
    """Registers ``sft`` and ``grpo`` on the ``rl-reasoner`` subcommand parser."""
    for stage, text in HELP.items():
        p = sub.add_parser(stage, help=text)
        p.add_argument("--recipe", required=True, help="recipe YAML (the run's own: <run-dir>/recipe.yaml)")
        p.add_argument("--run-dir", required=True, type=Path, help="run directory, e.g. runs/<name>")
        p.add_argument("--force", action="store_true", help="redo the stage (old output kept as *.bak-*)")
        p.add_argument("overrides", nargs="*", help="key=value recipe overrides")
        p.set_defaults(func=cmd_stage, stage=stage)


def cmd_stage(args: argparse.Namespace) -> int:
    from rl_reasoner.cli import _setup_reporting, preflight
    from rl_reasoner.pipeline import Pipeline, PipelineError, is_rank_zero
    from rl_reasoner.recipe import load_recipe

    recipe = load_recipe(args.recipe, args.overrides)
    preflight(recipe)  # under a launcher this checks what the launcher passed (rl_reasoner.launch)
    pipeline = Pipeline(recipe, force=args.force, run_dir=args.run_dir)
    pipeline.launch = None  # this process is (one of) the launched ones: train here
    needed = ["data", *(pipeline.units("sft") if args.stage == "grpo" else [])]
    missing = [unit for unit in needed if pipeline.manifest.stage(unit).get("status") != "done"]
    if missing:
        raise PipelineError(
            f"{args.run_dir} has no finished {'/'.join(missing)} stage, which the {args.stage} stage starts "
            f"from; run it first: rl-reasoner run RECIPE --stages {','.join(missing)}"
        )
    pipeline.report_to = _setup_reporting(recipe, pipeline.run_dir)
    pipeline.run([args.stage], log=print if is_rank_zero() else lambda _: None)
    if is_rank_zero():
        print(f"[rl-reasoner] {args.stage} finished: {pipeline.run_dir}")
    return 0
