"""The validation gate: a GRPO run hands on its newest checkpoint that kept greedy accuracy at every level.

Why: the length term's accuracy constraint watches *sampled* accuracy over the few prompts of each step, so a
drift confined to a few problems can pass it unseen. On tiny-arith seed 3 (seeds 3-5 bench, 9ee439b), level 1
went direct in the last 10 GRPO steps and the model then wrote ``7+5=11``, ``9+2=10`` (6 of the 100 one-digit
facts, 24 of 300 level-1 eval answers wrong) while the running level-1 accuracy stayed at 0.985-1.0 against
its 0.98 floor. The gate measures what the eval measures (greedy answers, per level) on ``data/val.jsonl``
(drawn after the other splits, each problem once, avoiding the eval problems where the level has enough:
level 1's 100 sums are all there is): the start model's accuracy is the reference (measured once per start
model and val split, ``gate-reference.json`` in the run folder, so baselines from the same start reuse it), a
model passes when no level is more than ``max_drop`` below it, and the run's output is the newest of the final
model and its saved checkpoints that passes (the start model itself when none does). Candidates are measured
after training, newest first, until one passes: one greedy pass when the final model keeps its accuracy,
where measuring every checkpoint as it is written cost one pass per save; levels are measured lowest first
and a candidate's stop at its first failing one. Every checkpoint therefore stays on
disk until the verdict, then those that are neither the newest nor the kept one are removed. The record goes
to the trainer's log (``gate/level_L/accuracy``, ``.../floor``, ``gate/kept_step``) and to ``gate.json``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from transformers import Trainer, TrainerCallback
from transformers.trainer_callback import ExportableState

REFERENCE_FILE = "gate-reference.json"


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
    """Greedy per-level accuracy on ``rows`` of the start model (at train begin) and of the run's candidates
    (``hand_on``, after training); the main process measures, every process gets the result."""

    def __init__(
        self,
        rows: Sequence[dict],
        max_drop: float,
        max_new_tokens: int,
        batch_size: int,
        start: str,
        cache: Path,
    ) -> None:
        self.rows, self.max_drop = list(rows), max_drop
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size
        self.start, self.cache = start, cache
        self.reference: dict[str, float] | None = None
        self.history: list[dict] = []  # {"step", "accuracy", "failing"} per measured candidate, newest first
        self.trainer = None
        self.tokenizer = None  # without a trainer (``cache_reference``): the start model's tokenizer

    def attach(self, trainer, checkpoint: str | None) -> ValidationGate:
        """Registers on ``trainer``; with ``checkpoint`` (a resume) the reference is read back from it."""
        self.trainer = trainer
        if checkpoint is not None:
            saved = json.loads((Path(checkpoint) / "trainer_state.json").read_text())
            attrs = saved.get("stateful_callbacks", {}).get(type(self).__name__, {}).get("attributes", {})
            self.reference = attrs.get("reference")
        trainer.add_callback(self)
        return self

    def state(self) -> dict:
        return {"args": {}, "attributes": {"reference": self.reference}}

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if self.reference is None:
            self.reference = self._cached_reference(model)

    def cache_reference(self, model, tokenizer) -> dict[str, float]:
        """Without a trainer, in one process: the start model's reference, from the cache or measured and
        cached, so the trainers that start from it next read it instead of each measuring it again."""
        self.tokenizer = tokenizer
        self.reference = self._cached_reference(model)
        return self.reference

    def _is_main(self) -> bool:
        return self.trainer is None or self.trainer.is_world_process_zero()

    def measure(self, model, *, stop_at_failure: bool = False) -> dict[str, float]:
        """Per-level greedy accuracy of ``model`` on the rows, on every process, one level at a time (lowest
        first); with ``stop_at_failure``, none after the first level below its floor (a failing candidate
        costs only the levels up to its first failure)."""
        accuracy = None
        if self._is_main():
            accuracy = {}
            for level, rows in _by_level(self.rows).items():
                accuracy |= level_accuracy(rows, self._correct(model, rows))
                floor = {level: self.reference[level]} if stop_at_failure else {}
                if failing_levels(accuracy, floor, self.max_drop):
                    break
        return _shared(accuracy)

    def kept_step(self) -> int:
        """The newest measured step that passed; 0: none did (the start model is kept)."""
        return max((h["step"] for h in self.history if not h["failing"]), default=0)

    def record(self) -> dict:
        """What ``gate.json`` holds."""
        return {
            "max_drop": self.max_drop,
            "reference": self.reference,
            "history": self.history,
            "kept_step": self.kept_step(),
        }

    def _cached_reference(self, model) -> dict[str, float]:
        """The start model's accuracy: from the run's cache when it was measured with the same start weights,
        rows and budget, else measured (main process) and cached."""
        key = {
            "start": _fingerprint(self.start),
            "rows": _digest(self.rows),
            "max_new_tokens": self.max_new_tokens,
            "batch_size": self.batch_size,
            "by_level": True,  # measured one level at a time (batches never mix levels)
        }
        cached = None
        if self._is_main() and self.cache.is_file():
            saved = json.loads(self.cache.read_text())
            cached = saved["reference"] if saved.get("key") == key else None
        cached = _shared(cached)  # one decision for every process
        if cached is not None:
            return cached
        reference = self.measure(model)
        if self._is_main():
            self.cache.write_text(json.dumps({"key": key, "reference": reference}, indent=1) + "\n")
        return reference

    def _correct(self, model, rows: Sequence[dict]) -> list[bool]:
        from rl_reasoner.evaluation.runner import score
        from rl_reasoner.generation import generate_samples

        tokenizer = self.tokenizer if self.trainer is None else self.trainer.processing_class
        model = model if self.trainer is None else self.trainer.accelerator.unwrap_model(model)
        was_training, side = model.training, tokenizer.padding_side
        model.eval()
        tokenizer.padding_side = "left"
        try:
            groups = generate_samples(
                model,
                tokenizer,
                [row["prompt"] for row in rows],
                max_new_tokens=self.max_new_tokens,
                batch_size=self.batch_size,
                progress=False,
            )
        finally:
            tokenizer.padding_side = side
            model.train(was_training)
        return [rec["samples"][0]["correct"] for rec in score([("val", row) for row in rows], groups)]


def hand_on(trainer, gate: ValidationGate, out: Path) -> None:
    """Measures the final model, then the saved checkpoints newest first, until one passes, and leaves its
    weights in ``trainer.model`` (the start model's when none passes), on every process."""
    last, folder = trainer.state.global_step, Path(trainer.args.output_dir)
    saved = sorted((s for s in _checkpoint_steps(folder) if s < last), reverse=True)
    for step in [last, *saved]:
        if step != last:
            trainer._load_from_checkpoint(str(folder / f"checkpoint-{step}"))
        accuracy = gate.measure(trainer.model, stop_at_failure=True)
        measured = {level: ref for level, ref in gate.reference.items() if level in accuracy}
        failing = failing_levels(accuracy, measured, gate.max_drop)  # the levels after it were not measured
        gate.history.append({"step": step, "accuracy": accuracy, "failing": failing})
        if not failing:
            break
    else:
        trainer._load_from_checkpoint(_local(gate.start))
    kept = gate.kept_step()
    if kept != last:
        print(
            f"[rl-reasoner] gate: step {last} failed at level(s) {gate.history[0]['failing']}; "
            f"handing on {'the start model' if kept == 0 else f'checkpoint-{kept}'}"
        )
    _log(trainer, gate)
    if trainer.is_world_process_zero():  # what rotation would leave: the newest checkpoint and the kept one
        for step in sorted(_checkpoint_steps(folder))[:-1]:
            if step != kept:
                shutil.rmtree(folder / f"checkpoint-{step}", ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        (out / "gate.json").write_text(json.dumps(gate.record(), indent=1) + "\n")


def _log(trainer, gate: ValidationGate) -> None:
    """The handed-on model's accuracy against each level's floor, and the kept step, to the trainer's log."""
    kept = gate.history[-1]["accuracy"] if gate.kept_step() else gate.reference
    metrics = {f"gate/level_{level}/accuracy": acc for level, acc in kept.items()}
    metrics |= {f"gate/level_{level}/floor": ref - gate.max_drop for level, ref in gate.reference.items()}
    metrics["gate/kept_step"] = float(gate.kept_step())
    metrics["gate/measured"] = float(len(gate.history))
    Trainer.log(trainer, metrics)  # the base class's: GRPOTrainer.log would log its completions table again


def _by_level(rows: Sequence[dict]) -> dict[str, list[dict]]:
    """``rows`` grouped by level (names as :func:`level_accuracy` writes them), in its order."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(str(row.get("level", "all")), []).append(row)
    return dict(sorted(groups.items()))


def _checkpoint_steps(folder: Path) -> list[int]:
    return [int(p.name.split("-")[1]) for p in folder.glob("checkpoint-*") if p.name.split("-")[1].isdigit()]


def _fingerprint(model: str) -> str:
    """A model folder's weight files by name, size and modification time; a hub id as itself."""
    path = Path(model)
    if not path.is_dir():
        return model
    files = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".bin"))
    return _digest([[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files] + [str(path.resolve())])


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


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
