"""Adapters from the pure functions in ``rewards/`` to TRL ``GRPOTrainer`` reward functions.

TRL calls every reward function on each process's *local slice* of the generation batch, and a
prompt group (its ``num_generations`` completions) may be split across processes. TRL later gathers
the rewards in rank order and forms groups from consecutive blocks of ``num_generations``. So the
group-relative rewards here gather ``(prompt id, length, correct)`` from every rank, key each item by
``(block, prompt id)`` — the same grouping TRL's advantages use, made explicit — compute per group
and hand back the local slice. Correctness is verified once per completion and shared by all rewards.

Every length reward also takes adapter params, used here and never passed to the pure function:
``warmup_steps`` (the term is 0 while ``trainer_state.global_step`` < N: Kimi k1.5's warm-up),
``min_accuracy`` (the term is 0 for a *group* whose accuracy over items with a parsable gold is below it;
per group, not per batch, so hard prompts keep their long reasoning while easy ones are shortened) and,
for rewards with a ``targets`` param (L1), ``target_column`` (dataset column of per-prompt target lengths).

``accuracy`` takes one param, ``extraction``: how a completion's answer is found (``rewards.verify.MODES``).
``strict`` (the default, ``GRPO_EXTRACTION``) pays only a ``\\boxed{}``/``\\fbox{}`` or ``<answer>`` answer,
what every recipe's prompt asks for; ``lenient`` also reads ``####``, answer phrases, math mode and short
bare answers, as ``rl-reasoner eval`` does. A lenient reward also pays the last ``$…$`` of a rambling or
truncated trace, so the policy is never pushed to commit to one final answer. The length rewards count as
correct what the (first) accuracy reward counts, or what ``GRPO_EXTRACTION`` does without one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rewards.format import think_format
from rewards.length import METHODS
from rewards.verify import MODES, counters_snapshot, verify_batch
from rl_reasoner.reward_constraint import ConstrainedLengthReward, split_constraint
from rl_reasoner.reward_groups import TARGET_COLUMN, GroupLengthReward, gather

GATE_PARAMS = ("warmup_steps", "min_accuracy")  # accepted by every length reward
GRPO_EXTRACTION = "strict"  # the accuracy reward's default extraction mode (see the module docstring)


class SharedCorrectness:
    """Verifies a generation batch once per extraction mode; every reward function of the step reads the
    same result. ``extraction`` is the mode of callers that name none (the length rewards)."""

    def __init__(self, eos_token_ids: Sequence[int], extraction: str = GRPO_EXTRACTION):
        self.eos_token_ids = set(eos_token_ids)
        self.extraction = extraction
        self._completions: list[str] | None = None  # held, so its id cannot be reused by a later batch
        self._correct: dict[str, list[bool | None]] = {}  # extraction mode -> verdicts of that batch

    def correct(
        self, completions: list[str], answers: Sequence[str], extraction: str | None = None
    ) -> list[bool | None]:
        mode = extraction or self.extraction
        if completions is not self._completions:  # TRL passes the same list to every reward of a step
            self._correct, self._completions = {}, completions
        if mode not in self._correct:
            self._correct[mode] = verify_batch(list(answers), list(completions), mode=mode)
        return self._correct[mode]

    def lengths(self, completion_ids: Sequence[Sequence[int]]) -> list[int]:
        """Completion token counts with the final EOS excluded."""
        return [len(ids) - (1 if ids and ids[-1] in self.eos_token_ids else 0) for ids in completion_ids]


class AccuracyReward:
    """1.0 when the verifier accepts the completion's final answer, 0.0 when not, None when the gold is
    unparsable (TRL then ignores the item). Also logs length stats of correct vs wrong completions, and
    each completion's token count as the ``completion_tokens`` column of TRL's completions table."""

    __name__ = "accuracy"

    def __init__(self, shared: SharedCorrectness, extraction: str = GRPO_EXTRACTION):
        self.shared, self.extraction = shared, extraction
        self._counters = counters_snapshot()

    def __call__(
        self, completions, completion_ids, answer, log_metric=None, level=None, log_extra=None, **_: Any
    ) -> list[float | None]:
        correct = self.shared.correct(completions, answer, self.extraction)
        if log_extra is not None:  # TRL gathers it over processes into <output_dir>/completions/*.parquet
            log_extra("completion_tokens", self.shared.lengths(completion_ids))
        if log_metric is not None:
            lengths = self.shared.lengths(completion_ids)
            if level is not None:
                log_per_level(log_metric, gather(list(level)), gather(lengths), gather(list(correct)))
            for label, flag in (("correct", True), ("wrong", False)):
                picked = [n for n, c in zip(lengths, correct, strict=True) if c is flag]
                if picked:
                    log_metric(f"length/{label}_mean_tokens", sum(picked) / len(picked))
            now = counters_snapshot()  # the verifier's counters are cumulative: log this batch's share
            for name, value in now.items():
                log_metric(f"verify/{name}", float(value - self._counters.get(name, 0)))
            self._counters = now
        return [None if c is None else float(c) for c in correct]


def log_per_level(
    log_metric: Callable[[str, float], None],
    levels: Sequence[Any],
    lengths: Sequence[int],
    correct: Sequence[bool | None],
) -> None:
    """Accuracy (over items with a parsable gold) and mean completion tokens per difficulty level.

    Called with the batch gathered from all processes, so every rank logs the same values and TRL's
    cross-process average of ``log_metric`` values leaves them unchanged.
    """
    by_level: dict[Any, list[tuple[int, bool | None]]] = {}
    for lvl, n, c in zip(levels, lengths, correct, strict=True):
        by_level.setdefault(lvl, []).append((n, c))
    for lvl in sorted(by_level, key=str):
        items = by_level[lvl]
        log_metric(f"length/level_{lvl}_mean_tokens", sum(n for n, _ in items) / len(items))
        scored = [c for _, c in items if c is not None]
        if scored:
            log_metric(f"accuracy/level_{lvl}", sum(scored) / len(scored))


class FormatReward:
    """1.0 for ``<think>…</think>`` followed by exactly one final ``\\boxed{}``, else 0.0."""

    __name__ = "format"

    def __call__(self, completions, **_: Any) -> list[float]:
        return [think_format(c) for c in completions]


def _accuracy(spec: Any, shared: SharedCorrectness, num_generations: int) -> AccuracyReward:
    return AccuracyReward(shared, _extraction(spec))


def _extraction(spec: Any) -> str:
    """The accuracy reward's ``extraction`` param, checked; ValueError naming the param and its values."""
    unknown = sorted(set(spec.params) - {"extraction"})
    if unknown:
        raise ValueError(
            f"reward {spec.name!r} has no parameter(s) {unknown}; valid parameters: ['extraction']"
        )
    mode = spec.params.get("extraction", GRPO_EXTRACTION)
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"reward {spec.name!r}: extraction={mode!r} must be one of {list(MODES)}")
    return mode


