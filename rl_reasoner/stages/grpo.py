"""GRPO stage: TRL's ``GRPOTrainer`` from the SFT checkpoint (or the base model) with the recipe's rewards;
each baseline is one more unit (``grpo-<name>``) from the same start with its own rewards."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from rl_reasoner.buckets import CPU_BUCKET_ROWS, bucketed_logps
from rl_reasoner.console import quiet_trl_deprecations, use_short_console
from rl_reasoner.data.tables import load_split
from rl_reasoner.errors import UsageError
from rl_reasoner.freeze import freeze
from rl_reasoner.gate import REFERENCE_FILE, ValidationGate, hand_on
from rl_reasoner.recipe_grpo import ReplaySection
from rl_reasoner.replay import ReplayRows, replay_loss
from rl_reasoner.reward_funcs import build_reward_funcs
from rl_reasoner.stages.common import finish_reporting, resume_checkpoint
from rl_reasoner.stages.data import base_model_path
from rl_reasoner.trainer_config import eval_budget, grpo_config


def run_grpo(pipeline, unit: str, out: Path) -> None:
    """Train the unit's policy with GRPO on ``data/grpo.jsonl``; the final model is saved in ``out``."""
    from transformers import AutoTokenizer

    recipe = pipeline.recipe
    specs = recipe.baselines[unit.removeprefix("grpo-")].rewards if unit != "grpo" else recipe.rewards
    start = start_model(pipeline)
    tokenizer = AutoTokenizer.from_pretrained(start)
    weights, report_to = [spec.weight for spec in specs], pipeline.report_to
    # the gate chooses among all checkpoints after training (rl_reasoner/gate.py): none rotated away before
    grpo_args = {"save_total_limit": None, **recipe.grpo} if recipe.gate.max_drop is not None else recipe.grpo
    config = grpo_config(grpo_args, out, reward_weights=weights, seed=recipe.seed, report_to=report_to)
    funcs = build_reward_funcs(
        specs, num_generations=config.num_generations, eos_token_ids=[tokenizer.eos_token_id]
    )
    extra = [c for func in funcs for c in getattr(func, "columns", ())]  # e.g. an L1 reward's target_column
    dataset = load_split(pipeline.run_dir / "data" / "grpo.jsonl", columns=("prompt", "answer", "id", *extra))
    checkpoint = resume_checkpoint(out)
    replay = None
    if recipe.replay.weight > 0:
        replay = ReplayRows(
            pipeline.run_dir / "data" / "sft.jsonl", tokenizer, recipe.replay.rows, recipe.seed
        )
    with quiet_trl_deprecations():
        trainer = _trainer_class(replay, recipe.replay)(
            model=start,
            reward_funcs=funcs,
            args=config,
            train_dataset=dataset,
            processing_class=tokenizer,
            callbacks=reward_state_callbacks(funcs, checkpoint),
        )
        use_short_console(trainer)
        if recipe.frozen:  # before train() builds the optimizer (rl_reasoner/freeze.py)
            frozen, total = freeze(trainer.model, recipe.frozen)
            names = ", ".join(recipe.frozen)
            print(f"[rl-reasoner] {unit}: {frozen:,} of {total:,} parameters frozen ({names})")
        gate = _gate(pipeline, trainer, start, checkpoint)
        trainer.train(resume_from_checkpoint=checkpoint)
        if gate is not None:
            hand_on(trainer, gate, out)
        finish_reporting(pipeline.report_to)
        trainer.save_model(str(out))  # every process: ZeRO-3/FSDP gather the sharded weights here
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(out))


def start_model(pipeline) -> str:
    """The folder (or hub id) GRPO starts from: the SFT model, or the base model without an SFT stage."""
    recipe = pipeline.recipe
    return base_model_path(pipeline) if recipe.model.grpo_from == "base" else str(pipeline.run_dir / "sft")


def _gate(pipeline, trainer, start: str, checkpoint: str | None) -> ValidationGate | None:
    """The recipe's validation gate on ``trainer`` (rl_reasoner/gate.py); None when it is off."""
    gate = _new_gate(pipeline, start)
    return None if gate is None else gate.attach(trainer, checkpoint)


def _new_gate(pipeline, start: str) -> ValidationGate | None:
    recipe = pipeline.recipe
    if recipe.gate.max_drop is None:
        return None
    rows = load_split(pipeline.run_dir / "data" / "val.jsonl", columns=("id", "level", "prompt", "answer"))
    cache = pipeline.run_dir / REFERENCE_FILE
    budget, batch = eval_budget(recipe), recipe.eval.batch_size
    return ValidationGate(list(rows), recipe.gate.max_drop, budget, batch, start, cache)


