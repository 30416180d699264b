"""Outcome verifier (ORM): a sequence-classification head over the SFT model, trained Bradley-Terry on pairs.

Data flow, in the order :func:`build_orm` runs it:

1. sample ``k`` completions per training prompt from the run's SFT model and verify each (``samples``), and
   save them to ``labelled-samples.jsonl`` (``samples_from``: read another ORM folder's instead, drawn alike);
2. split the prompts into train and held-out (seeded); with ``shuffle_labels`` permute the train samples'
   labels (the control: its held-out AUROC should be ~0.5);
3. pair, per train prompt, correct with incorrect completions of that prompt (chosen = prompt + correct,
   rejected = prompt + incorrect), at most ``max_pairs_per_prompt`` pairs;
4. train with TRL's ``RewardTrainer`` (loss -log sigmoid(r_chosen - r_rejected)) from the SFT folder, which
   it loads as ``AutoModelForSequenceClassification`` with one label;
5. score every held-out sample and record its AUROC against the true labels in ``verifier.json``.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from rl_reasoner.verifier.info import VerifierError, tokenizer_fingerprint, write_info
from rl_reasoner.verifier.load import Verifier
from rl_reasoner.verifier.metrics import auroc
from rl_reasoner.verifier.samples import (
    LabelledPrompt,
    Sampling,
    load_labelled,
    read_training_prompts,
    sample_and_label,
    save_labelled,
    shuffle_labels,
    split_prompts,
)


@dataclass(frozen=True)
class OrmSettings:
    """Everything that decides an ORM besides the run it is trained on (recorded in ``verifier.json``)."""

    samples_per_prompt: int = 8  # k completions per training prompt, temperature 1.0
    prompts: int | None = None  # training prompts to sample (None: all of data/grpo.jsonl)
    steps: int = 100  # RewardTrainer optimizer steps
    seed: int = 0
    heldout_fraction: float = 0.2  # share of prompts kept out of training, for the AUROC
    max_pairs_per_prompt: int = 8
    pairs_per_step: int = 8  # per_device_train_batch_size (each pair is two sequences)
    learning_rate: float = 1e-4
    shuffle_labels: bool = False  # the control: labels permuted across train samples before pairing
    samples_from: str | None = None  # an ORM folder of the same run whose labelled samples to reuse


def preference_pairs(items: Sequence[LabelledPrompt], cap: int) -> list[dict]:
    """Per prompt with both kinds of completion, ``max(#correct, #incorrect)`` pairs (at most ``cap``):
    pair ``i`` is correct ``i mod #correct`` against incorrect ``i mod #incorrect``, so every completion of
    the prompt appears in a pair while the cap allows.

    >>> item = LabelledPrompt("1", 1, "2+2=?\\n", "4", ("a", "b", "c"), (True, False, False))
    >>> [(p["chosen"], p["rejected"]) for p in preference_pairs([item], cap=8)]
    [('a', 'b'), ('a', 'c')]
    """
    pairs = []
    for item in items:
        good = [c for c, ok in zip(item.completions, item.correct, strict=True) if ok]
        bad = [c for c, ok in zip(item.completions, item.correct, strict=True) if not ok]
        if not good or not bad:
            continue
        for i in range(min(cap, max(len(good), len(bad)))):
            pairs.append({"prompt": item.prompt,
                          "chosen": good[i % len(good)], "rejected": bad[i % len(bad)]})
    return pairs


def reward_trainer(policy_path: str, pairs: list[dict], out: Path, settings: OrmSettings):
    """TRL's ``RewardTrainer`` on ``pairs`` from the SFT folder, each step's pairs of alike length: a step
    pads its ``2 x pairs_per_step`` sequences to the longest, and one long trace among short answers made
    most of a random step padding (``group_by_length``: per 50 steps' pairs, sorted by length)."""
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    from rl_reasoner.trainer_config import device_args

    config = RewardConfig(
        output_dir=str(out),
        max_steps=settings.steps,
        per_device_train_batch_size=settings.pairs_per_step,
        learning_rate=settings.learning_rate,
        max_length=None,  # TRL drops longer pairs silently (default 1024): long traces are the point
        train_sampling_strategy="group_by_length",  # reads the "length" column added below
        remove_unused_columns=False,  # keeps that column (TRL's collator reads only the token ids)
        activation_checkpointing=False,  # on in RewardConfig: same weights, each step ~30 % slower
        seed=settings.seed,
        save_strategy="no",
        logging_steps=max(1, settings.steps // 10),
        report_to="none",
        **device_args({}),
    )
    trainer = RewardTrainer(model=policy_path, args=config, train_dataset=Dataset.from_list(pairs))
    trainer.train_dataset = trainer.train_dataset.map(  # the pair's tokens as TRL tokenized them
        lambda pair: {"length": max(len(pair["chosen_ids"]), len(pair["rejected_ids"]))}
    )
    return trainer


def train_reward_model(policy_path: str, pairs: list[dict], out: Path, settings: OrmSettings):
    """:func:`reward_trainer` trained; saves model + tokenizer to ``out``."""
    trainer = reward_trainer(policy_path, pairs, out, settings)
    trainer.train()
    trainer.save_model(str(out))
    return trainer.model, trainer.processing_class


def heldout_auroc(verifier: Verifier, items: Sequence[LabelledPrompt]) -> float | None:
    """AUROC of the verifier's scores on the held-out samples (true labels); None when all share a label."""
    prompts = [item.prompt for item in items for _ in item.completions]
    completions = [c for item in items for c in item.completions]
    labels = [ok for item in items for ok in item.correct]
    if all(labels) or not any(labels):
        return None
    return auroc(verifier.score(prompts, completions), labels)


def _draw(rows: Sequence[dict], policy_path: str, settings: OrmSettings, sampling: Sampling) -> dict:
    """What decides an ORM's labelled samples (the header of ``labelled-samples.jsonl``): the policy, the
    prompts drawn (a digest of their ids and texts) and how each was sampled."""
    drawn = json.dumps([(str(row.get("id")), row["prompt"], str(row["answer"])) for row in rows])
    digest = hashlib.sha256(drawn.encode()).hexdigest()[:16]
    return {"policy": str(Path(policy_path).resolve()), "prompts": digest,
            "samples_per_prompt": settings.samples_per_prompt, "seed": settings.seed,
            "temperature": sampling.temperature, "max_new_tokens": sampling.max_new_tokens}  # fmt: skip


def _sample(
    run_dir: Path, policy_path: str, settings: OrmSettings, sampling: Sampling
) -> list[LabelledPrompt]:
    """Labelled samples of the run's training prompts; the policy is freed before the reward model loads."""
    from rl_reasoner.generation import load_policy

    rows = read_training_prompts(run_dir, settings.prompts, settings.seed)
    if settings.samples_from:
        return load_labelled(Path(settings.samples_from), _draw(rows, policy_path, settings, sampling))
    if len(rows) < 2:
        raise VerifierError(
            f"{run_dir} has {len(rows)} training prompt(s) in data/grpo.jsonl; a verifier needs >= 2 "
            "(some to train on, some held out)"
        )
    model, tokenizer = load_policy(policy_path)
    items = sample_and_label(model, tokenizer, rows, sampling, settings.seed)
    del model
    gc.collect()
    return items


def _no_pairs_error(train: Sequence[LabelledPrompt], n_samples: int, correct: int) -> VerifierError:
    return VerifierError(
        f"none of the {len(train)} training prompts has both a correct and an incorrect sample (the SFT "
        f"model got {correct} of {n_samples} samples right), so there is no pair to train a verifier on: "
        "raise --samples-per-prompt or --prompts, or train the SFT stage further"
    )


def build_orm(run_dir: Path, policy_path: str, out: Path, settings: OrmSettings, sampling: Sampling) -> dict:
    """Samples, trains and evaluates an ORM for the run; writes the folder ``out`` and returns its info."""
    items = _sample(run_dir, policy_path, settings, sampling)
    rows = read_training_prompts(run_dir, settings.prompts, settings.seed)  # as _sample drew them
    n_samples = sum(len(item.correct) for item in items)
    correct = sum(sum(item.correct) for item in items)
    train, heldout = split_prompts(items, settings.heldout_fraction, settings.seed)
    if settings.shuffle_labels:
        train = shuffle_labels(train, settings.seed)
    pairs = preference_pairs(train, settings.max_pairs_per_prompt)
    if not pairs:
        raise _no_pairs_error(train, n_samples, correct)
    out.mkdir(parents=True, exist_ok=True)
    save_labelled(out, _draw(rows, policy_path, settings, sampling), items)
    model, tokenizer = train_reward_model(policy_path, pairs, out, settings)
    verifier = Verifier(model, tokenizer, {"kind": "orm"})
    info = {
        "kind": "orm",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "policy": {"model": str(Path(policy_path).resolve()), "run": str(run_dir.resolve()), "stage": "sft"},
        "tokenizer_sha256": tokenizer_fingerprint(tokenizer),
        "counts": {
            "prompts": len(items),
            "train_prompts": len(train),
            "heldout_prompts": len(heldout),
            "samples": n_samples,
            "heldout_samples": sum(len(item.correct) for item in heldout),
            "pairs": len(pairs),
            "correct_rate": round(correct / n_samples, 4),
        },
        "heldout_auroc": heldout_auroc(verifier, heldout),
        "shuffled_labels": settings.shuffle_labels,
        "settings": asdict(settings)
        | {"temperature": sampling.temperature, "max_new_tokens": sampling.max_new_tokens},
    }
    write_info(out, info)
    return info
