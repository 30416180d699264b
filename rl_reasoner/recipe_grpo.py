"""Recipe sections that shape every GRPO run besides its TRL config and rewards: SFT replay and the
validation gate (the frozen parameter names are a plain list on ``Recipe``)."""

from __future__ import annotations

from dataclasses import dataclass

from rl_reasoner.recipe_files import check as _check


@dataclass
class ReplaySection:
    weight: float = 0.0
    """Weight of the SFT replay loss added to every GRPO run's loss; 0: off (see rl_reasoner/replay.py)."""
    rows: int = 32
    """SFT rows replayed per loss computation, per process."""
    max_entropy: float | None = 0.3
    """Count a token where the reference model's entropy (nats) is below this, or, inside a line, where the
    reference predicts it; null: every token."""

    def __post_init__(self) -> None:
        _check(self.weight >= 0, f"'replay.weight' must be >= 0, got {self.weight}")
        _check(self.rows > 0, f"'replay.rows' must be > 0, got {self.rows}")
        _check(self.max_entropy is None or self.max_entropy > 0,
               f"'replay.max_entropy' must be > 0 or null, got {self.max_entropy}")


@dataclass
class GateSection:
    max_drop: float | None = None
    """Every GRPO run hands on its last checkpoint whose greedy accuracy on the val split is at most this
    below the start model's at every level (rl_reasoner/gate.py); null: off, the last step is handed on."""

    def __post_init__(self) -> None:
        _check(self.max_drop is None or 0 <= self.max_drop < 1,
               f"'gate.max_drop' must be in [0, 1) (an accuracy drop) or null, got {self.max_drop}")
