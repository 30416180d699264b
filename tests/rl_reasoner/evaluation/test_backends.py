"""Eval backends: the name table and where the model is put."""

import re

import pytest
import torch

from rl_reasoner.evaluation.backends import BACKENDS, BackendError, HFBackend, load_backend
from rl_reasoner.generation import default_device, load_policy


def test_unknown_backend_lists_the_table():
    message = f"unknown eval backend 'tgi'; valid backends: {list(BACKENDS)}"
    with pytest.raises(BackendError, match=re.escape(message)):
        load_backend("tgi", "unused", batch_size=1)


def test_models_go_to_the_gpu_when_torch_sees_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_device() == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_device() == "cpu"


def test_load_policy_puts_the_model_on_the_device_it_is_given(answer_model):
    model, tokenizer = load_policy(str(answer_model), device="meta")
    assert {p.device.type for p in model.parameters()} == {"meta"} and tokenizer.padding_side == "left"


def test_the_hf_backend_puts_its_model_on_the_default_device(answer_model):
    backend = HFBackend(str(answer_model), batch_size=4)
    assert {p.device.type for p in backend.model.parameters()} == {default_device()}
    [[gen]] = backend.generate(["1+2=?\n"], n=1, max_new_tokens=16, temperature=0.0, top_p=1.0, seed=0)
    assert gen.text == "\\boxed{12}" and not gen.truncated  # the chain continues the prompt's "\n"
