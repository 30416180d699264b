"""Offline tiny-model factory: a character-level tokenizer and a small Qwen2-style model.

Nothing is downloaded. The result is a normal Hugging Face folder, so everything downstream loads it
with ``from_pretrained(path)`` exactly as it would load ``Qwen/Qwen2.5-Math-1.5B`` from the Hub.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from rl_reasoner.recipe import TinyModelSpec

EOS, PAD = "<|endoftext|>", "<|pad|>"
THINK_TAGS = ("<think>", "</think>")


def build_tokenizer():
    """Byte-level BPE with no merges (one token per byte, 256 + specials), built locally.

    ``<think>``/``</think>`` are single non-special tokens, as in Qwen3. Byte-level keeps the tokenizer
    identical whichever class ``AutoTokenizer`` picks for a Qwen2 config.
    """
    from transformers import PreTrainedTokenizerFast

    byte_chars = pre_tokenizers.ByteLevel.alphabet()
    vocab = {tok: i for i, tok in enumerate([PAD, EOS, *THINK_TAGS, *sorted(byte_chars)])}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token=EOS, pad_token=PAD)
    tokenizer.add_tokens(list(THINK_TAGS))
    return tokenizer


def build_model(spec: TinyModelSpec, tokenizer):
    """A randomly initialised Qwen2 causal LM sized by ``spec``."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden,
        intermediate_size=spec.intermediate,
        num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads,
        num_key_value_heads=spec.heads,
        max_position_embeddings=spec.max_positions,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return AutoModelForCausalLM.from_config(config, dtype=torch.float32)


def save_tiny_model(out_dir: str | Path, spec: TinyModelSpec | None = None, seed: int = 0) -> Path:
    """Build tokenizer + model and save both to ``out_dir`` (a from_pretrained-loadable folder)."""
    import torch
    from transformers import GenerationConfig

    torch.manual_seed(seed)
    out = Path(out_dir)
    tokenizer = build_tokenizer()
    model = build_model(spec or TinyModelSpec(), tokenizer)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
