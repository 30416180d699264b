"""The influence analysis of one run, once its inputs are checked: greedy completions for the queries, EK-FAC
scores (kronfluence) and the gradient-similarity baseline against the documents, then the report."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rl_reasoner.influence.inputs import row_kind


@dataclass(frozen=True)
class InfluenceSettings:
    max_new_tokens: int  # greedy budget of the queries' completions
    batch_size: int = 8  # sequences per batch, for generation, factor fitting and scoring
    top_k: int = 5  # documents listed per query
    seed: int = 0  # draws the document subset and the queries


def answer_queries(model_path: str, queries: Sequence[dict], settings: InfluenceSettings) -> list[dict]:
    """Each query row with the model's greedy ``completion`` (and ``truncated``, ``correct``) added."""
    from rewards.verify import verify_batch
    from rl_reasoner.generation import generate_samples, load_policy
    from rl_reasoner.reward_funcs import GRPO_EXTRACTION

    model, tokenizer = load_policy(model_path, device="cpu")
    gens = generate_samples(
        model,
        tokenizer,
        [q["prompt"] for q in queries],
        max_new_tokens=settings.max_new_tokens,
        batch_size=settings.batch_size,
        desc="influence queries",
        progress=False,
    )
    texts = [g[0].text for g in gens]
    verdicts = verify_batch([q["answer"] for q in queries], texts, mode=GRPO_EXTRACTION, workers=1)
    return [
        {**q, "kind": row_kind(q), "completion": g[0].text, "truncated": g[0].truncated, "correct": bool(ok)}
        for q, g, ok in zip(queries, gens, verdicts, strict=True)
    ]


def score(
    model_path: str,
    documents: Sequence[dict],
    queries: Sequence[dict],
    work: Path,
    settings: InfluenceSettings,
) -> tuple[dict, dict]:
    """``({method: (Q, D) tensor}, seconds per method)``: EK-FAC (raw and relative) and the gradient
    baseline, on the CPU unless there is a GPU (kronfluence's choice)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rl_reasoner.influence.ekfac import pairwise_scores, relative_scores
    from rl_reasoner.influence.examples import encode, tracked_modules
    from rl_reasoner.influence.gradsim import gradient_similarity

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    docs = [encode(tokenizer, d["prompt"], d["completion"]) for d in documents]
    qs = [encode(tokenizer, q["prompt"], q["completion"], eos=not q["truncated"]) for q in queries]
    model = AutoModelForCausalLM.from_pretrained(model_path)
    modules = tracked_modules(model)
    seconds = {}
    start = time.perf_counter()
    grads = gradient_similarity(model, modules, docs, qs, pad_id=tokenizer.pad_token_id)
    seconds["gradient_similarity"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    ekfac, own = pairwise_scores(
        AutoModelForCausalLM.from_pretrained(model_path),
        modules,
        docs,
        qs,
        work,
        pad_id=tokenizer.pad_token_id,
        batch_size=settings.batch_size,
        seed=settings.seed,
    )
    seconds["ekfac"] = round(time.perf_counter() - start, 2)
    methods = {"ekfac": ekfac, "ekfac_relative": relative_scores(ekfac, own)}
    return {**methods, "grad_dot": grads["dot"], "grad_cosine": grads["cosine"]}, seconds


def run_influence(
    run: Path,
    model_path: Path,
    documents: Sequence[dict],
    queries: Sequence[dict],
    out: Path,
    settings: InfluenceSettings,
) -> dict:
    """Answers the queries, scores them against the documents and writes the report into ``out``."""
    from importlib.metadata import version

    from rl_reasoner.influence.report import write_report

    out.mkdir(parents=True, exist_ok=True)
    answered = answer_queries(str(model_path), queries, settings)
    documents = [{**d, "kind": row_kind(d)} for d in documents]
    scores, seconds = score(str(model_path), documents, answered, out / "kronfluence", settings)
    info = {
        "run": str(run),
        "model": str(model_path),
        "kronfluence": version("kronfluence"),
        "top_k": settings.top_k,
        "seed": settings.seed,
        "max_new_tokens": settings.max_new_tokens,
        "tracked": "weights and biases of the decoder layers' linear layers (no embeddings, no LM head)",
        "seconds": seconds,
    }
    return write_report(out, info, answered, documents, scores)
