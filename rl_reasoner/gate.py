"""The validation gate: a GRPO run hands on the last checkpoint that kept its greedy accuracy at every level.

Why: the length term's accuracy constraint watches *sampled* accuracy over the few prompts of each step, so a
drift confined to a few problems can pass it unseen. On tiny-arith seed 3 (seeds 3-5 bench, 9ee439b), level 1
went direct in the last 10 GRPO steps and the model then wrote ``7+5=11``, ``9+2=10`` (6 of the 100 one-digit
facts, 24 of 300 level-1 eval answers wrong) while the running level-1 accuracy stayed at 0.985-1.0 against
its 0.98 floor. The gate measures what the eval measures (greedy answers, per level) on ``data/val.jsonl``
(drawn after the other splits, each problem once, avoiding the eval problems where the level has enough:
level 1's 100 sums are all there is) at every checkpoint: the start model's accuracy is the reference, a
checkpoint passes when no level is more than ``max_drop`` below it, and the run's output is the last
checkpoint that passed (the start model itself when none did). The record goes to the trainer's log
(``gate/level_L/accuracy``, ``.../floor``) and to ``gate.json`` next to the saved model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState


def level_accuracy(rows: Sequence[dict], correct: Sequence[bool]) -> dict[str, float]:
    """Per-level mean of ``correct`` (level names as strings, sorted); rows without a level count as "all".

    >>> level_accuracy([{"level": 1}, {"level": 1}, {"level": 2}], [True, False, True])
    {'1': 0.5, '2': 1.0}
    """
    hits: dict[str, list[bool]] = {}
    for row, ok in zip(rows, correct, strict=True):
        hits.setdefault(str(row.get("level", "all")), []).append(bool(ok))
    return {level: sum(v) / len(v) for level, v in sorted(hits.items())}


def failing_levels(accuracy: dict[str, float], reference: dict[str, float], max_drop: float) -> list[str]:
    """Levels whose accuracy is more than ``max_drop`` below the reference's.

    >>> failing_levels({"1": 0.92, "2": 1.0}, {"1": 1.0, "2": 1.0}, 0.02)
    ['1']
    """
    return [level for level, ref in reference.items() if accuracy.get(level, 0.0) < ref - max_drop - 1e-9]


class ValidationGate(TrainerCallback, ExportableState):
    """Greedy per-level accuracy on ``rows`` for the start model and each checkpoint (main process; the
    verdict is shared with the others); protects the last passing checkpoint from rotation."""

    def __init__(self, rows: Sequence[dict], max_drop: float, max_new_tokens: int, batch_size: int) -> None:
        self.rows, self.max_drop = list(rows), max_drop
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size
        self.reference: dict[str, float] | None = None
        self.history: list[dict] = []  # {"step", "accuracy", "failing"} per checkpoint
        self.trainer = None

    def attach(self, trainer, checkpoint: str | None) -> ValidationGate:
        """Registers on ``trainer``; with ``checkpoint`` (a resume) the gate's record is read back from it."""
        self.trainer = trainer
        if checkpoint is not None:
            saved = json.loads((Path(checkpoint) / "trainer_state.json").read_text())
            attrs = saved.get("stateful_callbacks", {}).get(type(self).__name__, {}).get("attributes", {})
            self.reference, self.history = attrs.get("reference"), attrs.get("history", [])
        trainer.add_callback(self)
        return self

    def state(self) -> dict:
        return {"args": {}, "attributes": {"reference": self.reference, "history": self.history}}

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if self.reference is None:
            self.reference = self._measure(model)
            self._log(0, self.reference)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if not control.should_save:  # checked where a checkpoint will be written: it can be handed on
            return
        accuracy = self._measure(model)
        failing = failing_levels(accuracy, self.reference, self.max_drop)
        self.history.append({"step": state.global_step, "accuracy": accuracy, "failing": failing})
        self._log(state.global_step, accuracy)
        kept = self.kept_step()
        if kept:  # transformers' rotation never deletes the "best" checkpoint
            state.best_model_checkpoint = str(Path(args.output_dir) / f"checkpoint-{kept}")

    def kept_step(self) -> int:
        """The last checkpoint step that passed; 0: none did (the start model is kept)."""
        return max((h["step"] for h in self.history if not h["failing"]), default=0)

    def _measure(self, model) -> dict[str, float]:
        correct = None
        if self.trainer.is_world_process_zero():
            correct = self._correct(model)
        return level_accuracy(self.rows, _shared(correct))

    def _correct(self, model) -> list[bool]:
        from rl_reasoner.evaluation.runner import score
        from rl_reasoner.generation import generate_samples

        tokenizer = self.trainer.processing_class
        model = self.trainer.accelerator.unwrap_model(model)
        was_training, side = model.training, tokenizer.padding_side
        model.eval()
        tokenizer.padding_side = "left"
        try:
            groups = generate_samples(
                model,
                tokenizer,
                [row["prompt"] for row in self.rows],
                max_new_tokens=self.max_new_tokens,
                batch_size=self.batch_size,
                progress=False,
            )
        finally:
            tokenizer.padding_side = side
            model.train(was_training)
        return [rec["samples"][0]["correct"] for rec in score([("val", row) for row in self.rows], groups)]

    def _log(self, step: int, accuracy: dict[str, float]) -> None:
        from transformers import Trainer

        metrics = {f"gate/level_{level}/accuracy": acc for level, acc in accuracy.items()}
        metrics |= {f"gate/level_{level}/floor": ref - self.max_drop for level, ref in self.reference.items()}
        metrics["gate/kept_step"] = float(self.kept_step())
        if step and self.trainer is not None:  # step 0: the trainer cannot log before its first step
            control = self.trainer.control
            should_log = control.should_log  # Trainer.log clears it: the step's own log would be lost
            Trainer.log(self.trainer, metrics)
            control.should_log = should_log

    def record(self) -> dict:
        """What ``gate.json`` holds."""
        return {
            "max_drop": self.max_drop,
            "reference": self.reference,
            "history": self.history,
            "kept_step": self.kept_step(),
        }


def hand_on(trainer, gate: ValidationGate, start: str, out: Path) -> None:
    """Loads the last passing weights into ``trainer.model`` when the final step failed (every process)."""
    kept, last = gate.kept_step(), max((h["step"] for h in gate.history), default=0)
    if kept != last:
        source = str(Path(trainer.args.output_dir) / f"checkpoint-{kept}") if kept else _local(start)
        print(
            f"[rl-reasoner] gate: step {last} failed at level(s) {gate.history[-1]['failing']}; "
            f"handing on {'the start model' if kept == 0 else f'checkpoint-{kept}'}"
        )
        trainer._load_from_checkpoint(source)
    if trainer.is_world_process_zero():
        out.mkdir(parents=True, exist_ok=True)
        (out / "gate.json").write_text(json.dumps(gate.record(), indent=1) + "\n")


def _local(model: str) -> str:
    """A model folder, or the local snapshot of a hub id (the run loaded it already: it is in the cache)."""
    if Path(model).is_dir():
        return model
    from huggingface_hub import snapshot_download

    return snapshot_download(model)


def _shared(value):
    """``value`` from the main process, on every process."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]
    return value
