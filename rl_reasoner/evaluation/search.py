"""Inference-time search behind the eval backend interface (``rl-reasoner eval --search NAME``).

A search backend wraps a generation backend and answers each prompt with *one* completion it chose, plus
what choosing it cost: ``Generation.spent`` counts every token generated for that prompt (all candidates,
rollouts, discriminator passes), so methods compare at equal compute. It sees the prompts only, never the
gold answers (the runner scores the chosen completion afterwards, like any other sample).

* ``bon``: best-of-N (lecture, 2.2). ``candidates`` samples per prompt from the generation backend, drawn
  exactly as ``rl-reasoner eval --n <candidates>`` draws them (same chunks, same seeds), so a best-of-N eval
  and a majority-vote eval with the same settings rank the very same candidates; the outcome verifier's
  highest score wins, a completion cut off at the token budget only when every candidate is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rl_reasoner.errors import UsageError
from rl_reasoner.evaluation.backends import EvalBackend
from rl_reasoner.generation import Generation


class SearchError(UsageError):
    """A search cannot run as asked (no verifier, a budget below 1, a verifier of the wrong kind)."""


@dataclass(frozen=True)
class SearchSpec:
    """What ``--search`` asks for; recorded in ``eval_config.json`` so a resume cannot mix two searches."""

    name: str
    verifier: str | None = None  # folder made by ``rl-reasoner verifier RUN --kind orm``
    candidates: int = 16

    def check(self, n: int) -> None:
        """One paragraph naming the bad setting, before any model is loaded."""
        if self.name not in SEARCHES:
            raise SearchError(f"unknown --search {self.name!r}; valid searches: {list(SEARCHES)}")
        if self.candidates < 1:
            raise SearchError(f"--candidates must be >= 1, got {self.candidates}")
        if n != 1:
            raise SearchError(
                f"--search {self.name} answers each prompt once (its candidates are --candidates), so it "
                f"takes --n 1, got --n {n}"
            )
        kind = NEEDS_VERIFIER.get(self.name)
        if kind and not self.verifier:
            raise SearchError(
                f"--search {self.name} ranks candidates with an outcome verifier: pass --verifier DIR (make "
                f"one with rl-reasoner verifier RUN --kind {kind})"
            )
        if self.verifier:
            from rl_reasoner.verifier.info import read_info

            read_info(self.verifier, kind)  # a verifier folder of the kind this search ranks with


class BestOfN:
    """Verifier-ranked best of ``candidates`` samples per prompt."""

    def __init__(self, inner: EvalBackend, verifier, candidates: int):
        self.inner, self.verifier, self.candidates = inner, verifier, candidates
        self.tokenizer = inner.tokenizer

    def prompts_per_chunk(self, n: int) -> int:
        return self.inner.prompts_per_chunk(self.candidates)  # the chunks of an --n <candidates> eval

    def generate(
        self,
        prompts: Sequence[str],
        *,
        n: int,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
    ) -> list[list[Generation]]:
        groups = self.inner.generate(
            prompts,
            n=self.candidates,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_p=top_p,
            seed=seed,
        )
        flat = [(prompt, gen) for prompt, group in zip(prompts, groups, strict=True) for gen in group]
        scores = self.verifier.score([p for p, _ in flat], [g.text for _, g in flat])
        chosen, pos = [], 0
        for group in groups:
            ranked = scores[pos : pos + len(group)]
            pos += len(group)
            best = max(range(len(group)), key=lambda i: (not group[i].truncated, ranked[i], -i))
            spent = sum(g.tokens for g in group)
            chosen.append([replace(group[best], spent=spent, score=ranked[best])])
        return chosen


NEEDS_VERIFIER = {"bon": "orm"}  # search -> the verifier kind it ranks with


def _best_of_n(spec: SearchSpec, inner: EvalBackend) -> EvalBackend:
    from rl_reasoner.verifier import load_verifier

    verifier = load_verifier(spec.verifier, kind="orm", policy_tokenizer=inner.tokenizer)
    return BestOfN(inner, verifier, spec.candidates)


# ``--search`` name -> (spec, generation backend) -> the search backend.
SEARCHES: dict[str, Callable[[SearchSpec, EvalBackend], EvalBackend]] = {"bon": _best_of_n}


def with_search(spec: SearchSpec | None, inner: EvalBackend) -> EvalBackend:
    """``inner`` itself without a search, else the search backend around it."""
    return inner if spec is None else SEARCHES[spec.name](spec, inner)
