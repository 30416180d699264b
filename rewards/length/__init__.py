"""Length rewards: pure, torch-free functions of one group (one prompt's samples) at a time.

Every method has the signature ``f(lengths, correct, **params) -> list[float]`` with keyword-only params
defaulting to its paper's values. ``lengths`` are completion token counts (EOS excluded), ``correct`` the
verifier's verdicts (None: gold unparsable; that item gets 0.0 and stays out of all group statistics).
The result is a *length term*: added to our accuracy reward (1.0 correct, 0.0 wrong) it gives the paper's
total reward (or, for ``below_mean_bonus``/``efficiency``, a documented shift of it). At default params a
correct item's total is never below a wrong one's in the same group, and outputs are finite and bounded.

``GATED`` lists the correctness-gated methods: a group without a correct item gets 0 for every item.
``apply_per_group`` runs any of them over a flat batch keyed by group id.
"""

from rewards.length.budget import absolute, cosine, l1_exact, l1_max, soft_overlong, truncation
from rewards.length.constrained import ConstraintState, constrained_bonus, dual_update
from rewards.length.group import apply_per_group
from rewards.length.relative import MEAN_OVER, MODES, below_mean_bonus, efficiency, kimi, shortest_correct

METHODS = {
    fn.__name__: fn
    for fn in (
        below_mean_bonus,
        constrained_bonus,
        kimi,
        efficiency,
        shortest_correct,
        l1_exact,
        l1_max,
        soft_overlong,
        truncation,
        cosine,
        absolute,
    )
}
GATED = (
    "below_mean_bonus",
    "constrained_bonus",
    "kimi",
    "efficiency",
    "shortest_correct",
    "l1_max",
    "truncation",
)
GROUP_RELATIVE = ("below_mean_bonus", "constrained_bonus", "kimi", "efficiency", "shortest_correct")

__all__ = [
    "ConstraintState",
    "GATED",
    "GROUP_RELATIVE",
    "MEAN_OVER",
    "METHODS",
    "MODES",
    "absolute",
    "apply_per_group",
    "below_mean_bonus",
    "constrained_bonus",
    "cosine",
    "dual_update",
    "efficiency",
    "kimi",
    "l1_exact",
    "l1_max",
    "shortest_correct",
    "soft_overlong",
    "truncation",
]
