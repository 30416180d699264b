"""What the training stages print: the progress bar and one short line per logging step. Every metric
still goes to ``report_to`` (wandb) and ``trainer_state.json``; the console shows the few that say how a
run is going."""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# Console line: these logged keys, in this order (glob patterns), each written as ``name value``.
CONSOLE_KEYS = (
    "loss",
    "mean_token_accuracy",
    "reward",
    "rewards/*/mean",
    "completions/mean_length",
    "completions/clipped_ratio",
    "kl",
    "learning_rate",
    "epoch",
    "train_runtime",
)
# Deprecations TRL 1.16 triggers itself inside transformers 5 (renamed gradient-checkpointing names):
# nothing a recipe can change, printed once per trainer and per save.
TRL_DEPRECATIONS = ("`gradient_checkpointing` is deprecated", "`is_gradient_checkpointing` is deprecated")


def short_line(step: int, logs: dict) -> str:
    """``step 5 | loss 0.012 | reward 0.81 | …`` from a logs dict (values that are not numbers skipped).

    >>> short_line(5, {"loss": 0.01234, "grad_norm": 1.0, "rewards/accuracy/mean": 0.5, "epoch": 0.1})
    'step 5 | loss 0.01234 | accuracy 0.5 | epoch 0.1'
    """
    cells = [f"step {step}"]
    for pattern in CONSOLE_KEYS:
        for key in sorted(k for k in logs if fnmatch.fnmatchcase(k, pattern)):
            value = logs[key]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                name = key.split("/")[1] if key.startswith("rewards/") else key.removeprefix("completions/")
                cells.append(f"{name} {value:.4g}")
    return " | ".join(cells)


def use_short_console(trainer) -> None:
    """Replaces the trainer's ``ProgressCallback`` (which prints every logged metric as a dict) by one that
    prints :func:`short_line`; the progress bar itself is unchanged."""
    from transformers.trainer_callback import ProgressCallback

    class ShortProgress(ProgressCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):  # replaces ProgressCallback.on_log
            if state.is_world_process_zero and self.training_bar is not None and logs:
                self.training_bar.write(short_line(state.global_step, logs))

    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(ShortProgress())


@contextmanager
def quiet_trl_deprecations() -> Iterator[None]:
    """Hides :data:`TRL_DEPRECATIONS` (only those) while a trainer is built, trains and saves."""
    with warnings.catch_warnings():
        for message in TRL_DEPRECATIONS:
            warnings.filterwarnings("ignore", message=message, category=FutureWarning)
        yield
