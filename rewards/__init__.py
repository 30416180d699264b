"""Pure, torch-free reward functions: answer verification, group-relative length bonus, format check."""

from rewards.format import think_format
from rewards.length import apply_per_group, below_mean_bonus
from rewards.verify import COUNTERS, counters_snapshot, extract_answer, reset_counters, verify, verify_batch

__all__ = [
    "COUNTERS",
    "apply_per_group",
    "below_mean_bonus",
    "counters_snapshot",
    "extract_answer",
    "reset_counters",
    "think_format",
    "verify",
    "verify_batch",
]
