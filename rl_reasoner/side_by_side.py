"""GRPO units side by side on a machine without an accelerator.

A run's GRPO unit and its baselines (``grpo-<name>``) all start from the same SFT checkpoint and never
read each other, so on CPU they train at the same time, each on its share of the cores: this process
trains the first unit still to do, one child process (``python -m rl_reasoner.grpo_unit``) each of the
others, its console output in ``<run>/logs/<unit>.log``. Small models on few cores spend much of a step
in Python, so two one-thread processes can do more work than one two-thread process: the demo's two GRPO
units took about a quarter less time on one 2-core machine and 18 % less on another, but 8 % more on a third
whose two vCPUs behaved like one core (README, Benchmarks). The share depends only on the machine and the
recipe (cores // units), never on which units are left, so a unit resumed or redone alone trains with the
threads it started with and ends with the same weights. With an accelerator, under a launcher, with one
unit or one core, units run one after another in this process as before. Only the parent writes the
manifest. When the eval stage comes next, the parent, its own unit done, evaluates the models already
trained (SFT with the oracle's forced styles, its unit) on its share while the others train
(``stages.evaluate.eval_ahead``): on the demo the eval stage then had 4-6 s left instead of 22-28 s.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def cpu_share(n_units: int) -> int | None:
    """Threads per GRPO unit when ``n_units`` should train side by side here, else None."""
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if n_units < 2 or cores < 2 or torch.accelerator.is_available():
        return None
    return max(1, cores // n_units)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Torch's intra-op thread count set to ``n`` for the block, then restored."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def _die_with_parent() -> None:  # runs in the child before exec: a killed parent takes its children along
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_unit(recipe_file: Path, run_dir: Path, unit: str, threads: int) -> tuple[subprocess.Popen, Path]:
    """Start one unit in a child process; returns it and the path of its console log."""
    log_path = run_dir / "logs" / f"{unit}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "rl_reasoner.grpo_unit", str(recipe_file), str(run_dir), unit]
    cmd.append(str(threads))
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    return proc, log_path
