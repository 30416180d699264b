"""``rl-reasoner eval MODEL --data … --out DIR``: argument parsing and the order of checks.

Everything that can be wrong with the input (k > n, an unknown backend, a model or dataset that cannot be
found, a missing column, an output folder holding another configuration) is reported before a model is
loaded or a token generated.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rl_reasoner.evaluation.backends import BACKENDS, BackendError, check_backend, load_backend
from rl_reasoner.evaluation.report import markdown, plot_budget_curve
from rl_reasoner.evaluation.runner import (
    METRICS_FILE,
    EvalError,
    Sampling,
    compute_metrics,
    eval_config,
    generate_all,
    prepare_output,
)
from rl_reasoner.evaluation.sources import RECIPE_PREFIX, DataError, DataSpec, load_rows, perturb_rows
from rl_reasoner.model_ref import ModelRef, ModelRefError, resolve_model

ERRORS = (EvalError, DataError, ModelRefError, BackendError)
DEFAULT_MAX_NEW_TOKENS = 1024  # without a recipe to take the trained budget from


def _ks(text: str) -> list[int]:
    try:
        ks = sorted({int(k) for k in text.split(",") if k.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k takes comma-separated integers, got {text!r}") from None
    return ks


def add_eval_parser(sub) -> None:
    """Registers ``eval`` on the ``rl-reasoner`` subcommand parser."""
    p = sub.add_parser("eval", help="sample a model on an eval set: pass@k, maj@k, lengths, budget curve")
    p.add_argument("model", help="run directory (runs/<name>), model or checkpoint folder, or hub id")
    p.add_argument("--stage", help="with a run directory: sft, grpo (default) or grpo-<baseline>")
    p.add_argument(
        "--data",
        required=True,
        help="recipe:RECIPE.yaml (its eval split), a .jsonl/.parquet file or a hub dataset id",
    )
    p.add_argument("--out", required=True, type=Path, help="output folder (rerunning resumes it)")
    p.add_argument("--question-column", default="prompt")
    p.add_argument("--answer-column", default="answer")
    p.add_argument("--level-column", default="level", help="difficulty column for the per-level breakdown")
    p.add_argument("--split", default="test", help="hub datasets: split (default: test)")
    p.add_argument("--data-config", help="hub datasets: configuration name (e.g. main for gsm8k)")
    p.add_argument("--limit", type=int, help="evaluate the first N rows only")
    p.add_argument("--n", type=int, default=1, help="samples per prompt (default 1)")
    p.add_argument("--k", type=_ks, help="comma-separated k for pass@k and maj@k (default: 1 and n)")
    p.add_argument("--temperature", type=float, help="default: 0 (greedy) with --n 1, else 1.0")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--max-new-tokens", type=int, help="default: the recipe's eval/GRPO budget, else 1024")
    p.add_argument("--batch-size", type=int, default=64, help="sequences per generate call (hf backend)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default="hf", help=f"one of {list(BACKENDS)} (vllm: GPU machines only)")
    p.add_argument(
        "--chat-template", action="store_true", help="wrap prompts in the tokenizer's chat template"
    )
    p.add_argument(
        "--perturb",
        action="store_true",
        help="arith only: also evaluate every problem with re-sampled numbers (robustness drop)",
    )
    p.set_defaults(func=cmd_eval)


def _recipe_budget(recipe: dict) -> int | None:
    return (recipe.get("eval") or {}).get("max_new_tokens") or (recipe.get("grpo") or {}).get(
        "max_completion_length"
    )


def default_max_new_tokens(model: ModelRef, data_source: str) -> int:
    """The eval budget of the recipe the model was trained with (or the data recipe's), else 1024."""
    manifest = model.manifest()
    if manifest and _recipe_budget(manifest.get("recipe", {})):
        return int(_recipe_budget(manifest["recipe"]))
    if data_source.startswith(RECIPE_PREFIX):
        from rl_reasoner.recipe import load_recipe, recipe_to_dict

        budget = _recipe_budget(recipe_to_dict(load_recipe(data_source.removeprefix(RECIPE_PREFIX))))
        return int(budget or 256)  # TRL's max_completion_length default
    return DEFAULT_MAX_NEW_TOKENS


def cmd_eval(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ERRORS as exc:
        print(f"rl-reasoner: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    temperature = args.temperature if args.temperature is not None else (0.0 if args.n == 1 else 1.0)
    ks = args.k or sorted({1, args.n})
    budget = args.max_new_tokens if args.max_new_tokens is not None else 1
    Sampling(n=args.n, temperature=temperature, top_p=args.top_p, max_new_tokens=budget).check(ks)
    if (args.limit is not None and args.limit < 1) or args.batch_size < 1:
        raise EvalError("--limit and --batch-size must be >= 1")
    check_backend(args.backend)
    model = resolve_model(args.model, args.stage)
    spec = DataSpec(
        args.data,
        args.question_column,
        args.answer_column,
        args.level_column,
        args.split,
        args.data_config,
        args.limit,
    )
    variants = {"original": load_rows(spec)}
    if args.perturb:
        variants["perturbed"] = perturb_rows(variants["original"], args.seed)
    sampling = Sampling(
        n=args.n,
        temperature=temperature,
        top_p=args.top_p,
        seed=args.seed,
        chat_template=args.chat_template,
        max_new_tokens=args.max_new_tokens or default_max_new_tokens(model, args.data),
    )
    model_name = str(Path(model.path).resolve()) if model.is_local else model.path
    config = eval_config(
        model_name, {"source": args.data, **_data_fields(spec)}, sampling, args.backend, variants
    )
    done = prepare_output(args.out, config)
    total = sum(len(rows) for rows in variants.values())
    if done:
        print(
            f"[rl-reasoner] eval: resuming, {len(done)} of {total} prompts done in {args.out}/samples.jsonl"
        )
    backend = (
        load_backend(args.backend, model.path, batch_size=args.batch_size) if len(done) < total else None
    )
    records = (
        generate_all(backend, variants, args.out, sampling, done, desc=f"eval {Path(model.path).name}")
        if backend
        else done
    )
    metrics = compute_metrics(records, variants, ks, config)
    (args.out / METRICS_FILE).write_text(json.dumps(metrics, indent=2))
    table = markdown(metrics)
    (args.out / "metrics.md").write_text(table)
    plot_budget_curve(metrics, args.out / "budget_curve.png")
    print(table)
    print(f"[rl-reasoner] eval written to {args.out}")
    return 0


def _data_fields(spec: DataSpec) -> dict:
    return {
        "question_column": spec.question_column,
        "answer_column": spec.answer_column,
        "split": spec.split,
        "config": spec.config,
        "limit": spec.limit,
    }
