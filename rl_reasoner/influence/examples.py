"""Token sequences for influence: a prompt and its completion, with the loss on the completion only.

A training document is an SFT row tokenised the way TRL's ``SFTTrainer`` trains on it (prompt + completion,
then EOS; loss on the completion tokens). A query is a prompt with the model's own greedy completion (EOS
appended when the model wrote one). Both share :func:`completion_loss`: the summed next-token cross-entropy
over the completion tokens (a document's training loss; a query's measurement, whose gradient is the
gradient of minus the completion's log-probability).
"""

from __future__ import annotations

from collections.abc import Sequence

IGNORE = -100  # label of the tokens that carry no loss (prompt, padding)


def encode(tokenizer, prompt: str, completion: str, *, eos: bool = True) -> dict:
    """``input_ids`` and ``labels`` (prompt tokens masked with :data:`IGNORE`) as lists of ints."""
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(prompt + completion, add_special_tokens=False)["input_ids"]
    if ids[: len(prompt_ids)] != prompt_ids:  # a merge across the boundary: tokenise the parts apart
        ids = prompt_ids + tokenizer(completion, add_special_tokens=False)["input_ids"]
    if eos:
        ids = ids + [tokenizer.eos_token_id]
    labels = [IGNORE] * len(prompt_ids) + ids[len(prompt_ids) :]
    return {"input_ids": ids, "labels": labels}


def collate(examples: Sequence[dict], pad_id: int = 0) -> dict:
    """Right-padded tensors ``input_ids``, ``attention_mask``, ``labels`` (B, T) from :func:`encode` dicts."""
    import torch

    width = max(len(e["input_ids"]) for e in examples)
    batch = {"input_ids": [], "attention_mask": [], "labels": []}
    for e in examples:
        pad = width - len(e["input_ids"])
        batch["input_ids"].append(e["input_ids"] + [pad_id] * pad)
        batch["attention_mask"].append([1] * len(e["input_ids"]) + [0] * pad)
        batch["labels"].append(e["labels"] + [IGNORE] * pad)
    return {k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}


def completion_loss(model, batch: dict, *, sample: bool = False):
    """Summed next-token cross-entropy over the labelled tokens of ``batch``; with ``sample``, the labels are
    drawn from the model's own predictive distribution (the true Fisher that EK-FAC fits)."""
    import torch
    import torch.nn.functional as F

    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
    logits, labels = logits[:, :-1], batch["labels"][:, 1:]  # (B, T-1, V), (B, T-1): predict token t+1
    if sample:
        with torch.no_grad():
            drawn = torch.multinomial(logits.softmax(-1).flatten(0, 1), 1).view(labels.shape)
        labels = torch.where(labels == IGNORE, labels, drawn)
    return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE, reduction="sum")


def tracked_modules(model) -> list[str]:
    """Names of the linear layers influence is computed over: every ``nn.Linear`` inside the decoder layers
    (attention and MLP projections). The embeddings and the LM head (tied to them) are left out."""
    from torch import nn

    return [
        name for name, m in model.named_modules() if isinstance(m, nn.Linear) and ".layers." in f".{name}"
    ]
