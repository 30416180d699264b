"""Batched HF ``generate`` for evaluation: completions with their token ids, counts and truncation flags
(:func:`generate_samples`), and one more line after each of many token prefixes (:func:`generate_lines`, the
step of a process-verifier beam search)."""

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
    candidates: tuple[tuple[str | None, bool], ...] = ()  # rstar's pick: (answer, verified) of each candidate


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
    ``seed``, batch ``i`` is sampled after ``torch.manual_seed(seed + i)``, so a run is reproducible. The KV
    cache grows by chunks (``rl_reasoner.kv_cache``: the same tokens; a sampled eval of 300 problems x 16 took
    160 s instead of 257 s on the 2-core CPU). :func:`generate_lines` keeps transformers' cache: a line is a
    few tokens, and there it made no difference (MCTS 29.4 / 29.8 s, PRM beam 42.7 / 40.4 s on 60 problems).
    """
    import torch

    from rl_reasoner.kv_cache import chunked_cache

    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    per_batch = max(1, batch_size // n)
    results: list[list[Generation] | None] = [None] * len(prompts)
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    sampling = _sampling_kwargs(temperature, top_p)
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
                **chunked_cache(model),
            )
        rows = out[:, enc["input_ids"].shape[1] :].tolist()
        for j, index in enumerate(batch):
            results[index] = [_completion(tokenizer, row, eos, pad) for row in rows[j * n : (j + 1) * n]]
    return results  # type: ignore[return-value]


def _sampling_kwargs(temperature: float, top_p: float) -> dict:
    """``generate`` settings: greedy at temperature 0, else sampled (no top-k, whatever the config says)."""
    if temperature > 0:
        return {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0}
    return {"do_sample": False}


def _completion(tokenizer, row: list[int], eos: int, pad: int | None) -> Generation:
    ids = row[: row.index(eos)] if eos in row else [t for t in row if t != pad]
    text = tokenizer.decode(ids, skip_special_tokens=True)
    return Generation(text=text, tokens=len(ids), truncated=eos not in row, ids=tuple(ids))


@dataclass(frozen=True)
class Step:
    """One line a model wrote after a prefix (:func:`generate_lines`)."""

    ids: tuple[int, ...]  # its token ids, the one holding the newline included; EOS and padding excluded
    ended: str  # "line" (its last token holds a newline), "eos" (the model ended), "budget" (limit reached)


def newline_token_ids(tokenizer) -> list[int]:
    """Ids of the tokens whose text holds a newline: the tokens that end a step (``verifier.steps``).

    >>> from rl_reasoner.tiny_model import build_tokenizer
    >>> tokenizer = build_tokenizer()
    >>> newline_token_ids(tokenizer) == tokenizer("\\n")["input_ids"]
    True
    """
    texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
    return [i for i, text in enumerate(texts) if "\n" in text]


def generate_lines(
    model,
    tokenizer,
    prefixes: Sequence[Sequence[int]],
    budgets: Sequence[int],
    *,
    newline_ids: Sequence[int],
    batch_size: int,
    temperature: float = 0.0,
    top_p: float = 1.0,
) -> list[Step]:
    """One more line after each token-id prefix (prompt + completion so far): row ``i`` stops at the first
    token in ``newline_ids``, at EOS, or after ``budgets[i]`` tokens (each >= 1), whichever comes first.

    Rows are left-padded into batches of ``batch_size`` and sampled as :func:`generate_samples` samples; the
    caller seeds ``torch``. A row that has stopped gets padding while the others go on (a transformers
    ``StoppingCriteria`` marks it done), so no row is cut short or run past its own budget.
    """
    import torch

    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    fill = eos if pad is None else pad
    newlines = torch.tensor(sorted(set(newline_ids)), dtype=torch.long, device=model.device)
    steps: list[Step] = []
    for start in range(0, len(prefixes), batch_size):
        rows, limits = prefixes[start : start + batch_size], list(budgets[start : start + batch_size])
        width = max(len(row) for row in rows)
        ids = torch.tensor([[fill] * (width - len(r)) + list(r) for r in rows], device=model.device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=model.device)
        stop = _line_end(newlines, width, torch.tensor(limits, device=model.device))
        with torch.inference_mode():
            out = model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=max(limits),
                stopping_criteria=stop,
                eos_token_id=eos,
                pad_token_id=fill,
                **_sampling_kwargs(temperature, top_p),
            )
        made = out[:, width:].tolist()
        steps += [_step(row, limit, eos, set(newline_ids)) for row, limit in zip(made, limits, strict=True)]
    return steps


def _line_end(newlines, width: int, limits):
    """A transformers ``StoppingCriteria``: row ``i`` is done once its last token is a newline token or it
    has made ``limits[i]`` tokens (``generate`` then pads it while the other rows go on)."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class LineEnd(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            made = input_ids.shape[1] - width
            return torch.isin(input_ids[:, -1], newlines) | (made >= limits)

    return StoppingCriteriaList([LineEnd()])


def _step(row: list[int], limit: int, eos: int, newline_ids: set[int]) -> Step:
    ids: list[int] = []
    for token in row[:limit]:
        if token == eos:
            return Step(tuple(ids), "eos")
        ids.append(token)
        if token in newline_ids:
            return Step(tuple(ids), "line")
    return Step(tuple(ids), "budget")
