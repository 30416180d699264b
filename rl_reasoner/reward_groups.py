"""The base of every length reward's TRL adapter: a pure per-group function applied over the generation
batch gathered from every process (see ``reward_funcs``'s docstring for the grouping and the adapter params),
and the helpers the adapters share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rewards.length import apply_per_group

TARGET_COLUMN = "target_column"  # accepted by length rewards that have a ``targets`` param


def gather(values: list) -> list:
    """Concatenate a per-rank list over all ranks, in rank order (identity on one process)."""
    from accelerate.state import PartialState
    from accelerate.utils import gather_object

    return gather_object(values) if PartialState().num_processes > 1 else values


def local_range(n_local: int) -> slice:
    from accelerate.state import PartialState

    rank = PartialState().process_index
    return slice(rank * n_local, (rank + 1) * n_local)


class GroupLengthReward:
    """A pure per-group length reward applied across the whole (multi-process) generation batch, with the
    adapter params of the module docstring popped from ``params`` (the rest go to ``fn``)."""

    def __init__(self, name: str, fn: Callable[..., list[float]], params: dict, shared, num_generations: int):
        self.__name__ = name
        params = dict(params)
        self.warmup_steps = check_count(name, "warmup_steps", params.pop("warmup_steps", 0))
        self.min_accuracy = check_fraction(name, "min_accuracy", params.pop("min_accuracy", 0.0))
        self.target_column = params.pop(TARGET_COLUMN, None)
        self.columns = () if self.target_column is None else (self.target_column,)
        self.fn, self.params, self.shared, self.num_generations = fn, params, shared, num_generations
        self._open: list[bool] = []

    def __call__(
        self, completions, completion_ids, answer, id, trainer_state=None, log_metric=None, **columns: Any
    ) -> list[float]:  # noqa: A002
        if self.warmup_steps:
            if trainer_state is None:
                raise ValueError(f"reward {self.__name__!r}: warmup_steps needs TRL's trainer_state kwarg")
            if trainer_state.global_step < self.warmup_steps:
                if log_metric is not None:
                    log_metric(f"length/{self.__name__}_open_groups", 0.0)
                return [0.0] * len(completions)
        correct = self.shared.correct(completions, answer)
        lengths = self.shared.lengths(completion_ids)
        all_ids, all_lengths, all_correct = gather(list(id)), gather(lengths), gather(list(correct))
        keys = [(i // self.num_generations, pid) for i, pid in enumerate(all_ids)]
        self._open = []
        per_item = self._per_item(columns, len(all_ids))
        values = apply_per_group(
            self._group_term, keys, all_lengths, all_correct, per_item=per_item, **self.params
        )
        if log_metric is not None and self._open:
            log_metric(f"length/{self.__name__}_open_groups", sum(self._open) / len(self._open))
        self._after_batch(keys, all_lengths, all_correct, log_metric)
        return values[local_range(len(completions))]

    def _per_item(self, columns: dict[str, Any], size: int) -> dict[str, list]:
        """Per-item params of the pure function over the gathered batch (L1's targets)."""
        return self._gathered_targets(columns)

    def _after_batch(
        self, groups: list, lengths: list[int], correct: list[bool | None], log_metric: Callable | None
    ) -> None:
        """Called once per batch after the values are computed, with each item's prompt-group key (state kept
        across steps goes here)."""

    def _gathered_targets(self, columns: dict[str, Any]) -> dict[str, list]:
        """``{"targets": the target column over all ranks}``, or ``{}`` without a ``target_column``."""
        if self.target_column is None:
            return {}
        if self.target_column not in columns:
            have = sorted(k for k in columns if k not in ("log_extra", "environments"))
            raise ValueError(
                f"reward {self.__name__!r}: target_column {self.target_column!r} is no dataset column; "
                f"the batch has {have}"
            )
        return {"targets": gather(list(columns[self.target_column]))}

    def _group_term(self, lengths: list[int], correct: list[bool | None], **params: Any) -> list[float]:
        """The pure function's values, or 0 for all when the group's accuracy is below ``min_accuracy``."""
        scored = [c for c in correct if c is not None]
        is_open = bool(scored) and sum(scored) / len(scored) >= self.min_accuracy
        self._open.append(is_open)
        return self.fn(lengths, correct, **params) if is_open else [0.0] * len(lengths)


def check_count(name: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"reward {name!r}: {key}={value!r} must be a whole number >= 0")
    return value


def check_fraction(name: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"reward {name!r}: {key}={value!r} must be a number in [0, 1]")
    return float(value)