def cache_gate_reference(pipeline) -> dict[str, float] | None:
    """Before GRPO units train side by side: the gate's reference (the start model's val accuracy) measured
    once here on every core and cached, where each unit measured the same numbers at the same time on its own
    share of the cores. None when the gate is off."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    start = start_model(pipeline)
    gate = _new_gate(pipeline, start)
    if gate is None:
        return None
    model, tokenizer = AutoModelForCausalLM.from_pretrained(start), AutoTokenizer.from_pretrained(start)
    return gate.cache_reference(model, tokenizer)


class ResumeError(UsageError):
    """A GRPO checkpoint this code cannot resume from as it is."""


REWARD_STATE = "RewardState"  # its key in a checkpoint's trainer_state.json "stateful_callbacks"


def reward_state_callbacks(funcs: list, checkpoint: str | None) -> list:
    """A callback that saves the state of the rewards that keep one across steps (``state_dict``) in each
    checkpoint's ``trainer_state.json``, written with the checkpoint; with ``checkpoint`` (a resume) the
    saved state is loaded back into them first. No stateful reward: no callback."""
    from transformers import TrainerCallback
    from transformers.trainer_callback import ExportableState

    stateful = {f"{i}:{f.__name__}": f for i, f in enumerate(funcs) if hasattr(f, "state_dict")}
    if not stateful:
        return []
    if checkpoint is not None:
        saved = json.loads((Path(checkpoint) / "trainer_state.json").read_text())
        rewards = (
            saved.get("stateful_callbacks", {}).get(REWARD_STATE, {}).get("attributes", {}).get("rewards")
        )
        missing = sorted(set(stateful) - set(rewards or {}))
        if missing:
            raise ResumeError(
                f"checkpoint {checkpoint} holds no saved state for reward(s) {missing}, so GRPO cannot "
                "resume where it stopped; rerun the stage from the start with --force --stages grpo (the "
                "old output is kept as *.bak-<time>)"
            )
        for key, func in stateful.items():
            func.load_state_dict(rewards[key])

    class RewardState(TrainerCallback, ExportableState):
        def state(self) -> dict:
            return {"args": {}, "attributes": {"rewards": {k: f.state_dict() for k, f in stateful.items()}}}

    return [RewardState()]


def _trainer_class(replay: ReplayRows | None = None, section: ReplaySection | None = None):
    """``GRPOTrainer`` whose console copy of the completions table is printed only when the recipe sets
    ``num_completions_to_print`` (the table itself still goes to wandb and ``completions/*.parquet``), plus
    ``section.weight`` x the SFT replay loss when ``replay`` rows are given (logged as ``replay/*``); its
    rollouts without vLLM use the chunked KV cache (``rl_reasoner.kv_cache``: the same tokens, faster)."""
    from trl import GRPOTrainer

    from rl_reasoner.kv_cache import chunked_generate

    class Trainer(GRPOTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            if replay is None or not model.training:
                return loss
            step = self.state.global_step  # rows drawn by (step, call within it, process): resumable
            same = getattr(self, "_replay_step", None) == step
            self._replay_step, self._replay_call = step, self._replay_call + 1 if same else 1
            batch = replay.batch(step, self._replay_call, self.accelerator.process_index)
            rows = CPU_BUCKET_ROWS if self.accelerator.device.type == "cpu" else None
            extra, kept = replay_loss(model, self.ref_model, batch, section.max_entropy, rows)
            self._metrics["train"]["replay/nll"].append(extra.item())
            self._metrics["train"]["replay/kept_fraction"].append(kept)
            return loss + section.weight * extra / self.current_gradient_accumulation_steps

        def _get_per_token_logps_and_entropies(
            self, model, input_ids, attention_mask, logits_to_keep, batch_size=None, compute_entropy=False,
            compute_aux_loss=False, **extra,
        ):  # TRL's passes, run on length buckets (rl_reasoner/buckets.py); images or MoE: TRL's as they are
            parent = super()._get_per_token_logps_and_entropies
            if compute_aux_loss or any(value is not None for value in extra.values()):
                return parent(
                    model, input_ids, attention_mask, logits_to_keep, batch_size, compute_entropy,
                    compute_aux_loss, **extra,
                )

            def score(ids, mask, keep):
                logps, entropies, _ = parent(model, ids, mask, keep, None, compute_entropy)
                return logps, entropies

            rows = batch_size or input_ids.size(0)
            if self.accelerator.device.type == "cpu":
                rows = min(rows, CPU_BUCKET_ROWS)
            logps, entropies = bucketed_logps(
                score, input_ids, attention_mask, logits_to_keep, rows, compute_entropy
            )
            return logps, entropies, None

        def _generate_single_turn(self, *args, **kwargs):  # transformers' generate: the chunked KV cache
            with chunked_generate(self.accelerator.unwrap_model(self.model_wrapped)):
                return super()._generate_single_turn(*args, **kwargs)

        def log(self, logs, start_time=None):  # replaces GRPOTrainer.log: same, minus the rich table
            if self.args.num_completions_to_print is not None:
                return super().log(logs, start_time)
            with _no_completions_printout():
                return super().log(logs, start_time)

    return Trainer


@contextmanager
def _no_completions_printout():
    """TRL prints the table whenever ``rich`` is importable; for this call it finds it is not."""
    from trl.trainer import grpo_trainer

    saved = grpo_trainer.is_rich_available
    grpo_trainer.is_rich_available = lambda: False
    try:
        yield
    finally:
        grpo_trainer.is_rich_available = saved
