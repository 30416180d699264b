"""Preflight notes: a checkpoint cadence that cannot resume exactly is named before anything trains (the
exact resume itself runs in test_reward_constraint's kill -9 test)."""

import os
import sys

import pytest

from rl_reasoner.preflight import preflight
from rl_reasoner.recipe import load_recipe

sys.path.insert(0, os.path.dirname(__file__))
from test_cli import SMOKE  # noqa: E402

DEMO = "recipes/tiny-arith/demo.yaml"


def _round_notes(path: str, overrides: list[str]) -> list[str]:
    return [note for note in preflight(load_recipe(path, overrides)) if "generation round" in note]


@pytest.mark.parametrize(
    ("overrides", "noted"),
    [
        (["grpo.num_iterations=2", "grpo.save_steps=1"], True),  # step 1 is inside the round of 2
        (["grpo.num_iterations=2", "grpo.save_steps=3"], True),
        (["grpo.num_iterations=2", "grpo.save_steps=2"], False),
        (["grpo.num_iterations=1", "grpo.save_steps=1"], False),  # every step is a round
        # rounds count micro-batches: 2 per optimizer step, one round per step
        (["grpo.num_iterations=1", "grpo.save_steps=1", "grpo.gradient_accumulation_steps=2"], False),
        (["grpo.num_iterations=2", "grpo.save_steps=1", "grpo.gradient_accumulation_steps=2"], True),
    ],
)
def test_a_checkpoint_inside_a_generation_round_is_noted(overrides, noted):
    notes = _round_notes(SMOKE, overrides)
    assert bool(notes) == noted, notes
    if noted:
        assert "grpo.save_steps=" in notes[0] and "multiple of the round" in notes[0]


def test_the_shipped_recipes_checkpoint_at_round_boundaries():
    assert _round_notes(DEMO, []) == [] and _round_notes(SMOKE, []) == []
