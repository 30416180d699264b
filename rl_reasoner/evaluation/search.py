"""Inference-time search behind the eval backend interface (``rl-reasoner eval --search NAME``).

A search backend wraps a generation backend and answers each prompt with *one* completion it chose, plus
what choosing it cost: ``Generation.spent`` counts every token generated for that prompt (all candidates,
rollouts, discriminator passes), so methods compare at equal compute. It sees the prompts only, never the
gold answers (the runner scores the chosen completion afterwards, like any other sample).

* ``bon``: best-of-N (lecture, 2.2). ``candidates`` samples per prompt from the generation backend, drawn
  exactly as ``rl-reasoner eval --n <candidates>`` draws them (same chunks, same seeds), so a best-of-N eval
  and a majority-vote eval with the same settings rank the very same candidates; the outcome verifier's
  highest score wins, a completion cut off at the token budget only when every candidate is.
* ``bon-vote``: the same candidates and verifier, pooled by answer: ORM-weighted majority voting (Uesato et
  al., 2022; Li et al., 2023, "weighted voting"). Each answer class (as ``maj@k`` forms them: the candidates'
  answers, equal after normalisation, truncated ones left out) scores the sum of its members' σ(score);
  the best-scored member of the highest class is the pick. A verifier that ranks well on average but
  misorders a few near-ties is outvoted by the answers many candidates agree on.
* ``prm-beam``: process-verifier beam search over lines (lecture, 2.3; ``evaluation.beam``): ``beam_width``
  partial completions kept per prompt, each continued ``expansions`` times by one line per round, ranked by
  the process verifier's score of the newest step. HF backend only (it writes one line at a time).
* ``mcts`` and ``rstar`` (``evaluation.rstar``): rStar's MCTS generator, ``rollouts`` per prompt over the
  ``actions`` set (``five`` or the ``two``-action ablation); ``mcts`` picks by majority over its trajectories,
  ``rstar`` keeps those a ``discriminator`` model completes to the same answer from a masked step. HF only.

Each search takes its own budget flags (``BUDGETS``); a budget flag of another search is refused rather
than ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rl_reasoner.errors import UsageError
from rl_reasoner.evaluation.backends import EvalBackend
from rl_reasoner.generation import Generation


class SearchError(UsageError):
    """A search cannot run as asked (no verifier, a budget below 1, a verifier of the wrong kind)."""


@dataclass(frozen=True)
class SearchSpec:
    """What ``--search`` asks for; its :meth:`settings` go to ``eval_config.json`` so a resume cannot mix two
    searches."""

    name: str
    verifier: str | None = None  # folder made by ``rl-reasoner verifier RUN --kind orm|prm``
    candidates: int = 16  # bon: samples ranked per prompt
    beam_width: int = 4  # prm-beam: partial completions kept per prompt after each step
    expansions: int = 4  # prm-beam: one-line continuations sampled per kept completion and step
    rollouts: int = 16  # mcts, rstar: MCTS rollouts per prompt
    actions: str = "five"  # mcts, rstar: a name in evaluation.rstar.ACTION_SETS
    discriminator: str | None = None  # rstar: the model that completes each trajectory from a masked step

    def settings(self) -> dict:
        """The name, the verifier and this search's own budgets (what its picks depend on)."""
        own = {field: getattr(self, field) for field in own_fields(self.name)}
        return {"name": self.name, "verifier": self.verifier, **own}

    def check(self, n: int, backend: str = "hf") -> None:
        """One paragraph naming the bad setting, before any model is loaded."""
        if self.name not in SEARCHES:
            raise SearchError(f"unknown --search {self.name!r}; valid searches: {list(SEARCHES)}")
        for field in BUDGETS[self.name]:
            if (value := getattr(self, field)) < 1:
                raise SearchError(f"{flag(field)} must be >= 1 (valid: 1, 2, 3, ...), got {value}")
        if n != 1:
            raise SearchError(
                f"--search {self.name} answers each prompt once (its budget is "
                f"{', '.join(map(flag, BUDGETS[self.name]))}), so it takes --n 1, got --n {n}"
            )
        if self.name in LINE_SEARCHES and backend != "hf":
            raise SearchError(
                f"--search {self.name} generates one line at a time, which only the hf backend does here; "
                f"pass --backend hf (got --backend {backend})"
            )
        self._check_rstar()
        kind = NEEDS_VERIFIER.get(self.name)
        if self.verifier and not kind:
            raise SearchError(f"--search {self.name} ranks with no verifier: drop --verifier {self.verifier}")
        if kind and not self.verifier:
            raise SearchError(
                f"--search {self.name} ranks candidates with {VERIFIER_WORDS[kind]}: pass --verifier DIR "
                f"(make one with rl-reasoner verifier RUN --kind {kind})"
            )
        if self.verifier:
            from rl_reasoner.verifier.info import VerifierError, read_info

            try:
                read_info(self.verifier, kind)  # a verifier folder of the kind this search ranks with
            except VerifierError as exc:
                raise VerifierError(f"--search {self.name} --verifier: {exc}") from None


    def _check_rstar(self) -> None:
        from rl_reasoner.evaluation.rstar import ACTION_SETS

        if self.name in OPTIONS and self.actions not in ACTION_SETS:
            raise SearchError(f"--actions must be one of {list(ACTION_SETS)}, got {self.actions!r}")
        if self.name != "rstar":
            return
        if not self.discriminator:
            raise SearchError(
                "--search rstar checks each trajectory with a second model: pass --discriminator MODEL (a "
                "model folder or hub id, e.g. another run's sft/; --search mcts picks by majority, without "
                "one)"
            )
        from transformers import AutoConfig

        try:
            AutoConfig.from_pretrained(self.discriminator)
        except (OSError, ValueError) as exc:
            raise SearchError(
                f"--discriminator {self.discriminator!r} cannot be loaded as a model ({exc}); pass a model "
                "folder with a config.json or a hub id"
            ) from None


