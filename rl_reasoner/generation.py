"""Batched HF ``generate`` for evaluation: completions with their token counts and truncation flags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tqdm.auto import tqdm


@dataclass(frozen=True)
class Generation:
    text: str  # decoded completion, special tokens removed
    tokens: int  # completion tokens, EOS and padding excluded
    truncated: bool  # no EOS within the token budget


def load_policy(model_path: str):
    """Model (eval mode) and tokenizer from a local folder or hub id, tokenizer padded on the left."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_path)
    model.eval()
    return model, tokenizer


def generate(
    model,
    tokenizer,
    prompts: Sequence[str],
    *,
    max_new_tokens: int,
    batch_size: int = 64,
    desc: str = "generate",
) -> list[Generation]:
    """Greedy completions for ``prompts`` in batches (prompts sorted by length to limit padding)."""
    import torch

    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    results: list[Generation | None] = [None] * len(prompts)
    eos = tokenizer.eos_token_id
    for start in tqdm(range(0, len(order), batch_size), desc=desc, unit="batch", leave=False):
        batch = [order[i] for i in range(start, min(start + batch_size, len(order)))]
        enc = tokenizer([prompts[i] for i in batch], return_tensors="pt", padding=True)
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=eos,
                pad_token_id=tokenizer.pad_token_id,
            )
        for row, index in zip(out[:, enc["input_ids"].shape[1] :].tolist(), batch, strict=True):
            ids = row[: row.index(eos)] if eos in row else [t for t in row if t != tokenizer.pad_token_id]
            text = tokenizer.decode(ids, skip_special_tokens=True)
            results[index] = Generation(text=text, tokens=len(ids), truncated=eos not in row)
    return results  # type: ignore[return-value]
