from transformers import AutoModelForCausalLM, AutoTokenizer

from rl_reasoner.data.arith import trace
from rl_reasoner.recipe import TinyModelSpec
from rl_reasoner.tiny_model import save_tiny_model


def test_tiny_model_round_trips_through_from_pretrained(tmp_path):
    path = save_tiny_model(tmp_path / "tiny", TinyModelSpec(layers=2, hidden=32, heads=2, intermediate=64))
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    text = "95+87=?\n" + trace(95, 87, "verbose", rechecks=1)
    ids = tokenizer(text)["input_ids"]
    assert tokenizer.decode(ids) == text  # newlines, spaces, braces and backslashes survive
    assert len(ids) == len(text) - len("<think>") - len("</think>") + 2  # one token per char, tags single
    assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 32
    assert model.config.eos_token_id == tokenizer.eos_token_id != tokenizer.pad_token_id
    out = model.generate(**tokenizer("1+2=?\n", return_tensors="pt"), max_new_tokens=3, do_sample=False)
    assert out.shape[1] == len(tokenizer("1+2=?\n")["input_ids"]) + 3
