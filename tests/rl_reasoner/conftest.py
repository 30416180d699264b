"""Shared fixtures: an offline Hub, and a tiny model whose answers are known in advance."""

import os

import pytest

# Tests never reach the network; huggingface_hub and datasets read this once, at import.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ANSWER_CHAIN = "\n\\boxed{12}"  # the model continues a prompt ending in "\n" with \boxed{12} then EOS


def build_answer_model(out, margin: float = 8.0):
    """A ``rl_reasoner.tiny_model`` (1 layer, hidden 64) rewired into a bigram chain: after the last
    prompt character "\\n" it writes ``\\boxed{12}`` and EOS. Greedy decoding always does; sampling at
    temperature 1 takes each chain step with probability e^margin / (e^margin + vocab - 1) (~0.92 for
    margin 8) and otherwise wanders off, so sampled answers are a mix of right, wrong and truncated.

    Chain tokens get orthogonal embeddings (every other token a zero one); attention is switched off
    (``o_proj = 0``) and MLP unit k maps token k's embedding onto the next chain token's, so the
    final hidden state is the next token's embedding and only that token gets a positive logit.
    """
    import math

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rl_reasoner.recipe import TinyModelSpec
    from rl_reasoner.tiny_model import save_tiny_model

    save_tiny_model(out, TinyModelSpec(layers=1, hidden=64, heads=2, intermediate=64, max_positions=256))
    tokenizer = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    chain = [tokenizer.convert_tokens_to_ids(t) for t in tokenizer.tokenize(ANSWER_CHAIN)]
    chain.append(tokenizer.eos_token_id)
    assert len(chain) == len(set(chain)) == len(ANSWER_CHAIN) + 1
    d = model.config.hidden_size
    scale = margin / math.sqrt(d)  # final RMSNorm gives sqrt(d) * unit vector: logit margin = margin
    layer = model.model.layers[0]
    beta = 4.0  # gate pre-activation beta * sqrt(d) = 32: silu is the identity to 1e-13 there
    act = beta * math.sqrt(d) * torch.sigmoid(torch.tensor(beta * math.sqrt(d))).item() * math.sqrt(d)
    with torch.no_grad():
        emb = model.model.embed_tokens.weight  # tied with lm_head
        emb.zero_()
        layer.self_attn.o_proj.weight.zero_()
        for p in (layer.mlp.gate_proj.weight, layer.mlp.up_proj.weight, layer.mlp.down_proj.weight):
            p.zero_()
        for k, tok in enumerate(chain):
            emb[tok, k] = scale
        for k, (tok, nxt) in enumerate(zip(chain[:-1], chain[1:], strict=True)):
            layer.mlp.gate_proj.weight[k, k] = beta
            layer.mlp.up_proj.weight[k, k] = 1.0
            layer.mlp.down_proj.weight[:, k] = (emb[nxt] - emb[tok]) / act
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def answer_model(tmp_path_factory):
    """Folder of the chain model (greedy answer to any arith prompt: ``\\boxed{12}``)."""
    return build_answer_model(tmp_path_factory.mktemp("answer-model") / "model")