def own_fields(name: str) -> tuple[str, ...]:
    """A search's settings: its budgets, then its other options."""
    return (*BUDGETS.get(name, ()), *OPTIONS.get(name, ()))


def flag(field: str) -> str:
    """The command-line flag of a :class:`SearchSpec` budget field (``beam_width`` -> ``--beam-width``)."""
    return "--" + field.replace("_", "-")


def search_spec(name: str | None, verifier: str | None, **budgets: int | str | None) -> SearchSpec | None:
    """The spec the ``eval`` flags ask for (None without ``--search``): budgets not given take the defaults,
    and a flag that the named search does not take (or any search flag without ``--search``) is refused."""
    given = {field: value for field, value in budgets.items() if value is not None}
    if name is None:
        if given or verifier:
            extra = [flag(f) for f in given] + (["--verifier"] if verifier else [])
            raise SearchError(f"{', '.join(extra)} only apply with --search NAME (one of {list(SEARCHES)})")
        return None
    if name not in BUDGETS:
        raise SearchError(f"unknown --search {name!r}; valid searches: {list(SEARCHES)}")
    foreign = [field for field in given if field not in own_fields(name)]
    if foreign:
        own = ", ".join(map(flag, own_fields(name)))
        raise SearchError(
            f"{', '.join(map(flag, foreign))} is not a setting of --search {name} (it takes {own})"
        )
    return SearchSpec(name, verifier, **given)


class BestOfN:
    """Verifier-ranked best of ``candidates`` samples per prompt (``vote``: the verifier-weighted vote's)."""

    def __init__(self, inner: EvalBackend, verifier, candidates: int, vote: bool = False):
        self.inner, self.verifier, self.candidates, self.vote = inner, verifier, candidates, vote
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
            if self.vote:
                best = weighted_vote(_votes(group), ranked, default=best)
            spent = sum(g.tokens for g in group)
            chosen.append([replace(group[best], spent=spent, score=ranked[best])])
        return chosen


