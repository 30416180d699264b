"""Eval stage: accuracy, completion tokens and truncation per difficulty level, plus the oracle.

For each model (SFT, GRPO, baselines) the held-out prompts are completed greedily and verified.
The **oracle** is found on the SFT model: it is forced into each trace style (its opening is appended
to the prompt) and, per level, the shortest style it gets right at least ``oracle_threshold`` of the
time is what a perfectly length-aware policy would use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from rewards.verify import verify
from rl_reasoner.data.arith import STYLE_PREFIX
from rl_reasoner.generation import generate, load_policy


def complete_and_score(
    model_path: str,
    rows: Sequence[dict],
    *,
    max_new_tokens: int,
    batch_size: int,
    prefix: str = "",
    samples_file: Path | None = None,
) -> list[dict]:
    """One record per row: level, correct, tokens (forced prefix included), truncated."""
    model, tokenizer = load_policy(model_path)
    prefix_tokens = len(tokenizer(prefix, add_special_tokens=False)["input_ids"]) if prefix else 0
    gens = generate(
        model,
        tokenizer,
        [row["prompt"] + prefix for row in rows],
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        desc=f"eval {Path(model_path).name}{' ' + prefix.split()[-1] if prefix else ''}",
    )
    records = []
    for row, gen in zip(rows, gens, strict=True):
        completion = prefix + gen.text
        records.append(
            {
                "id": row["id"],
                "level": row["level"],
                "correct": bool(verify(row["answer"], completion)) and not gen.truncated,
                "tokens": prefix_tokens + gen.tokens,
                "truncated": gen.truncated,
                "completion": completion,
            }
        )
    if samples_file is not None:
        with samples_file.open("w") as f:
            f.writelines(json.dumps(r) + "\n" for r in records)
    return records


def summarize(records: Sequence[dict]) -> dict:
    """Accuracy, mean tokens and truncation rate per level and overall."""

    def stats(rs: Sequence[dict]) -> dict:
        n = len(rs)
        return {
            "n": n,
            "accuracy": sum(r["correct"] for r in rs) / n,
            "mean_tokens": sum(r["tokens"] for r in rs) / n,
            "truncation_rate": sum(r["truncated"] for r in rs) / n,
        }

    levels = sorted({r["level"] for r in records})
    return {
        "overall": stats(records),
        "levels": {str(lv): stats([r for r in records if r["level"] == lv]) for lv in levels},
    }


def find_oracle(forced: Mapping[str, dict], threshold: float) -> dict:
    """Per level, the shortest forced style with accuracy >= threshold (else the most accurate one)."""
    levels = sorted(next(iter(forced.values()))["levels"], key=int)
    chosen = {}
    for level in levels:
        by_length = sorted(forced, key=lambda s: forced[s]["levels"][level]["mean_tokens"])
        good = [s for s in by_length if forced[s]["levels"][level]["accuracy"] >= threshold]
        style = good[0] if good else max(by_length, key=lambda s: forced[s]["levels"][level]["accuracy"])
        chosen[level] = {"style": style, **forced[style]["levels"][level]}
    n = sum(c["n"] for c in chosen.values())
    overall = {
        key: sum(c[key] * c["n"] for c in chosen.values()) / n
        for key in ("accuracy", "mean_tokens", "truncation_rate")
    }
    return {"overall": {"n": n, **overall}, "levels": chosen}


def run_eval(
    eval_rows: Sequence[dict],
    models: Mapping[str, str],
    out_dir: Path,
    *,
    max_new_tokens: int,
    batch_size: int,
    oracle_threshold: float,
    oracle_model: str | None = "sft",
) -> dict:
    """Evaluate every model in ``models`` (label -> path), find the oracle, write ``results.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    opts = {"max_new_tokens": max_new_tokens, "batch_size": batch_size}
    results: dict = {"models": {}, "forced": {}}
    for label, path in models.items():
        records = complete_and_score(path, eval_rows, samples_file=out_dir / f"samples-{label}.jsonl", **opts)
        results["models"][label] = summarize(records)
    if oracle_model in models:
        for style, prefix in STYLE_PREFIX.items():
            records = complete_and_score(
                models[oracle_model],
                eval_rows,
                prefix=prefix,
                samples_file=out_dir / f"samples-{oracle_model}-forced-{style}.jsonl",
                **opts,
            )
            results["forced"][style] = summarize(records)
        results["oracle"] = find_oracle(results["forced"], oracle_threshold)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    return results


def run_eval_unit(pipeline, unit: str, out: Path) -> dict:
    from rl_reasoner.report import write_report
    from rl_reasoner.stages.common import read_jsonl

    recipe = pipeline.recipe
    from rl_reasoner.stages.data import base_model_path

    units = (*pipeline.units("sft"), *pipeline.units("grpo"))
    models = {u: str(pipeline.run_dir / u) for u in units}
    if recipe.model.grpo_from == "base":  # no SFT stage: the base model is the reference
        models = {"base": base_model_path(pipeline), **models}
    from trl import GRPOConfig

    trained_budget = GRPOConfig.__dataclass_fields__["max_completion_length"].default
    max_new = recipe.eval.max_new_tokens or recipe.grpo.get("max_completion_length", trained_budget)
    results = run_eval(
        read_jsonl(pipeline.run_dir / "data" / "eval.jsonl"),
        models,
        out,
        max_new_tokens=max_new,
        batch_size=recipe.eval.batch_size,
        oracle_threshold=recipe.eval.oracle_threshold,
        oracle_model="sft" if recipe.data.task == "arith" else None,  # forced styles exist in arith only
    )
    table = write_report(results, out, title=recipe.name)
    print(table)
    return {label: r["overall"] for label, r in results["models"].items()} | {
        "oracle": results.get("oracle", {}).get("overall")
    }
