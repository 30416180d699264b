"""Frozen parameters during GRPO: the recipe's ``frozen`` names (dotted prefixes: ``model.layers.0`` is every
weight of that layer, not of ``model.layers.01``) get ``requires_grad=False`` before TRL builds the optimizer,
so every GRPO unit (baselines too) hands them on exactly as the SFT model had them.

Why: on a small model GRPO's updates also move what no reward asked to change. On tiny-arith seed 6
both GRPO units learned ``0+0+1=0`` in 3-digit sums with zero middle digits, SFT replay on (errors on 300
such sums, SFT / length-controlled GRPO / accuracy-only GRPO: 14 / 52 / 59, ``benchmarks/arith_probe.py``).
With the embeddings (tied with the output layer) and the lower two of the four layers frozen: 14 / 17 / 17
at the same learning rate, but level 1 only half-way to direct answers in 40 steps (0.89x the accuracy-only
model's tokens); at twice the learning rate 14 / 17 / 19 with level 1 fully direct, 0.76x its oracle's
tokens, accuracy unchanged. What the length control changes (which trace style to open with, how many
re-checks) is a choice the upper layers can make; reading the operands' digits and carrying them is left as
the SFT model learned it. Low-rank updates forget less of what the base model could do for the same reason
(Biderman et al. 2024, "LoRA Learns Less and Forgets Less").
"""

from __future__ import annotations

from collections.abc import Sequence

from rl_reasoner.errors import UsageError


class FreezeError(UsageError):
    """A ``frozen`` name that does not fit the model."""


def _named(name: str, prefix: str) -> bool:
    """Whether parameter ``name`` lies under the dotted ``prefix``.

    >>> _named("model.layers.1.mlp.up_proj.weight", "model.layers.1")
    True
    >>> _named("model.layers.10.mlp.up_proj.weight", "model.layers.1")
    False
    """
    return name == prefix or name.startswith(prefix + ".")


def freeze(model, prefixes: Sequence[str]) -> tuple[int, int]:
    """Turns off the gradient of every parameter under one of ``prefixes``; (frozen, total) parameter counts.

    A prefix that names no parameter, or a list that leaves nothing to train, is a ``FreezeError`` (before any
    parameter is changed)."""
    params = dict(model.named_parameters())  # tied weights appear once, under their first name
    for prefix in prefixes:
        if not any(_named(name, prefix) for name in params):
            tops = sorted({".".join(name.split(".")[:3]) for name in params})
            raise FreezeError(
                f"frozen: {prefix!r} names no parameter of the model; names are dotted prefixes of "
                f"model.named_parameters(), e.g. {', '.join(tops[:8])}{' …' if len(tops) > 8 else ''}: fix "
                "the name or remove it from 'frozen'"
            )
    chosen = [p for name, p in params.items() if any(_named(name, prefix) for prefix in prefixes)]
    total = sum(p.numel() for p in params.values())
    if len(chosen) == len(params):
        raise FreezeError(
            f"frozen: {list(prefixes)} covers every parameter of the model, so GRPO would train nothing: "
            "leave at least one layer (or the final norm) out of 'frozen'"
        )
    for param in chosen:
        param.requires_grad_(False)
    return sum(p.numel() for p in chosen), total
