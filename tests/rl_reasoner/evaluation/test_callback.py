"""The in-training eval callback on a real 2-step SFTTrainer run of the chain model (answers \\boxed{12})."""

import pytest

from rl_reasoner.evaluation.callback import ReasoningEvalCallback
from rl_reasoner.evaluation.sources import DataSpec, load_rows

SMOKE = "recipes/tiny-arith/smoke.yaml"


def test_callback_logs_the_eval_metrics_at_every_eval_step(answer_model, tmp_path):
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    rows = load_rows(DataSpec(f"recipe:{SMOKE}", limit=4))  # 6+6 (level 1) is the one the model gets right
    train = Dataset.from_list(
        [{"prompt": r["prompt"], "completion": f"\\boxed{{{r['answer']}}}"} for r in rows]
    )
    config = SFTConfig(
        output_dir=str(tmp_path / "sft"),
        max_steps=2,
        per_device_train_batch_size=2,
        learning_rate=0.0,  # the weights stay the chain model's, so the logged accuracy is known
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        bf16=False,
        activation_checkpointing=False,
    )
    tokenizer = AutoTokenizer.from_pretrained(answer_model)
    trainer = SFTTrainer(
        model=str(answer_model), args=config, train_dataset=train, processing_class=tokenizer
    )
    callback = ReasoningEvalCallback(rows, every_steps=1, max_new_tokens=16).attach(trainer)
    trainer.train()

    logged = [h for h in trainer.state.log_history if "reasoning_eval/pass@1" in h]
    assert [h["step"] for h in logged] == [1, 2]
    for h in logged:
        assert h["reasoning_eval/pass@1"] == 0.25 and h["reasoning_eval/maj@1"] == 0.25
        assert h["reasoning_eval/level_1/pass@1"] == 0.5 and h["reasoning_eval/level_2/pass@1"] == 0.0
        assert h["reasoning_eval/truncation_rate"] == 0.0 and h["reasoning_eval/mean_tokens"] == 10.0
        assert h["reasoning_eval/acc@16tok"] == 0.25
    assert sum("loss" in h for h in trainer.state.log_history) == 2  # the trainer's own logs are untouched
    assert trainer.model.training and tokenizer.padding_side == "right"
    assert callback.evaluate(trainer.model, tokenizer)["reasoning_eval/pass@1"] == 0.25


def test_callback_rejects_k_above_n():
    with pytest.raises(ValueError, match="outside 1..n=2"):
        ReasoningEvalCallback(
            [{"prompt": "1+1=?\n", "answer": "2"}], every_steps=5, max_new_tokens=8, n=2, ks=[1, 4]
        )
