"""SFT replay during GRPO: the rows it draws, the loss it adds, the checks before training, and a real run
that logs it (its resume with byte-identical weights runs in test_reward_constraint: smoke.yaml has it on)."""

import json
import os
import sys

import pytest
import torch

from rl_reasoner.preflight import PreflightError, preflight
from rl_reasoner.recipe import RecipeError, load_recipe
from rl_reasoner.replay import ReplayRows, replay_loss
from rl_reasoner.tiny_model import save_tiny_model

sys.path.insert(0, os.path.dirname(__file__))  # the sibling test modules (pytest imports with importlib)
from test_cli import SMOKE, cli  # noqa: E402

ROWS = [
    {"prompt": "1+2=?\n", "completion": "<think>\n</think>\n\\boxed{3}"},
    {"prompt": "45+67=?\n", "completion": "<think>\nAdd 45+67:\n5+7=12\n4+6=10\n</think>\n\\boxed{112}"},
    {"prompt": "8+8=?\n", "completion": "<think>\nLet me add 8 and 8.\n8+8+0=16\n</think>\n\\boxed{16}"},
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = save_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    path = tmp_path_factory.mktemp("data") / "sft.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return AutoModelForCausalLM.from_pretrained(folder), tokenizer, path


def test_a_batch_masks_prompt_and_padding_and_is_a_function_of_its_key(tiny):
    _, tokenizer, path = tiny
    rows = ReplayRows(path, tokenizer, rows_per_batch=4, seed=0)
    ids, labels, lengths, opens = rows.batch(3, 1, 0)
    assert rows.batch(3, 1, 0) == (ids, labels, lengths, opens)
    assert any(rows.batch(s, 1, 0) != (ids, labels, lengths, opens) for s in range(4, 20))
    texts = {r["prompt"]: r["completion"] for r in ROWS}
    for row_ids, row_labels, n in zip(ids, labels, lengths, strict=True):
        prompt_len = next(i for i, t in enumerate(row_labels) if t != -100)
        prompt = tokenizer.decode(row_ids[:prompt_len])
        assert tokenizer.decode(row_labels[prompt_len:n]) == texts[prompt] + tokenizer.eos_token
        assert row_labels[n:] == [-100] * (len(row_ids) - n)
        assert len(row_ids) == len(row_labels) == max(lengths)


def test_without_an_entropy_limit_the_loss_is_the_completion_nll(tiny):
    model, tokenizer, path = tiny
    ids, labels, lengths, _ = batch = ReplayRows(path, tokenizer, rows_per_batch=3, seed=1).batch(0, 1, 0)
    loss, kept = replay_loss(model, None, batch, max_entropy=None)
    attention = torch.tensor([[1] * n + [0] * (len(ids[0]) - n) for n in lengths])
    expected = model(input_ids=torch.tensor(ids), attention_mask=attention, labels=torch.tensor(labels)).loss
    assert kept == 1.0
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    model.zero_grad()


def test_a_label_token_opens_a_line_after_a_newline_or_at_the_completion_start(tiny):
    _, tokenizer, path = tiny
    ids, labels, lengths, opens = ReplayRows(path, tokenizer, rows_per_batch=6, seed=2).batch(0, 1, 0)
    for row_ids, row_labels, row_opens, n in zip(ids, labels, opens, lengths, strict=True):
        start = next(i for i, t in enumerate(row_labels) if t != -100)
        for i in range(start, n):
            text_before = tokenizer.decode(row_ids[start:i])
            assert row_opens[i] == (i == start or text_before.endswith("\n")), (i, text_before)
        assert not any(row_opens[:start]) and not any(row_opens[n:])


def test_the_entropy_limit_keeps_the_confident_tokens_and_in_line_tokens_the_reference_predicts(tiny):
    model, tokenizer, path = tiny
    batch = ReplayRows(path, tokenizer, rows_per_batch=3, seed=1).batch(0, 1, 0)
    ids, labels, lengths, opens = batch
    every, kept_all = replay_loss(model, model, batch, max_entropy=1e6)
    assert kept_all == 1.0 and every.item() > 0
    # a random model is sure of nothing: only the in-line tokens it happens to predict are kept
    attention = torch.tensor([[1] * n + [0] * (len(ids[0]) - n) for n in lengths])
    with torch.no_grad():
        predicted = model(input_ids=torch.tensor(ids), attention_mask=attention).logits.argmax(-1).tolist()
    expected = [
        (row[t + 1], pred[t])
        for row, pred, row_labels, row_opens in zip(ids, predicted, labels, opens, strict=True)
        for t in range(len(row) - 1)
        if row_labels[t + 1] != -100 and not row_opens[t + 1] and pred[t] == row[t + 1]
    ]
    completion_tokens = sum(t != -100 for row in labels for t in row)
    _, kept_none = replay_loss(model, model, batch, max_entropy=1e-6)
    assert kept_none == pytest.approx(len(expected) / completion_tokens)
    assert 0 < len(expected) < completion_tokens  # both kinds present, so the test can tell


@pytest.mark.parametrize(
    ("overrides", "error", "pattern"),
    [
        (["replay.rows=0"], RecipeError, "'replay.rows' must be > 0, got 0"),
        (["replay.weight=-1"], RecipeError, "'replay.weight' must be >= 0"),
        (["replay.max_entropy=0"], RecipeError, "'replay.max_entropy' must be > 0 or null"),
        (["grpo.beta=0"], PreflightError, "replay.max_entropy=0.3 needs the reference model.*grpo.beta"),
    ],
)
def test_bad_replay_settings_are_named_before_training(overrides, error, pattern):
    with pytest.raises(error, match=pattern):
        preflight(load_recipe(SMOKE, overrides))


def test_replay_every_token_needs_no_reference_model():
    preflight(load_recipe(SMOKE, ["grpo.beta=0", "replay.max_entropy=null"]))


def test_a_real_grpo_run_logs_the_replay_loss_each_step(tmp_path):
    recipe = os.path.abspath(SMOKE)
    overrides = ["baselines={}", "report_to=none", "replay.max_entropy=100"]  # 4 SFT steps: sure of nothing
    result = cli("run", recipe, "--stages", "data,sft,grpo", *overrides, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    state = json.loads((tmp_path / "runs/tiny-arith-smoke/grpo/checkpoint-2/trainer_state.json").read_text())
    logged = [h for h in state["log_history"] if "replay/nll" in h]
    assert len(logged) == 2
    assert all(h["replay/nll"] > 0 and h["replay/kept_fraction"] == 1 for h in logged)


@pytest.mark.parametrize("max_entropy", [None, 0.5, 1e6])
def test_length_buckets_give_the_same_loss_as_one_padded_batch(tiny, max_entropy):
    model, tokenizer, path = tiny
    batch = ReplayRows(path, tokenizer, rows_per_batch=7, seed=3).batch(0, 1, 0)
    assert len(set(batch[2])) > 1  # rows of different lengths, so the buckets are cut differently
    whole, kept_whole = replay_loss(model, model, batch, max_entropy)
    parts, kept_parts = replay_loss(model, model, batch, max_entropy, bucket_rows=2)
    assert parts.item() == pytest.approx(whole.item(), rel=1e-5)
    assert kept_parts == kept_whole
    grads = [torch.autograd.grad(loss, model.lm_head.weight)[0] for loss in (whole, parts)]
    assert torch.allclose(*grads, atol=1e-6)
