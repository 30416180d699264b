"""Process verifier (PRM): a two-class token-classification head over the SFT model, scored at step ends.

Data flow, in the order :func:`build_prm` runs it:

1. sample ``k`` completions per training prompt from the run's SFT model and verify each (``samples``);
2. label every step of every completion by Monte-Carlo rollouts from its prefix (``mc_labels``: right when
   the completion itself, a right continuation of a later step, or one of up to ``M`` continuations of its
   own at temperature 1.0 reaches the gold; the final step = the verdict);
3. split the prompts into train and held-out (seeded, as the ORM does);
4. one training sequence per train completion: prompt + completion, each step's hard label (0/1) on the
   token that ends it, -100 on every other token, so ``transformers.Trainer`` and the standard token
   cross-entropy of ``AutoModelForTokenClassification`` (``num_labels=2``, loaded from the SFT folder)
   train on step ends only;
5. score the held-out completions' steps, and compare labels and scores with the exact step checker
   (``prm_eval``); everything goes to ``verifier.json``, the labels to ``step_labels.jsonl``.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from rl_reasoner.verifier.info import VerifierError, tokenizer_fingerprint, write_info
from rl_reasoner.verifier.load import Verifier
from rl_reasoner.verifier.mc_labels import Continuations, StepLabels, mc_step_labels
from rl_reasoner.verifier.prm_eval import evaluate_prm
from rl_reasoner.verifier.samples import (
    LabelledPrompt,
    Sampling,
    read_training_prompts,
    sample_and_label,
    split_prompts,
)
from rl_reasoner.verifier.steps import end_token_indices, step_ends

LABELS_FILE = "step_labels.jsonl"


@dataclass(frozen=True)
class PrmSettings:
    """Everything that decides a PRM besides the run it is trained on (recorded in ``verifier.json``)."""

    samples_per_prompt: int = 4  # k completions per training prompt, temperature 1.0
    prompts: int | None = None  # training prompts to sample (None: all of data/grpo.jsonl)
    continuations: int = 8  # at most M continuations per step prefix (in rounds), temperature 1.0
    steps: int = 100  # Trainer optimizer steps
    seed: int = 0
    heldout_fraction: float = 0.2  # share of prompts kept out of training, for the held-out numbers
    sequences_per_step: int = 8  # per_device_train_batch_size (one completion per sequence)
    learning_rate: float = 1e-4


def token_rows(tokenizer, items: Sequence[LabelledPrompt], labelled: Sequence[StepLabels]) -> list[dict]:
    """One Trainer row per labelled completion: ``input_ids``, ``attention_mask`` and ``labels`` (the
    step's hard label on the token that ends it, as :meth:`Verifier.score_steps` reads it; -100 elsewhere).
    When two steps end in one token (a merged ``"\\n\\n"``) the later step's label is the token's."""
    rows = []
    for sample in labelled:
        prompt = items[sample.prompt_index].prompt
        enc = tokenizer(prompt + sample.completion, return_offsets_mapping=True)
        labels = [-100] * len(enc["input_ids"])
        ends = [len(prompt) + end for end in step_ends(sample.completion)]
        for index, label in zip(end_token_indices(enc["offset_mapping"], ends), sample.labels, strict=True):
            labels[index] = int(label)
        rows.append({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
                     "labels": labels})
    return rows


def train_token_classifier(
    policy_path: str, items: Sequence[LabelledPrompt], labelled: Sequence[StepLabels], out: Path,
    settings: PrmSettings,
):
    """``transformers.Trainer`` on the :func:`token_rows` of ``labelled``, with a 2-label token-classification
    head loaded from the SFT folder; saves model + tokenizer to ``out``."""
    from datasets import Dataset
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
    )

    from rl_reasoner.trainer_config import device_args

    tokenizer = AutoTokenizer.from_pretrained(policy_path, padding_side="right")
    model = AutoModelForTokenClassification.from_pretrained(
        policy_path, num_labels=2, id2label={0: "wrong", 1: "right"}, label2id={"wrong": 0, "right": 1}
    )
    model.config.pad_token_id = tokenizer.pad_token_id
    args = TrainingArguments(
        output_dir=str(out),
        max_steps=settings.steps,
        per_device_train_batch_size=settings.sequences_per_step,
        learning_rate=settings.learning_rate,
        seed=settings.seed,
        save_strategy="no",
        logging_steps=max(1, settings.steps // 10),
        report_to="none",
        **device_args({}),
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(token_rows(tokenizer, items, labelled)),
        data_collator=DataCollatorForTokenClassification(tokenizer),
        processing_class=tokenizer,
    )
    trainer.train()
    trainer.save_model(str(out))
    return trainer.model, tokenizer


def _label_steps(
    run_dir: Path, policy_path: str, settings: PrmSettings, sampling: Sampling
) -> tuple[list[LabelledPrompt], list[StepLabels]]:
    """Samples of the run's training prompts and their step labels; the policy is freed afterwards."""
    from rl_reasoner.generation import load_policy

    rows = read_training_prompts(run_dir, settings.prompts, settings.seed)
    if len(rows) < 2:
        raise VerifierError(
            f"{run_dir} has {len(rows)} training prompt(s) in data/grpo.jsonl; a verifier needs >= 2 "
            "(some to train on, some held out)"
        )
    model, tokenizer = load_policy(policy_path)
    items = sample_and_label(model, tokenizer, rows, sampling, settings.seed)
    spec = Continuations(settings.continuations, sampling.max_new_tokens, sampling.batch_size)
    labelled = mc_step_labels(model, tokenizer, items, spec, settings.seed)
    del model
    gc.collect()
    return items, labelled


def _one_label_error(n_steps: int, right: int) -> VerifierError:
    kind = "right (a right answer was reachable)" if right else "wrong (no continuation reached the answer)"
    return VerifierError(
        f"all {n_steps} step labels of the training prompts are {kind}, so a process verifier has nothing to "
        "separate: raise --samples-per-prompt, --prompts or --continuations, or train the SFT stage further"
    )


def write_labels(
    out: Path, items: Sequence[LabelledPrompt], labelled: Sequence[StepLabels], heldout: set[int]
) -> None:
    """``step_labels.jsonl``: per completion its prompt id, held-out flag, steps' ends, fractions, labels."""
    with (out / LABELS_FILE).open("w") as f:
        for sample in labelled:
            f.write(json.dumps({
                "id": items[sample.prompt_index].id, "heldout": sample.prompt_index in heldout,
                "completion": sample.completion, "step_ends": step_ends(sample.completion),
                "fractions": [None if x is None else round(x, 4) for x in sample.fractions],
                "continuations": list(sample.drawn), "labels": list(sample.labels),
            }) + "\n")


def build_prm(run_dir: Path, policy_path: str, out: Path, settings: PrmSettings, sampling: Sampling) -> dict:
    """Samples, labels, trains and evaluates a PRM for the run; writes folder ``out`` and returns its info."""
    items, labelled = _label_steps(run_dir, policy_path, settings, sampling)
    train, heldout_items = split_prompts(items, settings.heldout_fraction, settings.seed)
    heldout = {i for i, item in enumerate(items) if any(item is h for h in heldout_items)}
    train_labelled = [s for s in labelled if s.prompt_index not in heldout]
    train_steps = [label for s in train_labelled for label in s.labels]
    if all(train_steps) or not any(train_steps):
        raise _one_label_error(len(train_steps), sum(train_steps))
    out.mkdir(parents=True, exist_ok=True)
    model, tokenizer = train_token_classifier(policy_path, items, train_labelled, out, settings)
    verifier = Verifier(model, tokenizer, {"kind": "prm"})
    held = [s for s in labelled if s.prompt_index in heldout]
    scores = verifier.score_steps([items[s.prompt_index].prompt for s in held], [s.completion for s in held])
    write_labels(out, items, labelled, heldout)
    info = {
        "kind": "prm",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "policy": {"model": str(Path(policy_path).resolve()), "run": str(run_dir.resolve()), "stage": "sft"},
        "tokenizer_sha256": tokenizer_fingerprint(tokenizer),
        "counts": _counts(items, labelled, train, heldout_items, len(train_steps)),
        **evaluate_prm(items, labelled, heldout, scores),
        "whole_completion_score": "min over steps",
        "settings": asdict(settings)
        | {"temperature": sampling.temperature, "max_new_tokens": sampling.max_new_tokens},
    }
    write_info(out, info)
    return info


def _counts(items, labelled, train, heldout, train_steps: int) -> dict:
    n_samples = sum(len(item.correct) for item in items)
    all_steps = [label for s in labelled for label in s.labels]
    return {
        "prompts": len(items),
        "train_prompts": len(train),
        "heldout_prompts": len(heldout),
        "samples": n_samples,
        "correct_rate": round(sum(sum(item.correct) for item in items) / n_samples, 4),
        "steps": len(all_steps),
        "train_steps": train_steps,
        "mc_right_rate": round(sum(all_steps) / len(all_steps), 4),
        "continued_prefixes": sum(d > 0 for s in labelled for d in s.drawn),  # wrong completions' steps
        "continuations": sum(d for s in labelled for d in s.drawn),
    }
