"""Eval stage: every model of the run through the one eval engine (``rl_reasoner.evaluation``), and the
oracle.

Each model (the base model without an SFT stage, SFT, GRPO, baselines) is completed greedily on the
held-out split into ``eval/<model>/`` (``metrics.json`` as ``rl-reasoner eval`` writes it; a rerun resumes).
The **oracle** is found on the SFT model: the task's forced trace styles (for tiny-arith, the ones the
recipe's SFT data uses) are extra prompt-prefix variants (``forced-<style>``, the opening chosen per row)
of its eval, and per level the shortest style it gets right at least
``oracle_threshold`` of the time is what a perfectly length-aware policy would use. ``eval/results.json``
holds every model's metrics and the oracle; ``table.md`` and ``plot.png`` compare them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from rl_reasoner.data.tables import load_table
from rl_reasoner.data.tasks import task_of
from rl_reasoner.evaluation.report import write_comparison
from rl_reasoner.evaluation.runner import ORIGINAL, Sampling, Variant, evaluate_model
from rl_reasoner.side_by_side import torch_threads
from rl_reasoner.stages.data import base_model_path
from rl_reasoner.trainer_config import eval_budget

ORACLE_MODEL = "sft"  # the model forced into each style
FORCED = "forced-"  # variant name prefix of a forced style


def run_eval(pipeline, unit: str, out: Path) -> dict:
    """Evaluates the run's models into ``out`` and prints the comparison table; returns overall numbers."""
    recipe = pipeline.recipe
    results: dict = {"models": {}}
    for label, path in eval_models(pipeline).items():
        results["models"][label] = evaluate_one(pipeline, label, path, out / label)
    styles = task_of(recipe).forced_styles(recipe)
    if styles and ORACLE_MODEL in results["models"]:
        forced = results["models"][ORACLE_MODEL]["variants"]
        results["oracle"] = find_oracle(
            {style: forced[FORCED + style] for style in styles}, recipe.eval.oracle_threshold
        )
        results["design"] = check_design(task_of(recipe).designed(recipe), results["oracle"])
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(write_comparison(results, out, title=recipe.name))
    overall = {label: m["overall"] for label, m in results["models"].items()}
    return overall | {"oracle": results.get("oracle", {}).get("overall")}


def evaluate_one(pipeline, label: str, path: str, out: Path) -> dict:
    """One model greedily on the eval split into ``out`` (resumable); the oracle's model with its forced
    styles too."""
    recipe = pipeline.recipe
    rows = load_table(str(pipeline.run_dir / "data" / "eval.jsonl"), what="eval split").to_list()
    variants = {ORIGINAL: Variant(rows)}
    if label == ORACLE_MODEL:
        styles = task_of(recipe).forced_styles(recipe)
        variants |= {FORCED + style: Variant(rows, opening) for style, opening in styles.items()}
    return evaluate_model(
        path,
        variants,
        out,
        Sampling(max_new_tokens=eval_budget(recipe), seed=recipe.seed),  # greedy, one sample
        backend=recipe.eval.backend,
        batch_size=recipe.eval.batch_size,
        data={"source": str(pipeline.run_dir / "data" / "eval.jsonl")},
    )


def eval_ahead(pipeline, busy: Sequence[str], threads: int, log: Callable[[str], None]) -> None:
    """While the units in ``busy`` still train beside it, evaluates the models already trained (SFT, the
    unit that finished first) into the eval stage's folders on ``threads`` threads, the core that would
    otherwise wait; the eval stage then finds their samples done (the engine resumes). A no-op when the eval
    stage is finished (a ``--force`` rerun moves its folder aside first); a failure here stops no training
    (the eval stage meets it again and reports it)."""
    if pipeline.manifest.stage("eval").get("status") == "done":
        return
    ready = {label: path for label, path in eval_models(pipeline, quiet=True).items() if label not in busy}
    try:
        with torch_threads(threads):
            for label, path in ready.items():
                evaluate_one(pipeline, label, path, pipeline.run_dir / "eval" / label)
    except Exception as exc:  # noqa: BLE001 - reported, and the eval stage meets it again
        log(f"[rl-reasoner] eval: evaluating beside {', '.join(busy)} failed ({exc}); the stage retries")
        return
    if ready:
        log(f"[rl-reasoner] eval: {', '.join(ready)} evaluated while {', '.join(busy)} trained")


def eval_models(pipeline, quiet: bool = False) -> dict[str, str]:
    """Label -> model folder: the trained units, led by the base model when GRPO starts from it. A unit not
    trained (``--stages data,sft,eval``: an SFT-only run) is left out, and said so unless ``quiet``."""
    units = (*pipeline.units("sft"), *pipeline.units("grpo"))
    untrained = [u for u in units if pipeline.manifest.stage(u).get("status") != "done"]
    if untrained and not quiet:
        print(f"[rl-reasoner] eval: {', '.join(untrained)} not trained, so not evaluated (to add them later: "
              "rl-reasoner run RECIPE --stages grpo, then --force --stages eval)")
    models = {unit: str(pipeline.run_dir / unit) for unit in units if unit not in untrained}
    if pipeline.recipe.model.grpo_from == "base":  # no SFT stage: the base model is the reference
        models = {"base": base_model_path(pipeline), **models}
    return models


def check_design(designed: Mapping[str, str], oracle: dict) -> dict:
    """The task's designed shortest reliable style per level against the oracle found on this checkpoint;
    a level that differs is printed (the task did not come out as built on this seed)."""
    found = {level: chosen["style"] for level, chosen in oracle["levels"].items()}
    differ = {
        level: (style, found.get(level)) for level, style in designed.items() if found.get(level) != style
    }
    for level, (want, got) in differ.items():
        print(f"[rl-reasoner] eval: level {level}: the task is built for {want} but the oracle is {got}")
    return {"designed": dict(designed), "oracle": found, "holds": bool(designed) and not differ}


SUMMED = ("pass@1", "mean_tokens", "truncation_rate")  # the oracle's per-level numbers, weighted by prompts


def find_oracle(forced: Mapping[str, dict], threshold: float) -> dict:
    """Per level, the shortest forced style with pass@1 >= threshold (else the most accurate one)."""
    levels = list(next(iter(forced.values()))["levels"])  # in the engine's level order
    chosen = {}
    for level in levels:
        by_length = sorted(forced, key=lambda s: forced[s]["levels"][level]["mean_tokens"])
        good = [s for s in by_length if forced[s]["levels"][level]["pass@1"] >= threshold]
        style = good[0] if good else max(by_length, key=lambda s: forced[s]["levels"][level]["pass@1"])
        numbers = forced[style]["levels"][level]
        chosen[level] = {"style": style, **{key: numbers[key] for key in ("prompts", *SUMMED)}}
    n = sum(c["prompts"] for c in chosen.values())
    overall = {key: sum(c[key] * c["prompts"] for c in chosen.values()) / n for key in SUMMED}
    return {"overall": {"prompts": n, **overall}, "levels": chosen}
