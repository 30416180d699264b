"""Sample, score and save: the one evaluation engine, behind ``rl-reasoner eval`` and the pipeline's eval
stage (:func:`evaluate_model`).

A model is evaluated on named *variants* of the eval rows: ``original``, and optionally ``perturbed``
(re-sampled numbers) or ``forced-<style>`` (a trace style's opening appended to every prompt and counted
as part of the completion: the oracle's forced styles; the opening may depend on the row, e.g. on its
arithmetic operation). Each variant is sampled on its own, in chunks.

``OUT/eval_config.json`` records what the samples depend on (model, data, sampling settings); a rerun
with a different configuration is refused rather than mixing samples. ``OUT/samples.jsonl`` gets one
line per prompt (all its samples, verified) as soon as its chunk is done, flushed and synced, so a crash
loses at most the chunk in flight; a rerun skips every prompt already there (a torn last line is
dropped). A variant's prompts are sorted by length and cut into fixed chunks seeded ``seed + chunk``, so a
resumed run samples the missing chunks exactly as an uninterrupted one would.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tqdm.auto import tqdm

from rewards.verify import extract_answer, verify_batch
from rl_reasoner.errors import UsageError
from rl_reasoner.evaluation import metrics as M
from rl_reasoner.evaluation.backends import EvalBackend, load_backend
from rl_reasoner.evaluation.layout import CONFIG_FILE, METRICS_FILE, ORIGINAL, SAMPLES_FILE
from rl_reasoner.evaluation.replay import ReplayBackend, check_source
from rl_reasoner.evaluation.search import SearchSpec, with_search
from rl_reasoner.generation import Generation

# Recorded in eval_config.json but not compared on resume: neither changes what a sample is (the batch size
# picks the chunks' seeds; a crash for memory is resumed with a smaller one).
NOT_COMPARED = ("batch_size", "candidates_from")
EXTRACTION = M.EXTRACTION  # answers are read as graders read them: boxed or not (rewards.verify.MODES)


class EvalError(UsageError):
    """The eval cannot run as asked (bad k, output folder in use by another configuration, …)."""


@dataclass(frozen=True)
class Variant:
    """Eval rows (``id, prompt, answer, level``) and the opening forced onto every completion."""

    rows: Sequence[dict]
    prefix: str | Callable[[dict], str] = ""
    """Appended to each prompt (a function: row -> that row's opening); verified and counted as part of the
    completion."""

    def prefix_of(self, row: dict) -> str:
        return self.prefix(row) if callable(self.prefix) else self.prefix


@dataclass(frozen=True)
class Sampling:
    max_new_tokens: int
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
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


def prompts_digest(variants: Mapping[str, Variant]) -> str:
    payload = json.dumps(
        {
            name: [(r["id"], r["prompt"] + v.prefix_of(r), r["answer"]) for r in v.rows]
            for name, v in variants.items()
        }
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
            if old.get(k) != new.get(k) and k not in NOT_COMPARED
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


def _judged(gold: str, candidates: Sequence[tuple[str | None, bool]]) -> list[dict]:
    """A search's candidates (answer, verified by it) with their verdicts against the gold, which the search
    never saw."""
    boxed = [f"\\boxed{{{a}}}" for a, _ in candidates]
    verdicts = verify_batch([gold] * len(candidates), boxed, mode=EXTRACTION)
    return [{"answer": a, "verified": ok, "correct": a is not None and verdict is True}
            for (a, ok), verdict in zip(candidates, verdicts, strict=True)]  # fmt: skip


def score(items: Sequence[tuple[str, dict]], groups: Sequence[Sequence]) -> list[dict]:
    """One record per (variant, row): its samples verified (``correct``), answers extracted, vote classes."""
    flat = [(row, gen) for (_, row), group in zip(items, groups, strict=True) for gen in group]
    golds, texts = [row["answer"] for row, _ in flat], [gen.text for _, gen in flat]
    verdicts = verify_batch(golds, texts, mode=EXTRACTION)
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
                    "answer": extract_answer(gen.text, mode=EXTRACTION),
                    "correct": verdicts[pos] is True and not gen.truncated,
                    **({"spent_tokens": gen.spent} if gen.spent is not None else {}),
                    **({"verifier_score": gen.score} if gen.score is not None else {}),
                }
            )
            pos += 1
        for s, gen in zip(samples, group, strict=True):
            if gen.candidates:
                s["candidates"] = _judged(row["answer"], gen.candidates)
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
    backend: EvalBackend,
    variants: Mapping[str, Variant],
    out: Path,
    sampling: Sampling,
    done: Sequence[dict],
    *,
    desc: str = "eval",
) -> list[dict]:
    """Every (variant, row) not in ``done`` is sampled, scored and appended to ``samples.jsonl``."""
    have = {(r["variant"], r["id"]) for r in done}
    records = [r for r in done if r["variant"] in variants]
    total = sum(len(v.rows) for v in variants.values())
    bar = tqdm(total=total, initial=len(have & _keys(variants)), desc=desc, unit="prompt")
    with (out / SAMPLES_FILE).open("a") as f:
        for name, variant in variants.items():
            for new in _sample_variant(backend, name, variant, sampling, have):
                f.write("".join(json.dumps(rec) + "\n" for rec in new))
                f.flush()
                os.fsync(f.fileno())
                records += new
                bar.update(len(new))
    bar.close()
    return records


def _keys(variants: Mapping[str, Variant]) -> set[tuple[str, str]]:
    return {(name, row["id"]) for name, v in variants.items() for row in v.rows}


def _sample_variant(backend: EvalBackend, name: str, variant: Variant, sampling: Sampling, have: set):
    """Scored records of the rows not in ``have``, one list per chunk of prompts sorted by length."""
    rows = sorted(variant.rows, key=lambda row: len(row["prompt"]))
    size = backend.prompts_per_chunk(sampling.n)
    template = _chat_formatter(backend.tokenizer) if sampling.chat_template else None
    forced: dict[str, Generation] = {}  # opening -> it as a generation (text, token count, ids)
    for chunk_index, start in enumerate(range(0, len(rows), size)):
        todo = [row for row in rows[start : start + size] if (name, row["id"]) not in have]
        if not todo:
            continue
        openings = [variant.prefix_of(row) for row in todo]
        for text in set(openings) - set(forced):
            forced[text] = Generation(text, *_token_count(backend.tokenizer, text))
        prompts = [
            (template(row["prompt"]) if template else row["prompt"]) + opening
            for row, opening in zip(todo, openings, strict=True)
        ]
        groups = backend.generate(
            prompts,
            n=sampling.n,
            max_new_tokens=sampling.max_new_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            seed=sampling.seed + chunk_index,
        )
        groups = [
            [_after(forced[opening], gen) for gen in group] if opening else group
            for opening, group in zip(openings, groups, strict=True)
        ]
        yield score([(name, row) for row in todo], groups)


def _token_count(tokenizer, text: str) -> tuple[int, bool, tuple[int, ...]]:
    ids = tuple(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else ()
    return len(ids), False, ids


def _after(prefix: Generation, gen: Generation) -> Generation:
    """The completion as the model wrote it after the forced ``prefix``: both texts, tokens and ids."""
    tokens, ids = prefix.tokens + gen.tokens, prefix.ids + gen.ids
    return replace(gen, text=prefix.text + gen.text, tokens=tokens, ids=ids)


def _chat_formatter(tokenizer):
    if not getattr(tokenizer, "chat_template", None):
        raise EvalError("--chat-template: the model's tokenizer has no chat template")

    def fmt(prompt: str) -> str:
        messages = [{"role": "user", "content": prompt}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    return fmt


def compute_metrics(
    records: Sequence[dict], variants: Mapping[str, Variant], ks: Sequence[int], config: dict
) -> dict:
    """metrics.json: config, the ``original`` variant's metrics at the top level, every other variant's
    under ``variants``, and the robustness drop when there is a ``perturbed`` variant."""
    by_key = {(r["variant"], r["id"]): r for r in records}
    ordered = {name: [by_key[(name, row["id"])] for row in v.rows] for name, v in variants.items()}
    budget = config["max_new_tokens"]
    result = {"config": config, "ks": list(ks), **M.evaluate(ordered.pop(ORIGINAL), ks, budget)}
    if ordered:
        result["variants"] = {name: M.evaluate(recs, ks, budget) for name, recs in ordered.items()}
    if "perturbed" in ordered:
        result["robustness"] = M.robustness(result, result["variants"]["perturbed"])
    return result


def eval_config(
    model: str,
    data: dict,
    sampling: Sampling,
    backend: str,
    variants: Mapping,
    search: SearchSpec | None = None,
    batch_size: int | None = None,
) -> dict:
    return {
        "model": model,
        "data": data,
        **asdict(sampling),
        "batch_size": batch_size,
        "backend": backend,
        **({"search": search.settings()} if search is not None else {}),
        "extraction": EXTRACTION,  # the samples' verdicts were scored so: a resume must score the same way
        "variants": list(variants),
        "prompts": prompts_digest(variants),
    }


def evaluate_model(
    model_path: str,
    variants: Mapping[str, Variant],
    out: Path,
    sampling: Sampling,
    *,
    ks: Sequence[int] = (1,),
    backend: str = "hf",
    batch_size: int,
    data: Mapping | None = None,
    model_name: str | None = None,
    search: SearchSpec | None = None,
    candidates_from: Path | None = None,
) -> dict:
    """Samples (resuming ``out``), scores and summarises ``model_path`` on ``variants``; writes
    ``metrics.json``, ``metrics.md`` and ``budget_curve.png`` to ``out`` and returns the metrics. With a
    ``search``, each prompt's one sample is the search's pick (``rl_reasoner.evaluation.search``); with
    ``candidates_from`` (a sampled eval's folder) a best-of-N search ranks its samples
    (``rl_reasoner.evaluation.replay``)."""
    from rl_reasoner.evaluation.report import markdown, plot_budget_curve

    sampling.check(ks)
    if search is not None:
        search.check(sampling.n, backend)
    config = eval_config(model_name or model_path, dict(data or {}), sampling, backend, variants, search,
                         batch_size)  # fmt: skip
    replayed = None
    if candidates_from is not None:
        replayed = check_source(candidates_from, config, variants[ORIGINAL].rows)
        config["candidates_from"] = str(Path(candidates_from).resolve())
    done = prepare_output(out, config)
    total = sum(len(v.rows) for v in variants.values())
    if done:
        print(f"[rl-reasoner] eval: resuming, {len(done)} of {total} prompts done in {out / SAMPLES_FILE}")
    records, have = done, {(r["variant"], r["id"]) for r in done}
    if len(_keys(variants) - have):
        if replayed is not None:
            todo = [r["id"] for r in variants[ORIGINAL].rows if (ORIGINAL, r["id"]) not in have]
            inner = _replay(replayed, todo, model_path, batch_size, sampling.chat_template)
        else:
            inner = load_backend(backend, model_path, batch_size=batch_size)
        engine = with_search(search, inner)
        records = generate_all(engine, variants, out, sampling, done, desc=f"eval {Path(model_path).name}")
    metrics = compute_metrics(records, variants, ks, config)
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2))
    (out / "metrics.md").write_text(markdown(metrics))
    plot_budget_curve(metrics, out / "budget_curve.png")
    return metrics


def _replay(
    records: Sequence[dict], todo: Sequence[str], model_path: str, batch_size: int, chat_template: bool
) -> ReplayBackend:
    """The replay of ``records`` for the rows ``todo`` (ids, in row order: a prompt the data holds twice
    gets each of its rows' samples in the order the runner asks, which keeps row order among equal texts)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
    template = _chat_formatter(tokenizer) if chat_template else None
    by_id = {r["id"]: r for r in records}
    return ReplayBackend([by_id[i] for i in todo], tokenizer, batch_size, template)


def load_metrics(path: Path) -> dict:
    """A ``metrics.json`` (or the folder holding one) as written by :func:`evaluate_model`."""
    path = Path(path)
    return json.loads((path / METRICS_FILE if path.is_dir() else path).read_text())
