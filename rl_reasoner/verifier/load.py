"""Scoring API: load a verifier folder and score (prompt, completion) pairs, higher = more likely correct.

    verifier = load_verifier("runs/<name>/verifier-orm", kind="orm", policy_tokenizer=tokenizer)
    scores = verifier.score(prompts, completions)

Every check on the folder (``verifier.json`` present, the kind asked for, the policy's tokenizer) runs
before the model is loaded. A completion is scored as the reward trainer saw its training pairs: the
prompt, then the completion, then EOS, and the head reads the last non-padding token.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rl_reasoner.verifier.info import VerifierError, check_tokenizer, read_info


class Verifier:
    """A trained verifier (a sequence-classification model with one output) and its ``verifier.json``."""

    def __init__(self, model, tokenizer, info: dict, device: str | None = None):
        from rl_reasoner.generation import default_device

        self.model = model.to(device or default_device())
        self.model.eval()
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "right"  # the head finds the last non-pad token; right as in training
        self.info = info

    @property
    def kind(self) -> str:
        """``orm`` (outcome verifier: one score per whole completion)."""
        return self.info["kind"]

    def score(self, prompts: Sequence[str], completions: Sequence[str], batch_size: int = 64) -> list[float]:
        """One score per (prompt, completion) pair, higher = more likely correct; batched, no gradients."""
        import torch

        if len(prompts) != len(completions):
            raise VerifierError(f"score() got {len(prompts)} prompts but {len(completions)} completions")
        if batch_size < 1:
            raise VerifierError(f"score() needs batch_size >= 1, got {batch_size}")
        eos = self.tokenizer.eos_token or ""
        texts = [p + c for p, c in zip(prompts, completions, strict=True)]
        texts = [t if t.endswith(eos) else t + eos for t in texts]  # as RewardTrainer adds EOS to each pair
        scores: list[float] = []
        for start in range(0, len(texts), batch_size):
            enc = self.tokenizer(texts[start : start + batch_size], padding=True, return_tensors="pt")
            with torch.inference_mode():
                logits = self.model(**enc.to(self.model.device)).logits  # (batch, 1)
            scores.extend(logits[:, 0].float().tolist())
        return scores


def load_verifier(path: str, *, kind: str | None = None, policy_tokenizer=None) -> Verifier:
    """The verifier in folder ``path``, checked first: a verifier folder, of ``kind`` if given, trained on
    ``policy_tokenizer``'s vocabulary if given (a tokenizer, or a folder to load one from)."""
    info = read_info(path, kind)
    if policy_tokenizer is not None:
        if isinstance(policy_tokenizer, (str, Path)):
            from transformers import AutoTokenizer

            policy_tokenizer = AutoTokenizer.from_pretrained(str(policy_tokenizer))
        check_tokenizer(info, path, policy_tokenizer)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), padding_side="right")
    model = AutoModelForSequenceClassification.from_pretrained(str(path))
    return Verifier(model, tokenizer, info)
