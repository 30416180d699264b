"""Batched HF ``generate`` for evaluation: completions with their token ids, counts and truncation flags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tqdm.auto import tqdm


@dataclass(frozen=True)
class Generation:
    text: str  # decoded completion, special tokens removed
    tokens: int  # completion tokens, EOS and padding excluded
    truncated: bool  # no EOS within the token budget
    ids: tuple[int, ...] = ()  # the completion's token ids (EOS and padding excluded)
    spent: int | None = None  # a search's pick: every token generated to choose it (evaluation.search)
    score: float | None = None  # a search's pick: the verifier's score of it


def default_device() -> str:
    """Where eval models go: the first CUDA device when there is one, else the CPU."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_policy(model_path: str, device: str | None = None):
    """Model (eval mode, on ``device``, default :func:`default_device`) and tokenizer from a local folder or
    hub id, the tokenizer padded on the left."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_path)
    model.to(device or default_device())
    model.eval()
    return model, tokenizer


def generate_samples(
    model,
    tokenizer,
    prompts: Sequence[str],
    *,
    n: int = 1,
    max_new_tokens: int,
    batch_size: int,
    temperature: float = 0.0,
    top_p: float = 1.0,
    seed: int | None = None,
    desc: str = "generate",
    progress: bool = True,
) -> list[list[Generation]]:
    """``n`` completions per prompt: greedy when ``temperature`` is 0, else sampled with ``temperature``
    and ``top_p`` (no top-k, whatever the model's generation config says).

    ``batch_size`` counts sequences (prompts x n). Prompts are sorted by length to limit padding; with a
    ``seed``, batch ``i`` is sampled after ``torch.manual_seed(seed + i)``, so a run is reproducible.
    """
    import torch

    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    per_batch = max(1, batch_size // n)
    results: list[list[Generation] | None] = [None] * len(prompts)
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    sampling = {"do_sample": False}
    if temperature > 0:
        sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0}
    starts = range(0, len(order), per_batch)
    for batch_index, start in enumerate(
        tqdm(starts, desc=desc, unit="batch", leave=False, disable=not progress)
    ):
        batch = order[start : start + per_batch]
        enc = tokenizer([prompts[i] for i in batch], return_tensors="pt", padding=True).to(model.device)
        if seed is not None:
            torch.manual_seed(seed + batch_index)
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                num_return_sequences=n,
                eos_token_id=eos,
                pad_token_id=pad,
                **sampling,
            )
        rows = out[:, enc["input_ids"].shape[1] :].tolist()
        for j, index in enumerate(batch):
            results[index] = [_completion(tokenizer, row, eos, pad) for row in rows[j * n : (j + 1) * n]]
    return results  # type: ignore[return-value]


def _completion(tokenizer, row: list[int], eos: int, pad: int | None) -> Generation:
    ids = row[: row.index(eos)] if eos in row else [t for t in row if t != pad]
    text = tokenizer.decode(ids, skip_special_tokens=True)
    return Generation(text=text, tokens=len(ids), truncated=eos not in row, ids=tuple(ids))
