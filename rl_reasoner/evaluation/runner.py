"""Sample, score and save: the resumable loop behind ``rl-reasoner eval``.

``OUT/eval_config.json`` records what the samples depend on (model, data, sampling settings); a rerun
with a different configuration is refused rather than mixing samples. ``OUT/samples.jsonl`` gets one
line per prompt (all its samples, verified) as soon as its chunk is done, flushed and synced, so a crash
loses at most the chunk in flight; a rerun skips every prompt already there (a torn last line is
dropped). Prompts are sorted by length and cut into fixed chunks seeded ``seed + chunk``, so a resumed
run samples the missing chunks exactly as an uninterrupted one would.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm

from rewards.verify import extract_answer, verify_batch
from rl_reasoner.evaluation import metrics as M

CONFIG_FILE, SAMPLES_FILE, METRICS_FILE = "eval_config.json", "samples.jsonl", "metrics.json"


class EvalError(ValueError):
    """The eval cannot run as asked (bad k, output folder in use by another configuration, …)."""


@dataclass(frozen=True)
class Sampling:
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    seed: int = 0
    chat_template: bool = False  # wrap each prompt in the tokenizer's chat template

    def check(self, ks: Sequence[int]) -> None:
        if self.n < 1 or self.max_new_tokens < 1:
            raise EvalError(f"--n and --max-new-tokens must be >= 1, got {self.n} and {self.max_new_tokens}")
        bad = [k for k in ks if not 1 <= k <= self.n]
        if bad:
            raise EvalError(
                f"k={bad} is outside 1..n={self.n}: pass@k and maj@k need k <= n samples per prompt"
            )
        if self.n > 1 and self.temperature <= 0:
            raise EvalError(
                f"--n {self.n} with --temperature {self.temperature} would repeat one greedy sample"
            )
        if not 0 < self.top_p <= 1:
            raise EvalError(f"--top-p must be in (0, 1], got {self.top_p}")


def prompts_digest(variants: Mapping[str, Sequence[dict]]) -> str:
    payload = json.dumps(
        {v: [(r["id"], r["prompt"], r["answer"]) for r in rows] for v, rows in variants.items()}
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def prepare_output(out: Path, config: dict) -> list[dict]:
    """Checks ``out`` may take this run; returns the records already there (resume) and writes the config."""
    if out.exists() and not out.is_dir():
        raise EvalError(f"--out {out} is a file; pass a folder")
    config_path = out / CONFIG_FILE
    if out.exists() and any(out.iterdir()):
        if not config_path.exists():
            raise EvalError(
                f"--out {out} is not empty and holds no {CONFIG_FILE}; pick a new or empty folder"
            )
        old, new = _flat(json.loads(config_path.read_text())), _flat(config)
        changed = [
            f"{k}: {old.get(k)!r} -> {new.get(k)!r}"
            for k in sorted(set(old) | set(new))
            if old.get(k) != new.get(k)
        ]
        if changed:
            raise EvalError(
                f"--out {out} holds samples from a different configuration ({'; '.join(changed)}); "
                f"nothing was touched. Pick a new --out to evaluate this one."
            )
    out.mkdir(parents=True, exist_ok=True)
    config_path.write_text(json.dumps(config, indent=2))
    return read_samples(out / SAMPLES_FILE)


def _flat(config: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in config.items():
        out.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return out


def read_samples(path: Path) -> list[dict]:
    """Complete lines of ``samples.jsonl``; a torn last line (crash mid-write) is cut off the file."""
    if not path.exists():
        return []
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    records = [json.loads(line) for line in data[:keep].splitlines() if line.strip()]
    if keep < len(data):
        with path.open("r+b") as f:
            f.truncate(keep)
    return records


def score(items: Sequence[tuple[str, dict]], groups: Sequence[Sequence]) -> list[dict]:
    """One record per (variant, row): its samples verified (``correct``), answers extracted, vote classes."""
    flat = [(row, gen) for (_, row), group in zip(items, groups, strict=True) for gen in group]
    verdicts = verify_batch([row["answer"] for row, _ in flat], [gen.text for _, gen in flat])
    records, pos = [], 0
    for (variant, row), group in zip(items, groups, strict=True):
        samples = []
        for gen in group:
            samples.append(
                {
                    "text": gen.text,
                    "token_ids": list(gen.ids),
                    "tokens": gen.tokens,
                    "truncated": gen.truncated,
                    "answer": extract_answer(gen.text),
                    "correct": verdicts[pos] is True and not gen.truncated,
                }
            )
            pos += 1
        votes = M.answer_classes([None if s["truncated"] else s["answer"] for s in samples])
        for s, vote in zip(samples, votes, strict=True):
            s["vote"] = vote
        records.append(
            {
                "variant": variant,
                "id": row["id"],
                "level": row.get("level"),
                "prompt": row["prompt"],
                "answer": row["answer"],
                "samples": samples,
            }
        )
    return records


def generate_all(
    backend,
    variants: Mapping[str, Sequence[dict]],
    out: Path,
    sampling: Sampling,
    done: Sequence[dict],
    *,
    desc: str = "eval",
) -> list[dict]:
    """Every (variant, row) not in ``done`` is sampled, scored and appended to ``samples.jsonl``."""
    work = sorted(
        ((v, row) for v, rows in variants.items() for row in rows), key=lambda item: len(item[1]["prompt"])
    )
    have = {(r["variant"], r["id"]) for r in done}
    records = [r for r in done if r["variant"] in variants]
    size = backend.prompts_per_chunk(sampling.n)
    template = _chat_formatter(backend.tokenizer) if sampling.chat_template else None
    bar = tqdm(total=len(work), initial=sum((v, r["id"]) in have for v, r in work), desc=desc, unit="prompt")
    with (out / SAMPLES_FILE).open("a") as f:
        for chunk_index, start in enumerate(range(0, len(work), size)):
            todo = [(v, row) for v, row in work[start : start + size] if (v, row["id"]) not in have]
            if not todo:
                continue
            prompts = [template(row["prompt"]) if template else row["prompt"] for _, row in todo]
            groups = backend.generate(
                prompts,
                n=sampling.n,
                max_new_tokens=sampling.max_new_tokens,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                seed=sampling.seed + chunk_index,
            )
            new = score(todo, groups)
            f.write("".join(json.dumps(rec) + "\n" for rec in new))
            f.flush()
            os.fsync(f.fileno())
            records += new
            bar.update(len(new))
    bar.close()
    return records


def _chat_formatter(tokenizer):
    if not getattr(tokenizer, "chat_template", None):
        raise EvalError("--chat-template: the model's tokenizer has no chat template")

    def fmt(prompt: str) -> str:
        messages = [{"role": "user", "content": prompt}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    return fmt


def compute_metrics(
    records: Sequence[dict], variants: Mapping[str, Sequence[dict]], ks: Sequence[int], config: dict
) -> dict:
    """metrics.json content: config, the original split's metrics, and the perturbed ones when present."""
    by_key = {(r["variant"], r["id"]): r for r in records}
    ordered = {v: [by_key[(v, row["id"])] for row in rows] for v, rows in variants.items()}
    result = {
        "config": config,
        "ks": list(ks),
        **M.evaluate(ordered["original"], ks, config["max_new_tokens"]),
    }
    if "perturbed" in ordered:
        result["perturbed"] = M.evaluate(ordered["perturbed"], ks, config["max_new_tokens"])
        result["robustness"] = M.robustness(result, result["perturbed"])
    return result


def eval_config(model: str, data: dict, sampling: Sampling, backend: str, variants: Mapping) -> dict:
    return {
        "model": model,
        "data": data,
        **asdict(sampling),
        "backend": backend,
        "variants": list(variants),
        "prompts": prompts_digest(variants),
    }