def _format(spec: Any, shared: SharedCorrectness, num_generations: int) -> FormatReward:
    _no_params(spec)
    return FormatReward()


def _length(fn: Callable[..., list[float]]) -> Callable[..., GroupLengthReward]:
    def build(spec: Any, shared: SharedCorrectness, num_generations: int) -> GroupLengthReward:
        params, adapter, extra = dict(spec.params), GroupLengthReward, {}
        if fn.__name__ == "constrained_bonus":
            adapter, extra = ConstrainedLengthReward, split_constraint(spec.name, params)
        _check_params(spec.name, fn, params)
        return adapter(spec.name, fn, params, shared, num_generations, **extra)

    return build


# Recipe reward name -> builder ``(spec, shared correctness, num_generations) -> TRL reward function``; the
# length rewards are the pure group functions ``rewards.length.METHODS`` lists, adapted by GroupLengthReward.
REWARDS: dict[str, Callable[..., Callable]] = {
    "accuracy": _accuracy,
    "format": _format,
    **{name: _length(fn) for name, fn in METHODS.items()},
}


def build_reward_funcs(
    specs: Sequence[Any], *, num_generations: int, eos_token_ids: Sequence[int]
) -> list[Callable]:
    """TRL reward functions from recipe specs (their weights go to ``GRPOConfig.reward_weights``).

    Raises ``ValueError`` naming an unknown reward or parameter and listing the valid ones.
    """
    unknown = [spec.name for spec in specs if spec.name not in REWARDS]
    if unknown:
        raise ValueError(f"unknown reward {unknown[0]!r} in recipe 'rewards'; valid names: {list(REWARDS)}")
    accuracy = [_extraction(spec) for spec in specs if spec.name == "accuracy"]
    shared = SharedCorrectness(eos_token_ids, accuracy[0] if accuracy else GRPO_EXTRACTION)
    return [REWARDS[spec.name](spec, shared, num_generations) for spec in specs]


def _no_params(spec: Any) -> None:
    if spec.params:
        raise ValueError(f"reward {spec.name!r} takes no params, got {sorted(spec.params)}")


def _check_params(name: str, fn: Callable, params: dict) -> None:
    """ValueError naming an unknown param (listing the valid ones) or a bad value, at recipe-check time."""
    own = [
        p.name for p in inspect.signature(fn).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    accepted = [*own, *GATE_PARAMS, *([TARGET_COLUMN] if "targets" in own else [])]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(f"reward {name!r} has no parameter(s) {unknown}; valid parameters: {accepted}")
    if "targets" in own and ("targets" in params) == (TARGET_COLUMN in params):
        raise ValueError(
            f"reward {name!r} needs exactly one of params.{TARGET_COLUMN} (the dataset column holding each "
            "prompt's target length) and params.targets (one target length for all prompts)"
        )
    column = params.get(TARGET_COLUMN)
    if TARGET_COLUMN in params and not (isinstance(column, str) and column):
        raise ValueError(f"reward {name!r}: {TARGET_COLUMN}={column!r} must be a dataset column name")
    if isinstance(params.get("targets"), (Sequence, Mapping)):
        raise ValueError(f"reward {name!r}: targets must be one number; per prompt, use {TARGET_COLUMN}")
    own_params = {key: value for key, value in params.items() if key in own}
    try:
        fn([0, 1], [True, False], **own_params)  # bad values fail now, not at the first training step
    except ValueError as exc:
        raise ValueError(f"reward {name!r}: {exc}") from None
