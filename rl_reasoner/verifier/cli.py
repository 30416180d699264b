"""``rl-reasoner verifier RUN --kind orm|prm``: argument parsing and the checks run before any model loads.

RUN must be a run directory whose SFT stage finished (``manifest.json``: ``stages.sft.status == "done"``)
and that holds its training prompts (``data/grpo.jsonl``); the output folder must be new or empty.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rl_reasoner.verifier.info import KINDS, VerifierError, check_kind
from rl_reasoner.verifier.orm import OrmSettings
from rl_reasoner.verifier.prm import PrmSettings
from rl_reasoner.verifier.samples import TRAIN_PROMPTS, Sampling

DEFAULT_MAX_NEW_TOKENS = 1024  # when the run's recipe cannot be read back
ORM, PRM = OrmSettings(), PrmSettings()  # each kind's defaults


def add_verifier_parser(sub) -> None:
    """Registers ``verifier`` on the ``rl-reasoner`` subcommand parser."""
    p = sub.add_parser("verifier", help="train an outcome or process verifier on a run's SFT samples")
    p.add_argument("run", type=Path, help="run directory with a finished SFT stage, e.g. runs/<name>")
    p.add_argument("--kind", required=True, help=f"one of {list(KINDS)}: orm scores a whole completion "
                   "(trained on verified samples), prm each step (trained on Monte-Carlo step labels)")
    p.add_argument("--samples-per-prompt", type=int,
                   help="completions sampled per training prompt at temperature 1.0 (orm: >= 2, default "
                   f"{ORM.samples_per_prompt}; prm: >= 1, default {PRM.samples_per_prompt})")
    p.add_argument("--prompts", type=int, help="training prompts to sample, drawn by the seed (default: all)")
    p.add_argument("--continuations", type=int,
                   help=f"prm: at most M continuations sampled from each step prefix to label it (>= 1, "
                   f"default {PRM.continuations}); a step is right when the completion itself, a right "
                   "continuation of a later step or one of its own reaches the gold answer")
    p.add_argument("--steps", type=int, help=f"optimizer steps (default {ORM.steps})")
    p.add_argument("--learning-rate", type=float,
                   help=f"optimizer learning rate (default {ORM.learning_rate})")
    p.add_argument("--seed", type=int, default=ORM.seed)
    p.add_argument("--out", type=Path, help="output folder (default: RUN/verifier-<kind>; new or empty)")
    p.add_argument("--shuffle-labels", action="store_true",
                   help="orm only, control: permute the train samples' correct/incorrect labels (held-out "
                   "AUROC ~0.5)")
    p.add_argument("--samples-from", type=Path,
                   help="orm only: train on the labelled samples another outcome verifier of this run drew "
                   "(its folder; same --samples-per-prompt, --prompts and --seed) instead of sampling again")
    p.set_defaults(func=cmd_verifier)


def check_run(run: Path) -> dict:
    """The run's manifest, once RUN is a run directory with a finished SFT stage and its training prompts."""
    if not (run / "manifest.json").is_file():
        raise VerifierError(
            f"{run} is not a run directory (no manifest.json): pass runs/<name> of a run whose SFT stage "
            "finished (rl-reasoner run RECIPE --stages data,sft)"
        )
    manifest = json.loads((run / "manifest.json").read_text())
    status = manifest.get("stages", {}).get("sft", {}).get("status", "not started")
    if status != "done":
        raise VerifierError(
            f"run {run} has no finished SFT stage (stages.sft.status: {status}); a verifier is trained on "
            "the SFT model's samples: finish it first (rl-reasoner run RECIPE --stages data,sft)"
        )
    if not (run / TRAIN_PROMPTS).is_file():
        raise VerifierError(f"run {run} has no training prompts ({TRAIN_PROMPTS}); rerun its data stage")
    return manifest


def _sampling_budget(manifest: dict, run: Path, k: int) -> Sampling:
    """The run's eval budget and batch size (as ``rl-reasoner eval`` takes them), else the defaults."""
    from rl_reasoner.recipe import EvalSection, RecipeError, recipe_from_dict
    from rl_reasoner.trainer_config import eval_budget

    try:
        recipe = recipe_from_dict(manifest["recipe"], source=f"{run}/manifest.json")
        return Sampling(k=k, max_new_tokens=eval_budget(recipe), batch_size=recipe.eval.batch_size)
    except (KeyError, RecipeError, ValueError):  # a manifest from an older version
        return Sampling(k=k, max_new_tokens=DEFAULT_MAX_NEW_TOKENS, batch_size=EvalSection.batch_size)


