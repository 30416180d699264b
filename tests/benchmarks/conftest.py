"""Shared by the benchmark tests: a benchmarks/ script loaded as a module, and eval outputs in the schema the
pipeline writes (``eval/<model>/samples.jsonl``, ``metrics.json``, ``eval/results.json``), made by the real
metrics and oracle code from hand-written samples, without a model."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from rl_reasoner.data.arith import STYLE_PREFIX
from rl_reasoner.evaluation.runner import ORIGINAL, SAMPLES_FILE, Variant, compute_metrics
from rl_reasoner.stages.evaluate import FORCED, find_oracle

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 256
PROMPTS = 10  # per level


@pytest.fixture
def load_bench():
    """``load_bench("demo_bench")``: benchmarks/demo_bench.py as a module (removed from sys.modules after)."""
    loaded = []

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
        loaded.append(name)
        return module

    yield load
    for name in loaded:
        sys.modules.pop(name, None)


def records(variant: str, levels: dict, n: int = 1) -> list[dict]:
    """samples.jsonl lines: per level ``(style, prompts right, tokens)``, PROMPTS prompts of ``n`` samples."""
    out = []
    for level, (style, right, tokens) in levels.items():
        for i in range(PROMPTS):
            sample = {
                "text": f"{STYLE_PREFIX[style]} 1+2:\n</think>\n\\boxed{{3}}",
                "token_ids": [],
                "tokens": tokens,
                "truncated": False,
                "answer": "3",
                "correct": i < right,
                "vote": 0,
            }
            out.append(
                {
                    "variant": variant,
                    "id": f"{level}-{i}",
                    "level": level,
                    "prompt": "1+2=?\n",
                    "answer": "3",
                    "samples": [dict(sample) for _ in range(n)],
                }
            )
    return out


def write_model(out: Path, variants: dict[str, dict], n: int = 1) -> dict:
    """``out/samples.jsonl`` and ``out/metrics.json`` of one model; ``variants``: name -> levels (see
    :func:`records`), ``original`` first. Returns the metrics."""
    recs = [r for name, levels in variants.items() for r in records(name, levels, n)]
    rows = {name: Variant([r for r in recs if r["variant"] == name]) for name in variants}
    config = {
        "model": out.name,
        "data": {"source": "eval.jsonl"},
        "n": n,
        "temperature": 0.0 if n == 1 else 0.8,
        "top_p": 1.0,
        "max_new_tokens": BUDGET,
        "backend": "hf",
    }
    metrics = compute_metrics(recs, rows, sorted({1, n}), config)
    out.mkdir(parents=True, exist_ok=True)
    (out / SAMPLES_FILE).write_text("".join(json.dumps(r) + "\n" for r in recs))
    (out / "metrics.json").write_text(json.dumps(metrics))
    return metrics


@pytest.fixture
def model_metrics():
    """:func:`write_model`, for tests that need other samples than :func:`eval_dir`'s."""
    return write_model


@pytest.fixture
def eval_dir(tmp_path):
    """A run's ``eval/`` folder as the pipeline writes it: sft (with its forced styles), grpo,
    grpo-accuracy-only and grpo-below_mean_bonus, levels 1 and 2, and the oracle (threshold 0.95)."""
    out = tmp_path / "run" / "eval"
    sft = {
        ORIGINAL: {1: ("verbose", 10, 60), 2: ("verbose", 10, 170)},
        FORCED + "direct": {1: ("direct", 10, 8), 2: ("direct", 3, 9)},
        FORCED + "concise": {1: ("concise", 10, 27), 2: ("concise", 9, 46)},
        FORCED + "verbose": {1: ("verbose", 10, 60), 2: ("verbose", 10, 170)},
    }
    models = {"sft": write_model(out / "sft", sft)}
    for label, levels in {
        "grpo": {1: ("direct", 10, 8), 2: ("verbose", 10, 150)},
        "grpo-accuracy-only": {1: ("verbose", 10, 58), 2: ("verbose", 10, 168)},
        "grpo-below_mean_bonus": {1: ("concise", 10, 27), 2: ("concise", 9, 46)},
    }.items():
        models[label] = write_model(out / label, {ORIGINAL: levels})
    forced = {name.removeprefix(FORCED): m for name, m in models["sft"]["variants"].items()}
    results = {"models": models, "oracle": find_oracle(forced, 0.95)}
    (out / "results.json").write_text(json.dumps(results))
    return out
