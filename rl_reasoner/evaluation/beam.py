"""Process-verifier beam search (``rl-reasoner eval --search prm-beam``; lecture, 2.3).

A step is a line (``verifier.steps``). Each prompt keeps a beam of at most ``beam_width`` partial
completions, starting from the empty one. Each round, every entry of every prompt in the chunk is continued
``expansions`` times by one sampled line (one batched ``generate`` call for the whole chunk: a row stops
after its first newline token, at EOS, or at the prompt's token budget), and the process verifier scores
each new prefix. A prefix that ended with EOS, or used up the budget, is set aside as a candidate; of the
others the ``beam_width`` best *distinct* ones form the next beam (identical samples would only fill the
beam with copies). The search ends when no entry is left; the pick is the best candidate that ended with
EOS, one cut off at the budget only when every candidate was.

Which score ranks a prefix: the PRM's probability at its *last* step. The PRM's labels say "a right answer
is still reachable from the prefix ending here" and its head reads the step's last token with the whole
prefix before it in view, so the last step's score is the prefix's value; for a finished completion it is
the verdict on the whole completion. The minimum over the steps (``Verifier.score``) would give every
sibling whose new line scores above its parent's weakest line the same score, so it could not choose
among the continuations of one entry.

``Generation.spent`` counts every token generated for the prompt in every round, kept or discarded (EOS
excluded, as ``bon`` counts), so beam search and best-of-N compare at equal compute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rl_reasoner.evaluation.backends import EvalBackend
from rl_reasoner.generation import Generation, Step


class LineBackend(EvalBackend, Protocol):
    """A generation backend that can write one line at a time (the ``hf`` backend)."""

    def generate_lines(
        self, prefixes: Sequence[Sequence[int]], budgets: Sequence[int], *, temperature: float, top_p: float
    ) -> list[Step]: ...


@dataclass(frozen=True)
class Prefix:
    """A partial or finished completion in the search, with the verifier's score of its last step."""

    ids: tuple[int, ...]  # completion token ids (EOS excluded)
    text: str
    score: float
    ended: str  # how its last line ended: "line", "eos" or "budget" (``generation.Step``)

    @property
    def finished(self) -> bool:
        return self.ended == "eos"


@dataclass(frozen=True)
class Searched:
    """What the search found for one prompt: its candidates (in the order they were set aside) and the
    tokens it generated for the prompt."""

    candidates: list[Prefix]
    spent: int


class PrmBeamSearch:
    """Beam search over lines, ranked by a process verifier (see the module docstring)."""

    def __init__(self, inner: LineBackend, verifier, beam_width: int, expansions: int):
        self.inner, self.verifier = inner, verifier
        self.beam_width, self.expansions = beam_width, expansions
        self.tokenizer = inner.tokenizer

    def prompts_per_chunk(self, n: int) -> int:
        return self.inner.prompts_per_chunk(self.beam_width * self.expansions)  # a full round in one call

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
        found = self.search(prompts, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                            seed=seed)
        return [[pick(result)] for result in found]

    def search(
        self, prompts: Sequence[str], *, max_new_tokens: int, temperature: float, top_p: float, seed: int
    ) -> list[Searched]:
        """Every prompt's candidates and spent tokens; rounds run until no prompt has a live entry."""
        import torch

        torch.manual_seed(seed)
        prompt_ids = [tuple(self.tokenizer(p)["input_ids"]) for p in prompts]
        beams: list[list[Prefix]] = [[Prefix((), "", 0.0, "line")] for _ in prompts]
        candidates: list[list[Prefix]] = [[] for _ in prompts]
        spent = [0] * len(prompts)
        while any(beams):
            children, made = self._round(prompts, prompt_ids, beams, max_new_tokens, temperature, top_p)
            for index, kids in enumerate(children):
                spent[index] += made[index]
                ended = [k.finished or len(k.ids) >= max_new_tokens for k in kids]
                candidates[index] += [k for k, done in zip(kids, ended, strict=True) if done]
                live = [k for k, done in zip(kids, ended, strict=True) if not done]
                beams[index] = best_distinct(live, self.beam_width)
        return [Searched(c, s) for c, s in zip(candidates, spent, strict=True)]

    def _round(
        self,
        prompts: Sequence[str],
        prompt_ids: Sequence[tuple[int, ...]],
        beams: Sequence[Sequence[Prefix]],
        max_new_tokens: int,
        temperature: float,
        top_p: float,
    ) -> tuple[list[list[Prefix]], list[int]]:
        """Each live entry continued ``expansions`` times by one line and scored: per prompt, the new
        prefixes and the tokens generated for them."""
        rows = [(i, entry) for i, beam in enumerate(beams) for entry in beam for _ in range(self.expansions)]
        steps = self.inner.generate_lines(
            [prompt_ids[i] + entry.ids for i, entry in rows],
            [max_new_tokens - len(entry.ids) for _, entry in rows],
            temperature=temperature,
            top_p=top_p,
        )
        ids = [entry.ids + step.ids for (_, entry), step in zip(rows, steps, strict=True)]
        texts = [self.tokenizer.decode(row, skip_special_tokens=True) for row in ids]
        scores = self.verifier.score_steps([prompts[i] for i, _ in rows], texts)
        children: list[list[Prefix]] = [[] for _ in beams]
        made = [0] * len(beams)
        for (i, _), step, row, text, steps_scores in zip(rows, steps, ids, texts, scores, strict=True):
            children[i].append(Prefix(row, text, steps_scores[-1], step.ended))
            made[i] += len(step.ids)
        return children, made


def best_distinct(prefixes: Sequence[Prefix], width: int) -> list[Prefix]:
    """The ``width`` highest-scoring prefixes with distinct token ids (the earlier one wins a tie).

    >>> a, b = Prefix((1,), "a", 0.9, "line"), Prefix((2,), "b", 0.5, "line")
    >>> [p.text for p in best_distinct([b, a, a], 2)], best_distinct([b, a, a], 1) == [a]
    (['a', 'b'], True)
    """
    kept: dict[tuple[int, ...], Prefix] = {}
    for prefix in sorted(prefixes, key=lambda p: -p.score):
        kept.setdefault(prefix.ids, prefix)
    return list(kept.values())[:width]


def pick(result: Searched) -> Generation:
    """The best-scoring candidate that ended with EOS (else the best cut off at the budget), with what the
    search spent on its prompt."""
    found = result.candidates
    best = found[max(range(len(found)), key=lambda i: (found[i].finished, found[i].score, -i))]
    return Generation(
        text=best.text,
        tokens=len(best.ids),
        truncated=not best.finished,
        ids=best.ids,
        spent=result.spent,
        score=best.score,
    )
