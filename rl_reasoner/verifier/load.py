"""Scoring API: load a verifier folder and score (prompt, completion) pairs, higher = more likely correct.

    verifier = load_verifier("runs/<name>/verifier-orm", kind="orm", policy_tokenizer=tokenizer)
    scores = verifier.score(prompts, completions)
    steps = load_verifier("runs/<name>/verifier-prm", kind="prm").score_steps(prompts, completions)

Every check on the folder (``verifier.json`` present, the kind asked for, the policy's tokenizer) runs
before the model is loaded. An outcome verifier (``orm``) scores a completion as the reward trainer saw its
training pairs: the prompt, then the completion, then EOS, and the head reads the last non-padding token.
A process verifier (``prm``, a two-class token-classification head) reads prompt + completion (no EOS) and
gives each step (``verifier.steps``: a line; the last step is the whole completion) the probability of its
"correct" class at the step's last token; causal attention means that score saw the prefix up to there
only. Its whole-completion score is the *minimum* over the steps: a completion is as good as its weakest
step (Math-Shepherd's choice), whereas the last step alone would only repeat an outcome verdict and ignore
a wrong line that happened to reach a plausible answer.
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
        """``orm`` (outcome verifier: one score per completion) or ``prm`` (process verifier: per step)."""
        return self.info["kind"]

    def score(self, prompts: Sequence[str], completions: Sequence[str], batch_size: int = 64) -> list[float]:
        """One score per (prompt, completion) pair, higher = more likely correct; batched, no gradients.
        A process verifier gives the minimum of the completion's step scores (see the module docstring)."""
        _check_batch("score", prompts, completions, batch_size)
        if self.kind == "prm":
            return [min(steps) for steps in self.score_steps(prompts, completions, batch_size)]
        return self._score_outcomes(prompts, completions, batch_size)

    def score_steps(
        self, prompts: Sequence[str], completions: Sequence[str], batch_size: int = 64
    ) -> list[list[float]]:
        """Per pair, one score per step of the completion (``verifier.steps``): the process verifier's
        probability that the prefix ending at that step is correct; batched, no gradients."""
        import torch

        from rl_reasoner.verifier.steps import end_token_indices, step_ends

        _check_batch("score_steps", prompts, completions, batch_size)
        if self.kind != "prm":
            raise VerifierError(
                f"score_steps() needs a process verifier (kind 'prm'); this one is {self.kind!r}, which "
                "scores whole completions only: use score(), or train a process verifier with rl-reasoner "
                "verifier RUN --kind prm"
            )
        out: list[list[float]] = [[] for _ in prompts]
        for batch in _alike_batches([p + c for p, c in zip(prompts, completions, strict=True)], batch_size):
            pairs = [(prompts[i], completions[i]) for i in batch]
            enc = self.tokenizer([p + c for p, c in pairs], padding=True, return_offsets_mapping=True,
                                 return_tensors="pt")
            offsets = enc.pop("offset_mapping").tolist()
            with torch.inference_mode():
                logits = self.model(**enc.to(self.model.device)).logits  # (batch, tokens, 2)
            correct = torch.softmax(logits.float(), dim=-1)[..., 1].tolist()
            for row, (index, (prompt, completion)) in enumerate(zip(batch, pairs, strict=True)):
                ends = [len(prompt) + end for end in step_ends(completion)]
                out[index] = [correct[row][t] for t in end_token_indices(offsets[row], ends)]
        return out

    def _score_outcomes(
        self, prompts: Sequence[str], completions: Sequence[str], batch_size: int
    ) -> list[float]:
        import torch

        eos = self.tokenizer.eos_token or ""
        texts = [p + c for p, c in zip(prompts, completions, strict=True)]
        texts = [t if t.endswith(eos) else t + eos for t in texts]  # as RewardTrainer adds EOS to each pair
        scores = [0.0] * len(texts)
        for batch in _alike_batches(texts, batch_size):
            enc = self.tokenizer([texts[i] for i in batch], padding=True, return_tensors="pt")
            with torch.inference_mode():
                logits = self.model(**enc.to(self.model.device)).logits  # (batch, 1)
            for index, score in zip(batch, logits[:, 0].float().tolist(), strict=True):
                scores[index] = score
        return scores


def _alike_batches(texts: Sequence[str], batch_size: int) -> list[list[int]]:
    """Indices of ``texts`` in batches of ``batch_size``, texts of alike length together: a batch pads to
    its longest text, so one long trace among short ones made most of a batch padding (4800 eval candidates
    of the weak model: 51.5 s as drawn, 33.9 s by length, scores equal to 1e-5). Callers put each score back
    at its text's index.

    >>> _alike_batches(["ccc", "a", "bb", "dddd"], 2)
    [[1, 2], [0, 3]]
    """
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def _check_batch(method: str, prompts: Sequence[str], completions: Sequence[str], batch_size: int) -> None:
    if len(prompts) != len(completions):
        raise VerifierError(f"{method}() got {len(prompts)} prompts but {len(completions)} completions")
    if batch_size < 1:
        raise VerifierError(f"{method}() needs batch_size >= 1, got {batch_size}")


def load_verifier(path: str, *, kind: str | None = None, policy_tokenizer=None) -> Verifier:
    """The verifier in folder ``path``, checked first: a verifier folder, of ``kind`` if given, trained on
    ``policy_tokenizer``'s vocabulary if given (a tokenizer, or a folder to load one from)."""
    info = read_info(path, kind)
    if policy_tokenizer is not None:
        if isinstance(policy_tokenizer, (str, Path)):
            from transformers import AutoTokenizer

            policy_tokenizer = AutoTokenizer.from_pretrained(str(policy_tokenizer))
        check_tokenizer(info, path, policy_tokenizer)
    from transformers import (
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
        AutoTokenizer,
    )

    heads = {"orm": AutoModelForSequenceClassification, "prm": AutoModelForTokenClassification}
    tokenizer = AutoTokenizer.from_pretrained(str(path), padding_side="right")
    model = heads[info["kind"]].from_pretrained(str(path))
    return Verifier(model, tokenizer, info)