def _check_flags(args: argparse.Namespace) -> None:
    check_kind(args.kind)
    least = 2 if args.kind == "orm" else 1
    if args.samples_per_prompt is not None and args.samples_per_prompt < least:
        why = "a pair needs two samples" if args.kind == "orm" else "each prompt needs a sample to label"
        raise VerifierError(f"--samples-per-prompt must be >= {least} ({why}), got {args.samples_per_prompt}")
    if args.steps is not None and args.steps < 1:
        raise VerifierError(f"--steps must be >= 1, got {args.steps}")
    if args.learning_rate is not None and not args.learning_rate > 0:
        raise VerifierError(f"--learning-rate must be > 0, got {args.learning_rate}")
    if args.prompts is not None and args.prompts < 2:
        raise VerifierError(f"--prompts must be >= 2 (some to train on, some held out), got {args.prompts}")
    if args.kind == "orm" and args.continuations is not None:
        raise VerifierError("--continuations labels the steps of a process verifier: use it with --kind prm")
    if args.kind == "prm" and args.continuations is not None and args.continuations < 1:
        raise VerifierError(
            f"--continuations must be >= 1 (each step prefix is continued M times to label it), got "
            f"{args.continuations}"
        )
    if args.kind == "prm" and args.shuffle_labels:
        raise VerifierError("--shuffle-labels is the outcome verifier's control: use it with --kind orm")
    if args.kind == "prm" and args.samples_from:
        raise VerifierError(
            "--samples-from reuses an outcome verifier's labelled samples; a process verifier draws its own "
            "(with step continuations): use it with --kind orm"
        )


def _settings(args: argparse.Namespace) -> OrmSettings | PrmSettings:
    """The kind's settings: its defaults, with the flags that were given."""
    optional = {"samples_per_prompt": args.samples_per_prompt, "steps": args.steps,
                "learning_rate": args.learning_rate}
    if args.kind == "prm":
        optional["continuations"] = args.continuations
    given = {name: value for name, value in optional.items() if value is not None}
    if args.kind == "prm":
        return PrmSettings(prompts=args.prompts, seed=args.seed, **given)
    samples_from = str(args.samples_from.resolve()) if args.samples_from else None
    return OrmSettings(prompts=args.prompts, seed=args.seed, shuffle_labels=args.shuffle_labels,
                       samples_from=samples_from, **given)  # fmt: skip


def _report(kind: str, out: Path, info: dict, settings: OrmSettings | PrmSettings) -> None:
    counts = info["counts"]
    if kind == "prm":
        exact = info["mc_vs_exact"]["heldout"]
        auroc = info["heldout_step_auroc_exact"]
        print(f"[rl-reasoner] verifier (prm) written to {out}: {counts['prompts']} prompts, "
              f"{counts['samples']} samples ({counts['correct_rate']:.1%} correct), {counts['steps']} steps "
              f"({counts['mc_right_rate']:.1%} labelled right, by <= {settings.continuations} continuations "
              "a step)")
        agreed = "no checkable step" if exact["rate"] is None else f"{exact['rate']:.1%} of {exact['steps']}"
        print(f"held-out MC labels agree with the exact checker: {agreed}")
        print("held-out step AUROC vs exact labels: "
              + ("undefined (one label only)" if auroc is None else f"{auroc:.3f}"))
        return
    score = info["heldout_auroc"]
    print(
        f"[rl-reasoner] verifier ({kind}) written to {out}: {counts['prompts']} prompts, "
        f"{counts['samples']} samples ({counts['correct_rate']:.1%} correct), {counts['pairs']} pairs"
        + (", labels shuffled" if settings.shuffle_labels else "")
    )
    shown = "undefined (held-out samples all share one label)" if score is None else f"{score:.3f}"
    print(f"held-out AUROC: {shown}")


def cmd_verifier(args: argparse.Namespace) -> int:
    """Checks flags, run and output folder before any model loads, then builds the verifier."""
    from rl_reasoner.model_ref import resolve_model
    from rl_reasoner.verifier.orm import build_orm
    from rl_reasoner.verifier.prm import build_prm

    _check_flags(args)
    manifest = check_run(args.run)
    policy = resolve_model(str(args.run), "sft")
    out = args.out or args.run / f"verifier-{args.kind}"
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise VerifierError(f"{out} exists and is not empty; refusing to overwrite it (pass another --out)")
    settings = _settings(args)
    sampling = _sampling_budget(manifest, args.run, settings.samples_per_prompt)
    build = build_prm if args.kind == "prm" else build_orm
    info = build(args.run, policy.path, out, settings, sampling)
    _report(args.kind, out, info, settings)
    return 0
