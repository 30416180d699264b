"""The chunked KV cache: the same tokens as transformers' own cache, and the same cache after every operation
``generate`` applies to a layer (its library twin, ``DynamicLayer``, is the reference)."""

import pytest
import torch
from transformers.cache_utils import DynamicLayer

from rl_reasoner.generation import load_policy
from rl_reasoner.kv_cache import CHUNK, ChunkedLayer, chunked_cache, chunked_generate
from rl_reasoner.tiny_model import save_tiny_model


@pytest.fixture(scope="module")
def random_model(tmp_path_factory):
    """An untrained tiny model: sampled, it writes random tokens far past a chunk."""
    folder = save_tiny_model(tmp_path_factory.mktemp("random") / "model", seed=3)
    return load_policy(str(folder), device="cpu")


def test_generate_writes_the_same_tokens_with_the_chunked_cache(random_model):
    model, tokenizer = random_model
    enc = tokenizer(["1+2=?\n", "123+456=?\n", "77+8=?\n"], return_tensors="pt", padding=True)  # left-padded

    def sample(cache: dict):
        torch.manual_seed(11)
        with torch.inference_mode():
            return model.generate(**enc, max_new_tokens=2 * CHUNK + 40, do_sample=True, top_k=0,
                                  num_return_sequences=4, pad_token_id=tokenizer.pad_token_id, **cache)

    cache = chunked_cache(model)
    ours, theirs = sample(cache), sample({})
    assert ours.shape[1] > enc["input_ids"].shape[1] + 2 * CHUNK  # it wrote past two chunks
    assert torch.equal(ours, theirs)
    layers = cache["cache"].layers
    assert all(isinstance(layer, ChunkedLayer) for layer in layers)
    assert layers[0].key_buffer.shape[-2] % CHUNK == 0 and layers[0].key_buffer.shape[-2] > 2 * CHUNK


def test_each_layer_operation_leaves_what_the_library_layer_leaves():
    torch.manual_seed(0)
    ours, theirs = ChunkedLayer(), DynamicLayer()

    def step(tokens: int, batch: int = 3):
        k, v = torch.randn(batch, 2, tokens, 4), torch.randn(batch, 2, tokens, 4)
        got, want = ours.update(k, v), theirs.update(k.clone(), v.clone())
        assert all(torch.equal(a, b) for a, b in zip(got, want, strict=True))

    step(5)
    for _ in range(CHUNK + 3):  # one token at a time, past a chunk
        step(1)
    for op, args in (("crop", (-3,)), ("batch_select_indices", (torch.tensor([2, 0]),)),
                     ("batch_repeat_interleave", (2,))):
        getattr(ours, op)(*args)
        getattr(theirs, op)(*args)
        assert torch.equal(ours.keys, theirs.keys) and torch.equal(ours.values, theirs.values)
        step(1, batch=theirs.keys.shape[0])
    ours.reset()
    theirs.reset()
    step(2)
    assert ours.get_seq_length() == theirs.get_seq_length() == 2


def test_generate_called_by_a_trainer_gets_the_chunked_cache_inside_the_context_only(random_model):
    """TRL's GRPO calls ``model.generate`` itself: inside ``chunked_generate`` it gets the chunked cache
    unless it names a cache implementation, and the model's own ``generate`` is back afterwards."""
    from transformers import GenerationConfig

    model, tokenizer = random_model
    enc = tokenizer(["1+2=?\n"], return_tensors="pt")
    config = GenerationConfig(max_new_tokens=4, do_sample=False, pad_token_id=tokenizer.pad_token_id,
                              return_dict_in_generate=True)

    def layers(**kwargs):
        with torch.inference_mode():
            return model.generate(**enc, generation_config=config, **kwargs).past_key_values.layers

    with chunked_generate(model):
        assert all(isinstance(layer, ChunkedLayer) for layer in layers())
        config.cache_implementation = "static"
        assert not any(isinstance(layer, ChunkedLayer) for layer in layers())
        config.cache_implementation = None
    assert "generate" not in vars(model)
    assert not any(isinstance(layer, ChunkedLayer) for layer in layers())
