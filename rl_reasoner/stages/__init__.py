"""Pipeline stages, in the order a run goes: stage name -> ``fn(pipeline, unit, out_dir)``, whose
returned dict (if any) is kept as the unit's ``result`` in ``manifest.json``."""

from collections.abc import Callable

from rl_reasoner.stages.data import run_data
from rl_reasoner.stages.evaluate import run_eval
from rl_reasoner.stages.grpo import run_grpo
from rl_reasoner.stages.sft import run_sft

STAGES: dict[str, Callable] = {"data": run_data, "sft": run_sft, "grpo": run_grpo, "eval": run_eval}
