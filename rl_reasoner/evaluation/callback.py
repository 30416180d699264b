"""In-training eval: a ``TrainerCallback`` that samples the policy every N steps and logs the same metrics
as ``rl-reasoner eval`` (pass@1, pass@k, maj@k, token statistics, truncation, per level, budget curve).

Not wired into the pipeline; attach it to any ``transformers.Trainer`` (``SFTTrainer``, ``GRPOTrainer``)::

    ReasoningEvalCallback(eval_rows, every_steps=50, n=4, ks=[1, 4], max_new_tokens=256).attach(trainer)

Metrics go through ``transformers.Trainer.log`` (so to ``log_history`` and every ``report_to`` backend,
wandb included) as ``<prefix>/pass@1``, ``<prefix>/level_2/pass@1``, ``<prefix>/acc@64tok``, …; the base
``Trainer.log`` is called on purpose, so TRL's own per-step metric averaging is left alone. The eval runs
on the main process only, with the unwrapped model: fine for one process or DDP, not for sharded (FSDP /
ZeRO-3) models, whose forward passes need every rank.
"""

from __future__ import annotations

from collections.abc import Sequence

from transformers import Trainer, TrainerCallback

from rl_reasoner.evaluation import metrics as M
from rl_reasoner.evaluation.runner import Sampling, score
from rl_reasoner.recipe import EvalSection


class ReasoningEvalCallback(TrainerCallback):
    def __init__(
        self,
        rows: Sequence[dict],
        *,
        every_steps: int,
        max_new_tokens: int,
        n: int = 1,
        ks: Sequence[int] | None = None,
        temperature: float | None = None,
        top_p: float = 1.0,
        batch_size: int = EvalSection.batch_size,
        seed: int = 0,
        prefix: str = "reasoning_eval",
    ):
        if every_steps < 1 or not rows:
            raise ValueError(
                f"every_steps must be >= 1 and rows non-empty, got {every_steps} and {len(rows)} rows"
            )
        temperature = temperature if temperature is not None else (0.0 if n == 1 else 1.0)
        self.sampling = Sampling(
            n=n, temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens, seed=seed
        )
        self.ks = sorted(set(ks or {1, n}))
        self.sampling.check(self.ks)
        self.rows, self.every_steps, self.batch_size, self.prefix = (
            list(rows),
            every_steps,
            batch_size,
            prefix,
        )
        self.trainer: Trainer | None = None

    def attach(self, trainer: Trainer) -> ReasoningEvalCallback:
        """Registers the callback on ``trainer`` (it logs through that trainer)."""
        self.trainer = trainer
        trainer.add_callback(self)
        return self

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if self.trainer is None or state.global_step % self.every_steps or not state.is_world_process_zero:
            return
        tokenizer = processing_class or self.trainer.processing_class
        metrics = self.evaluate(model or self.trainer.model, tokenizer)
        should_log = control.should_log  # Trainer.log clears it: the step's own log would be lost
        Trainer.log(self.trainer, metrics)
        control.should_log = self.trainer.control.should_log = should_log
        return control

    def evaluate(self, model, tokenizer) -> dict[str, float]:
        """Samples ``rows`` with ``model`` (eval mode, left padding; both restored); flat metrics."""
        from rl_reasoner.generation import generate_samples

        was_training, side = model.training, tokenizer.padding_side
        model.eval()
        tokenizer.padding_side = "left"
        try:
            s = self.sampling
            groups = generate_samples(
                model,
                tokenizer,
                [row["prompt"] for row in self.rows],
                n=s.n,
                max_new_tokens=s.max_new_tokens,
                batch_size=self.batch_size,
                temperature=s.temperature,
                top_p=s.top_p,
                seed=s.seed,
                progress=False,
            )
        finally:
            tokenizer.padding_side = side
            model.train(was_training)
        result = M.evaluate(score([("eval", row) for row in self.rows], groups), self.ks, s.max_new_tokens)
        return flatten(result, self.prefix)


def flatten(result: dict, prefix: str) -> dict[str, float]:
    """``overall`` → ``prefix/key``, ``levels`` → ``prefix/level_L/key``, budget → ``prefix/acc@Btok``."""
    out = {f"{prefix}/{k}": float(v) for k, v in result["overall"].items()}
    for level, summary in result.get("levels", {}).items():
        out.update({f"{prefix}/level_{level}/{k}": float(v) for k, v in summary.items()})
    out.update({f"{prefix}/acc@{p['budget']}tok": p["accuracy"] for p in result["budget_curve"]})
    return out
