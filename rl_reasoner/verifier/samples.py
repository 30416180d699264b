"""Labelled samples for a verifier: k completions per training prompt from a run's SFT model, each verified.

The prompts are the run's GRPO training prompts (``RUN/data/grpo.jsonl``), never its eval split, so a
verifier used at inference never saw the problems it is judged on. Each completion is verified as the
GRPO accuracy reward and the cold-start teacher verify it (``rewards.verify``, strict extraction; a
truncated completion counts as wrong; model text is never evaluated). Prompts, not samples, are split
into train and held-out, so held-out AUROC measures problems the verifier has not seen.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from rl_reasoner.data.teacher import sample_teacher

TRAIN_PROMPTS = "data/grpo.jsonl"  # inside a run directory; its eval split (data/eval.jsonl) is never read


@dataclass(frozen=True)
class Sampling:
    """How completions are drawn (the fields ``rl_reasoner.data.teacher.sample_teacher`` reads)."""

    k: int  # completions per prompt
    max_new_tokens: int
    batch_size: int  # sequences per generate call
    temperature: float = 1.0


@dataclass(frozen=True)
class LabelledPrompt:
    """One training prompt, its gold answer, and its sampled completions with their verdicts."""

    id: str
    level: int | str | None
    prompt: str
    answer: str
    completions: tuple[str, ...]
    correct: tuple[bool, ...]  # one per completion


def read_training_prompts(run_dir: Path, limit: int | None, seed: int) -> list[dict]:
    """The run's training prompts (``data/grpo.jsonl``): all, or ``limit`` of them drawn by the seed."""
    with (run_dir / TRAIN_PROMPTS).open() as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if limit is not None and limit < len(rows):
        rows = random.Random(seed).sample(rows, limit)
    return rows


def sample_and_label(
    model, tokenizer, rows: Sequence[dict], sampling: Sampling, seed: int
) -> list[LabelledPrompt]:
    """``sampling.k`` completions of each row's prompt from ``model``, each labelled by the verifier."""
    samples = sample_teacher(model, tokenizer, rows, sampling, seed)
    return [
        LabelledPrompt(
            id=str(row.get("id", i)),
            level=row.get("level"),
            prompt=row["prompt"],
            answer=str(row["answer"]),
            completions=tuple(s.text for s in row_samples),
            correct=tuple(s.correct for s in row_samples),
        )
        for i, (row, row_samples) in enumerate(zip(rows, samples, strict=True))
    ]


def split_prompts(
    items: Sequence[LabelledPrompt], heldout_fraction: float, seed: int
) -> tuple[list[LabelledPrompt], list[LabelledPrompt]]:
    """(train, held-out) by a seeded shuffle of the prompts; each side keeps at least one prompt.

    >>> items = [LabelledPrompt(str(i), 1, "p", "a", (), ()) for i in range(10)]
    >>> train, heldout = split_prompts(items, 0.2, seed=0)
    >>> len(train), len(heldout), sorted(p.id for p in train + heldout) == sorted(p.id for p in items)
    (8, 2, True)
    """
    if len(items) < 2:
        raise ValueError(f"splitting needs at least 2 prompts, got {len(items)}")
    order = list(items)
    random.Random(seed).shuffle(order)
    n_heldout = min(len(order) - 1, max(1, round(len(order) * heldout_fraction)))
    return order[n_heldout:], order[:n_heldout]


def shuffle_labels(items: Sequence[LabelledPrompt], seed: int) -> list[LabelledPrompt]:
    """The same samples with their correct/incorrect labels permuted across all of them (the control).

    The share of correct samples stays the same; which completion is called correct becomes chance.

    >>> items = [LabelledPrompt("a", 1, "p", "1", ("x", "y"), (True, False)),
    ...          LabelledPrompt("b", 1, "q", "2", ("z",), (True,))]
    >>> sum(sum(p.correct) for p in shuffle_labels(items, seed=0))
    2
    """
    labels = [label for item in items for label in item.correct]
    random.Random(seed).shuffle(labels)
    out, start = [], 0
    for item in items:
        out.append(replace(item, correct=tuple(labels[start : start + len(item.correct)])))
        start += len(item.correct)
    return out


SAMPLES_FILE = "labelled-samples.jsonl"  # in a verifier folder: what it was trained and held out on


def save_labelled(out: Path, draw: dict, items: Sequence[LabelledPrompt]) -> None:
    """``out/labelled-samples.jsonl``: a header line with the ``draw`` (what decided the samples), then one
    line per prompt with its completions and verdicts, so a second verifier can train on the same samples."""
    lines = [json.dumps({"draw": draw})] + [json.dumps(asdict(item)) for item in items]
    (out / SAMPLES_FILE).write_text("".join(line + "\n" for line in lines))


def load_labelled(folder: Path, draw: dict) -> list[LabelledPrompt]:
    """The labelled samples a verifier folder saved, when they were drawn as ``draw`` asks (else an error)."""
    from rl_reasoner.verifier.info import VerifierError

    path = folder / SAMPLES_FILE
    if not path.is_file():
        raise VerifierError(
            f"--samples-from {folder} holds no {SAMPLES_FILE}: pass the folder of an outcome verifier "
            "trained on this run (rl-reasoner verifier RUN --kind orm writes it)"
        )
    try:
        header, *lines = path.read_text().splitlines()
        theirs = json.loads(header)["draw"]
        raws = [json.loads(line) for line in lines]
    except (ValueError, KeyError, TypeError):
        raise VerifierError(
            f"--samples-from {path} is not a labelled-samples file (a header line with the draw, then one "
            "JSON line per prompt); pass the folder of an outcome verifier, or drop --samples-from to sample"
        ) from None
    if differ := sorted(k for k in draw.keys() | theirs.keys() if draw.get(k) != theirs.get(k)):
        shown = "; ".join(f"{k}: {theirs.get(k)!r} there, {draw.get(k)!r} here" for k in differ)
        raise VerifierError(
            f"--samples-from {folder} was sampled otherwise ({shown}); pass a verifier folder of the same "
            "run, --samples-per-prompt, --prompts and --seed, or drop --samples-from to sample"
        )
    items = []
    for raw in raws:
        items.append(replace(LabelledPrompt(**raw), completions=tuple(raw["completions"]),
                             correct=tuple(raw["correct"])))  # fmt: skip
    return items
