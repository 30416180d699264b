"""``constrained_bonus`` through TRL: the adapter that keeps one Lagrange multiplier (and, with
``reliable_margin``, one set of length-bin counts) per difficulty level across steps, and the recipe
params it takes besides the pure function's (checked at ``rl-reasoner check``)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from rewards.length import ConstraintState, dual_update
from rewards.length.constrained import MEASURES, RANGES, check_constraint, level_counts
from rewards.length.reliable import length_bin, shortest_reliable, unreliable_bins, update_bins
from rl_reasoner.reward_groups import GroupLengthReward, check_fraction, gather

CONSTRAINT_DEFAULTS = {  # epsilon, step_size, reference_steps, ...: dual_update's own defaults
    p.name: p.default
    for p in inspect.signature(dual_update).parameters.values()
    if p.kind is inspect.Parameter.KEYWORD_ONLY
}
LEVEL_COLUMN = "level_column"  # dataset column of difficulty levels (default "level"; absent: one level)


class ConstrainedLengthReward(GroupLengthReward):
    """``constrained_bonus`` with one Lagrange multiplier per difficulty level, kept across steps.

    Each batch pays every group its level's current multiplier × the relative bonus, then updates every
    level's :class:`~rewards.length.ConstraintState` with that level's accuracy in the batch
    (:func:`~rewards.length.dual_update`; ``measure``: of every sample or of each prompt group's majority,
    :func:`~rewards.length.constrained.level_counts`). The update uses the batch gathered over all
    processes, so the state is the same on every process; ``state_dict``/``load_state_dict`` carry it
    through TRL checkpoints (the GRPO stage saves it in ``trainer_state.json`` and restores it on resume).
    Logged each step, per level: the multiplier, the running accuracy and its floor (reference − ε).
    With ``reliable_margin`` set, each level also keeps decayed right / seen counts per length bin
    (:mod:`rewards.length.reliable`, decaying like the running accuracy), pays no bonus in the bins that
    fail at that level and measures the level's accuracy on the other answers only (its shortest reliable
    length is logged as ``…_reliable_tokens``).
    """

    def __init__(self, name: str, fn: Callable[..., list[float]], params: dict, shared, num_generations: int,
                 *, constraint: dict, level_column: str, measure: str = "samples",
                 reliable_margin: float | None = None):  # fmt: skip
        super().__init__(name, fn, params, shared, num_generations)
        self.constraint, self.level_column, self.measure = constraint, level_column, measure
        self.reliable_margin = reliable_margin
        self.levels: dict[str, ConstraintState] = {}
        self.bins: dict[str, dict[int, tuple[float, float]]] = {}
        self._batch_levels: list[str] = []

    def _per_item(self, columns: dict[str, Any], size: int) -> dict[str, list]:
        given = columns.get(self.level_column)
        self._batch_levels = [str(v) for v in gather(list(given))] if given is not None else ["all"] * size
        lam = {lvl: self._state(lvl).multiplier for lvl in set(self._batch_levels)}
        unreliable = {lvl: self._unreliable(lvl) for lvl in set(self._batch_levels)}
        return {
            "multiplier": [lam[lvl] for lvl in self._batch_levels],
            "unreliable": [unreliable[lvl] for lvl in self._batch_levels],
        }

    def _group_term(
        self,
        lengths: list[int],
        correct: list[bool | None],
        *,
        multiplier: list[float],
        unreliable: list[frozenset[int]],
        **params: Any,
    ) -> list[float]:  # a group lies within one level: one multiplier, one set of unreliable bins
        return super()._group_term(
            lengths, correct, multiplier=multiplier[0], unreliable=unreliable[0], **params
        )

    def _unreliable(self, level: str) -> frozenset[int]:
        """The level's length bins that fail so far (none without ``reliable_margin``)."""
        if self.reliable_margin is None:
            return frozenset()
        return unreliable_bins(self.bins.get(level, {}), margin=self.reliable_margin)

    def _after_batch(
        self, groups: list, lengths: list[int], correct: list[bool | None], log_metric: Callable | None
    ) -> None:
        paid = self._paid(lengths, correct)  # the answers this batch's term could pay (before the bins move)
        if self.reliable_margin is not None:
            self._count_lengths(lengths, correct, log_metric)
        counts = level_counts(self._batch_levels, groups, paid, measure=self.measure)
        for lvl, (hits, scored) in sorted(counts.items()):
            state = dual_update(self._state(lvl), hits, scored, **self.constraint)
            self.levels[lvl] = state
            if log_metric is not None:
                key = f"length/{self.__name__}_level_{lvl}"
                log_metric(f"{key}_multiplier", state.multiplier)
                if state.reference is not None:
                    log_metric(f"{key}_accuracy", state.accuracy)
                    log_metric(f"{key}_floor", state.floor(self.constraint["epsilon"]))

    def _paid(self, lengths: list[int], correct: list[bool | None]) -> list[bool | None]:
        """``correct`` without the answers in their level's unreliable bins: the constraint measures what the
        term pays for (a short style it already refuses cannot trip the level's multiplier)."""
        bad = {lvl: self._unreliable(lvl) for lvl in set(self._batch_levels)}
        return [None if length_bin(n) in bad[lvl] else c
                for n, c, lvl in zip(lengths, correct, self._batch_levels, strict=True)]  # fmt: skip

    def _count_lengths(self, lengths: list[int], correct: list[bool | None], log_metric: Callable | None):
        for lvl in sorted(set(self._batch_levels)):
            mine = [i for i, item_level in enumerate(self._batch_levels) if item_level == lvl]
            pairs = [lengths[i] for i in mine], [correct[i] for i in mine]
            self.bins[lvl] = update_bins(self.bins.get(lvl, {}), *pairs, decay=self.constraint["decay"])
            if log_metric is not None:
                shortest = shortest_reliable(self.bins[lvl], margin=self.reliable_margin)
                log_metric(f"length/{self.__name__}_level_{lvl}_reliable_tokens", float(shortest))

    def _state(self, level: str) -> ConstraintState:
        """The level's state; a level not seen yet starts at the constraint's ``start_multiplier``."""
        return self.levels.get(level, ConstraintState(multiplier=self.constraint["start_multiplier"]))

    def state_dict(self) -> dict:
        """The per-level constraint states (and length-bin counts) as plain JSON data."""
        out = {lvl: asdict(state) for lvl, state in sorted(self.levels.items())}
        for lvl, bins in self.bins.items():
            if bins:
                out.setdefault(lvl, {})["bins"] = [[b, *counts] for b, counts in sorted(bins.items())]
        return out

    def load_state_dict(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        state = {str(lvl): dict(values) for lvl, values in state.items()}
        bins = {lvl: values.pop("bins", None) for lvl, values in state.items()}
        self.bins = {lvl: {int(b): (r, n) for b, r, n in rows} for lvl, rows in bins.items() if rows}
        self.levels = {lvl: ConstraintState(**values) for lvl, values in state.items() if values}


def split_constraint(name: str, params: dict) -> dict:
    """Pops the constraint's params (checked against their ranges) and the level column from ``params``."""
    for kept in ("multiplier", "unreliable"):  # the adapter's per-level state
        if kept in params:
            raise ValueError(f"reward {name!r}: {kept} is kept per level by the trainer; it is no parameter")
    constraint = {key: params.pop(key, value) for key, value in CONSTRAINT_DEFAULTS.items()}
    try:
        check_constraint(**constraint)
    except ValueError as exc:
        raise ValueError(f"reward {name!r}: {exc}") from None
    column = params.pop(LEVEL_COLUMN, "level")
    if not (isinstance(column, str) and column):
        raise ValueError(f"reward {name!r}: {LEVEL_COLUMN}={column!r} must be a dataset column name")
    measure = params.pop("measure", "samples")
    if measure not in MEASURES:
        raise ValueError(f"reward {name!r}: measure={measure!r} must be {RANGES['measure']}")
    margin = params.pop("reliable_margin", None)
    if margin is not None:
        margin = check_fraction(name, "reliable_margin", margin)
    return {"constraint": constraint, "level_column": column, "measure": measure, "reliable_margin": margin}
