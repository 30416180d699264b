"""Shared fixtures: an offline Hub, a tiny model whose answers are known in advance, a smoke run after its
SFT stage, that run with the chain model as its SFT model (``twelve_run``), and an outcome and a process
verifier on it."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

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


SMOKE = os.path.abspath("recipes/tiny-arith/smoke.yaml")
ORM_ARGS = ["--kind", "orm", "--samples-per-prompt", "8", "--steps", "20"]
PRM_ARGS = ["--kind", "prm", "--prompts", "5", "--samples-per-prompt", "4", "--continuations", "2",
            "--steps", "3"]


def cli(*args, timeout=300):
    """The real ``rl-reasoner`` in a subprocess, offline."""
    env = {**os.environ, "WANDB_SILENT": "true", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "rl_reasoner", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture(scope="session")
def run_cli():
    """:func:`cli`, for tests (conftest modules are not importable under --import-mode=importlib)."""
    return cli


@pytest.fixture(scope="session")
def sft_smoke_run(tmp_path_factory) -> Path:
    """``runs/tiny-arith-smoke`` after its data and sft stages (its SFT model answers nothing right yet)."""
    runs = tmp_path_factory.mktemp("runs")
    done = cli("run", SMOKE, "--runs-dir", str(runs), "--stages", "data,sft", "report_to=none")
    assert done.returncode == 0, done.stderr[-3000:]
    return runs / "tiny-arith-smoke"


@pytest.fixture(scope="session")
def twelve_run(sft_smoke_run, answer_model, tmp_path_factory) -> Path:
    """The smoke run with the chain model as its SFT model and the 13 sums a+b=12 as its training prompts:
    about 45 % of samples are right (exactly ``\\boxed{12}``), the rest wander off. Its eval split is
    replaced by a line that is not JSON, so reading it would fail."""
    run = tmp_path_factory.mktemp("twelve") / "run"
    shutil.copytree(sft_smoke_run, run)
    shutil.rmtree(run / "sft")
    shutil.copytree(answer_model, run / "sft")
    rows = [{"id": f"twelve-{a}", "level": 1, "prompt": f"{a}+{12 - a}=?\n", "answer": "12"}
            for a in range(13)]
    (run / "data" / "grpo.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (run / "data" / "eval.jsonl").write_text("the eval split: a verifier never reads it\n")
    return run


@pytest.fixture(scope="session")
def orm(twelve_run) -> tuple[Path, str]:
    """(folder, stdout) of ``rl-reasoner verifier`` on the twelve run."""
    done = cli("verifier", str(twelve_run), *ORM_ARGS)
    assert done.returncode == 0, done.stderr[-3000:]
    return twelve_run / "verifier-orm", done.stdout


@pytest.fixture(scope="session")
def prm(twelve_run) -> tuple[Path, str]:
    """(folder, stdout) of ``rl-reasoner verifier --kind prm`` on 5 of the twelve run's prompts, run in this
    process (seconds: a subprocess would spend most of its time importing)."""
    from rl_reasoner.cli import main

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["verifier", str(twelve_run), *PRM_ARGS])
    assert code == 0, printed.getvalue()[-3000:]
    return twelve_run / "verifier-prm", printed.getvalue()
