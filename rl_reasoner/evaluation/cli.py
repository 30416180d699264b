"""``rl-reasoner eval MODEL --data … --out DIR``: argument parsing and the order of checks.

Everything that can be wrong with the input (k > n, an unknown backend, a model or dataset that cannot be
found, a missing column, an output folder holding another configuration) is reported before a model is
loaded or a token generated.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rl_reasoner.evaluation.backends import BACKENDS, check_backend
from rl_reasoner.evaluation.report import markdown
from rl_reasoner.evaluation.runner import ORIGINAL, EvalError, Sampling, Variant, evaluate_model
from rl_reasoner.evaluation.search import SEARCHES, SearchSpec, search_spec
from rl_reasoner.evaluation.sources import RECIPE_PREFIX, DataSpec, load_rows, perturb_rows
from rl_reasoner.model_ref import ModelRef, resolve_model
from rl_reasoner.recipe import EvalSection

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
    p.add_argument(
        "--batch-size",
        type=int,
        default=EvalSection.batch_size,
        help=f"sequences per generate call (hf backend; default {EvalSection.batch_size}, as recipes)",
    )
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
    _add_search_flags(p)
    p.set_defaults(func=cmd_eval)


def _add_search_flags(p) -> None:
    """``--search NAME --verifier DIR`` and each search's budget flags (``search.BUDGETS``)."""
    p.add_argument("--search", help=f"answer each prompt by a search: one of {list(SEARCHES)} (takes --n 1)")
    p.add_argument(
        "--verifier",
        help="the search's verifier folder (rl-reasoner verifier): orm for bon[-vote], prm for prm-beam",
    )
    p.add_argument(
        "--candidates",
        type=int,
        help=f"--search bon|bon-vote: samples ranked per prompt (default {SearchSpec.candidates})",
    )
    p.add_argument(
        "--beam-width",
        type=int,
        help=f"--search prm-beam: partial completions kept per prompt (default {SearchSpec.beam_width})",
    )
    p.add_argument(
        "--expansions",
        type=int,
        help=f"--search prm-beam: lines sampled per kept completion a step (default {SearchSpec.expansions})",
    )
    p.add_argument(
        "--rollouts",
        type=int,
        help=f"--search mcts|rstar: MCTS rollouts per prompt (default {SearchSpec.rollouts})",
    )
    p.add_argument("--actions", help="--search mcts|rstar: the action set, five (default) or two (A1, A2)")
    p.add_argument("--discriminator", help="--search rstar: the model that re-completes each trajectory")
    p.add_argument(
        "--candidates-from",
        type=Path,
        help="--search bon|bon-vote: rank the answers of this finished eval (--n = --candidates, same model, "
        "data and sampling) instead of sampling them again",
    )


def default_max_new_tokens(model: ModelRef, data_source: str) -> int:
    """The eval budget of the recipe the model was trained with (or the data recipe's), else 1024."""
    from rl_reasoner.recipe import RecipeError, load_recipe, recipe_from_dict
    from rl_reasoner.trainer_config import eval_budget

    manifest = model.manifest()
    if manifest and "recipe" in manifest:
        try:
            return eval_budget(recipe_from_dict(manifest["recipe"], source=f"{model.run_dir}/manifest.json"))
        except (RecipeError, ValueError):
            pass  # a manifest from an older version: fall through to the data recipe / the default
    if data_source.startswith(RECIPE_PREFIX):
        return eval_budget(load_recipe(data_source.removeprefix(RECIPE_PREFIX)))
    return DEFAULT_MAX_NEW_TOKENS


def cmd_eval(args: argparse.Namespace) -> int:
    """Checks everything (flags, model, data, output folder) before a model is loaded, then evaluates."""
    sampled = args.n > 1 or args.search is not None
    temperature = args.temperature if args.temperature is not None else (1.0 if sampled else 0.0)
    ks = args.k or sorted({1, args.n})
    budget = args.max_new_tokens if args.max_new_tokens is not None else 1
    Sampling(n=args.n, temperature=temperature, top_p=args.top_p, max_new_tokens=budget).check(ks)
    search = search_spec(
        args.search,
        args.verifier,
        candidates=args.candidates,
        beam_width=args.beam_width,
        expansions=args.expansions,
        rollouts=args.rollouts,
        actions=args.actions,
        discriminator=args.discriminator,
    )
    if search is not None:
        search.check(args.n, args.backend)
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
    variants = {ORIGINAL: Variant(load_rows(spec))}
    if args.perturb:
        variants["perturbed"] = Variant(perturb_rows(variants[ORIGINAL].rows, args.seed))
    sampling = Sampling(
        n=args.n,
        temperature=temperature,
        top_p=args.top_p,
        seed=args.seed,
        chat_template=args.chat_template,
        max_new_tokens=args.max_new_tokens or default_max_new_tokens(model, args.data),
    )
    metrics = evaluate_model(
        model.path,
        variants,
        args.out,
        sampling,
        ks=ks,
        backend=args.backend,
        batch_size=args.batch_size,
        data={"source": args.data, **_data_fields(spec)},
        model_name=str(Path(model.path).resolve()) if model.is_local else model.path,
        search=search,
        candidates_from=args.candidates_from,
    )
    print(markdown(metrics))
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
