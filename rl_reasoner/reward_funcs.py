"""Adapters from the pure functions in ``rewards/`` to TRL ``GRPOTrainer`` reward functions.

TRL calls every reward function on each process's *local slice* of the generation batch, and a
prompt group (its ``num_generations`` completions) may be split across processes. TRL later gathers
the rewards in rank order and forms groups from consecutive blocks of ``num_generations``. So the
group-relative rewards here gather ``(prompt id, length, correct)`` from every rank, key each item by
``(block, prompt id)`` — the same grouping TRL's advantages use, made explicit — compute per group
and hand back the local slice. Correctness is verified once per completion and shared by all rewards.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from rewards.format import think_format
from rewards.length import apply_per_group, below_mean_bonus
from rewards.verify import counters_snapshot, verify_batch

# One visible table: recipe name -> pure group function (length rewards) or None (per-item rewards).
LENGTH_REWARDS: dict[str, Callable[..., list[float]]] = {"below_mean_bonus": below_mean_bonus}
ITEM_REWARDS = ("accuracy", "format")
REWARD_NAMES = (*ITEM_REWARDS, *LENGTH_REWARDS)


class SharedCorrectness:
    """Verifies a generation batch once; every reward function of the step reads the same result."""

    def __init__(self, eos_token_ids: Sequence[int]):
        self.eos_token_ids = set(eos_token_ids)
        self._completions: list[str] | None = None  # held, so its id cannot be reused by a later batch
        self._correct: list[bool | None] = []

    def correct(self, completions: list[str], answers: Sequence[str]) -> list[bool | None]:
        if completions is not self._completions:  # TRL passes the same list to every reward of a step
            self._correct = verify_batch(list(answers), list(completions))
            self._completions = completions
        return self._correct

    def lengths(self, completion_ids: Sequence[Sequence[int]]) -> list[int]:
        """Completion token counts with the final EOS excluded."""
        return [len(ids) - (1 if ids and ids[-1] in self.eos_token_ids else 0) for ids in completion_ids]


def _gather(values: list) -> list:
    """Concatenate a per-rank list over all ranks, in rank order (identity on one process)."""
    from accelerate.state import PartialState
    from accelerate.utils import gather_object

    return gather_object(values) if PartialState().num_processes > 1 else values


def _local_range(n_local: int) -> slice:
    from accelerate.state import PartialState

    rank = PartialState().process_index
    return slice(rank * n_local, (rank + 1) * n_local)


class AccuracyReward:
    """1.0 when the verifier accepts the completion's final answer, 0.0 when not, None when the gold is
    unparsable (TRL then ignores the item). Also logs length stats of correct vs wrong completions."""

    __name__ = "accuracy"

    def __init__(self, shared: SharedCorrectness):
        self.shared = shared
        self._counters = counters_snapshot()

    def __call__(self, completions, completion_ids, answer, log_metric=None, **_: Any) -> list[float | None]:
        correct = self.shared.correct(completions, answer)
        if log_metric is not None:
            lengths = self.shared.lengths(completion_ids)
            for label, flag in (("correct", True), ("wrong", False)):
                picked = [n for n, c in zip(lengths, correct, strict=True) if c is flag]
                if picked:
                    log_metric(f"length/{label}_mean_tokens", sum(picked) / len(picked))
            now = counters_snapshot()  # the verifier's counters are cumulative: log this batch's share
            for name, value in now.items():
                log_metric(f"verify/{name}", float(value - self._counters.get(name, 0)))
            self._counters = now
        return [None if c is None else float(c) for c in correct]


class FormatReward:
    """1.0 for ``<think>…</think>`` followed by exactly one final ``\\boxed{}``, else 0.0."""

    __name__ = "format"

    def __call__(self, completions, **_: Any) -> list[float]:
        return [think_format(c) for c in completions]


class GroupLengthReward:
    """A pure per-group length reward applied across the whole (multi-process) generation batch."""

    def __init__(self, name: str, fn: Callable[..., list[float]], params: dict, shared, num_generations: int):
        self.__name__ = name
        self.fn, self.params, self.shared, self.num_generations = fn, params, shared, num_generations

    def __call__(self, completions, completion_ids, answer, id, **_: Any) -> list[float]:  # noqa: A002
        correct = self.shared.correct(completions, answer)
        lengths = self.shared.lengths(completion_ids)
        all_ids, all_lengths, all_correct = _gather(list(id)), _gather(lengths), _gather(list(correct))
        keys = [(i // self.num_generations, pid) for i, pid in enumerate(all_ids)]
        values = apply_per_group(self.fn, keys, all_lengths, all_correct, **self.params)
        return values[_local_range(len(completions))]


def build_reward_funcs(
    specs: Sequence[Any], *, num_generations: int, eos_token_ids: Sequence[int]
) -> list[Callable]:
    """TRL reward functions from recipe specs (their weights go to ``GRPOConfig.reward_weights``).

    Raises ``ValueError`` naming an unknown reward or parameter and listing the valid ones.
    """
    shared = SharedCorrectness(eos_token_ids)
    funcs = []
    for spec in specs:
        if spec.name == "accuracy":
            func = AccuracyReward(shared)
        elif spec.name == "format":
            func = FormatReward()
        elif spec.name in LENGTH_REWARDS:
            fn = LENGTH_REWARDS[spec.name]
            _check_params(spec.name, fn, spec.params)
            func = GroupLengthReward(spec.name, fn, dict(spec.params), shared, num_generations)
        else:
            valid = list(REWARD_NAMES)
            raise ValueError(f"unknown reward {spec.name!r} in recipe 'rewards'; valid names: {valid}")
        if spec.name in ITEM_REWARDS and spec.params:
            raise ValueError(f"reward {spec.name!r} takes no params, got {sorted(spec.params)}")
        funcs.append(func)
    return funcs


def _check_params(name: str, fn: Callable, params: dict) -> None:
    accepted = [
        p.name for p in inspect.signature(fn).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(f"reward {name!r} has no parameter(s) {unknown}; valid parameters: {accepted}")
