"""Apply a one-group length reward to a flat batch that holds many groups, in any order."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence


def apply_per_group(
    fn: Callable[..., list[float]],
    group_ids: Sequence[Hashable],
    lengths: Sequence[int],
    correct: Sequence[bool | None],
    *,
    per_item: Mapping[str, Sequence[object]] | None = None,
    **params: object,
) -> list[float]:
    """out[i] = fn(group of i)[rank of i in it]: split a flat batch by explicit group id, never by position.

    ``per_item`` maps a parameter name to one value per item (e.g. ``{"targets": [...]}``); each group's
    call gets its members' values as that parameter. ``params`` go unchanged to every call.

    >>> from rewards.length import below_mean_bonus
    >>> apply_per_group(below_mean_bonus, ["a", "b", "a", "b"], [10, 5, 30, 50], [True, True, True, True])
    [1.0, 1.0, 0.0, 0.0]
    """
    per_item = dict(per_item or {})
    sizes = {"group_ids": len(group_ids), "lengths": len(lengths), "correct": len(correct)}
    sizes.update({f"per_item[{name!r}]": len(values) for name, values in per_item.items()})
    if len(set(sizes.values())) > 1:
        raise ValueError(f"{', '.join(f'{k} ({v})' for k, v in sizes.items())} differ in length")
    clash = sorted(set(per_item) & set(params))
    if clash:
        raise ValueError(f"parameter(s) {clash} given both per item and for the whole batch")
    members: dict[Hashable, list[int]] = {}
    for i, gid in enumerate(group_ids):
        members.setdefault(gid, []).append(i)
    out = [0.0] * len(lengths)
    for gid, indices in members.items():
        group_params = {name: [values[i] for i in indices] for name, values in per_item.items()}
        values = fn([lengths[i] for i in indices], [correct[i] for i in indices], **params, **group_params)
        if len(values) != len(indices):
            raise ValueError(f"{fn!r} returned {len(values)} values for group {gid!r} of size {len(indices)}")
        for i, value in zip(indices, values, strict=True):
            out[i] = value
    return out
