"""``python -m rl_reasoner.grpo_unit RECIPE_FILE RUN_DIR UNIT THREADS``: one GRPO unit in a child process, as
``rl_reasoner.side_by_side`` starts it beside the others; the parent keeps the manifest."""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Train ``unit`` of ``run_dir`` with ``threads`` torch threads, touching no manifest."""
    from rl_reasoner.pipeline import Pipeline
    from rl_reasoner.recipe import load_recipe
    from rl_reasoner.side_by_side import torch_threads
    from rl_reasoner.stages import STAGES

    recipe_file, run_dir, unit, threads = argv
    pipeline = Pipeline(load_recipe(recipe_file), run_dir=Path(run_dir), launched=True)
    with torch_threads(int(threads)):
        STAGES["grpo"](pipeline, unit, Path(run_dir) / unit)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