def weighted_vote(votes: Sequence[int | None], scores: Sequence[float], *, default: int) -> int:
    """Σσ(score) per answer class, argmax class, then its best-scored member; Uesato et al. 2022's weighting.

    ``votes`` are class labels (None: no answer, not counted); ties between classes go to the class seen
    first, ties within one to the earlier candidate. Without any vote: ``default``.

    >>> weighted_vote([0, 1, 1, None], [3.0, -1.0, 0.5, 9.0], default=3)  # σ(3)=.95 > σ(-1)+σ(.5)=.89
    0
    >>> weighted_vote([0, 1, 1], [1.0, 0.2, 0.9], default=0)  # .73 < .55+.71: the pair wins, its best is 2
    2
    >>> weighted_vote([None, None], [1.0, 2.0], default=1)
    1
    """
    totals: dict[int, float] = {}
    for vote, score in zip(votes, scores, strict=True):
        if vote is not None:
            totals[vote] = totals.get(vote, 0.0) + 1.0 / (1.0 + math.exp(-score))
    if not totals:
        return default
    winner = max(totals, key=lambda v: totals[v])  # dicts keep first appearance: max keeps the first tie
    return max((i for i, v in enumerate(votes) if v == winner), key=lambda i: (scores[i], -i))


def _votes(group: Sequence[Generation]) -> list[int | None]:
    """The candidates' answer classes, formed as ``maj@k`` forms them (truncated candidates cast none)."""
    from rewards.verify import extract_answer
    from rl_reasoner.evaluation.metrics import EXTRACTION, answer_classes

    answers = [None if g.truncated else extract_answer(g.text, mode=EXTRACTION) for g in group]
    return answer_classes(answers)


def _best_of_n(spec: SearchSpec, inner: EvalBackend) -> EvalBackend:
    from rl_reasoner.verifier import load_verifier

    verifier = load_verifier(spec.verifier, kind="orm", policy_tokenizer=inner.tokenizer)
    return BestOfN(inner, verifier, spec.candidates, vote=spec.name == "bon-vote")


def _prm_beam(spec: SearchSpec, inner: EvalBackend) -> EvalBackend:
    from rl_reasoner.evaluation.beam import PrmBeamSearch
    from rl_reasoner.verifier import load_verifier

    if not hasattr(inner, "generate_lines"):
        raise SearchError(f"--search prm-beam needs a backend that writes one line at a time (hf): {inner}")
    verifier = load_verifier(spec.verifier, kind="prm", policy_tokenizer=inner.tokenizer)
    return PrmBeamSearch(inner, verifier, spec.beam_width, spec.expansions)


def _mcts(spec: SearchSpec, inner: EvalBackend) -> EvalBackend:
    from rl_reasoner.evaluation.backends import HFBackend
    from rl_reasoner.evaluation.rstar import MctsSearch

    if not hasattr(inner, "generate_rest"):
        raise SearchError(f"--search {spec.name} needs a backend that writes a line at a time (hf): {inner}")
    other = HFBackend(spec.discriminator, batch_size=inner.batch_size) if spec.name == "rstar" else None
    return MctsSearch(inner, spec.rollouts, spec.actions, other)


# ``--search`` name -> (spec, generation backend) -> the search backend.
SEARCHES: dict[str, Callable[[SearchSpec, EvalBackend], EvalBackend]] = {
    "bon": _best_of_n,
    "bon-vote": _best_of_n,
    "prm-beam": _prm_beam,
    "mcts": _mcts,
    "rstar": _mcts,
}
BUDGETS = {  # search -> its budget fields (integers >= 1)
    "bon": ("candidates",),
    "bon-vote": ("candidates",),
    "prm-beam": ("beam_width", "expansions"),
    "mcts": ("rollouts",),
    "rstar": ("rollouts",),
}
OPTIONS = {"mcts": ("actions",), "rstar": ("actions", "discriminator")}  # search -> its other settings
NEEDS_VERIFIER = {"bon": "orm", "bon-vote": "orm", "prm-beam": "prm"}  # search -> the verifier kind it uses
VERIFIER_WORDS = {"orm": "an outcome verifier", "prm": "a process verifier"}
LINE_SEARCHES = {"prm-beam", "mcts", "rstar"}  # searches that write a line at a time (the hf backend)


def with_search(spec: SearchSpec | None, inner: EvalBackend) -> EvalBackend:
    """``inner`` itself without a search, else the search backend around it."""
    return inner if spec is None else SEARCHES[spec.name](spec, inner)
