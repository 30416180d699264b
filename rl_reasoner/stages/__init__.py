"""Pipeline stages; each ``run_<stage>_unit(pipeline, unit, out_dir)`` is what the runner calls."""

from rl_reasoner.stages.data import run_data_unit
from rl_reasoner.stages.evaluate import run_eval_unit
from rl_reasoner.stages.grpo import run_grpo_unit
from rl_reasoner.stages.sft import run_sft_unit

__all__ = ["run_data_unit", "run_eval_unit", "run_grpo_unit", "run_sft_unit"]
