"""``rl-reasoner export``: a run's model to a clean folder that loads and generates exactly like the
original, with a model card; never into a non-empty folder; a failed push leaves the export intact."""

import json
import shutil

import pytest
import torch
from huggingface_hub import ModelCard
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerState

from rl_reasoner.cli import main

SMOKE = "recipes/tiny-arith/smoke.yaml"
TEMPLATE = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
EXPORTED = {
    "README.md",
    "chat_template.jinja",
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "training_curve.png",
}
TABLE = "| model | pass@1 | mean tokens |\n|---|---|---|\n| sft | 25.0% | 30.0 |\n| grpo | 75.0% | 21.5 |"


def summary(prompts, pass1, mean_tokens):
    """One ``overall``/``levels`` entry of a metrics.json (greedy: one sample per prompt)."""
    return {
        "prompts": prompts,
        "samples": prompts,
        "pass@1": pass1,
        "maj@1": pass1,
        "mean_tokens": mean_tokens,
        "median_tokens": 21.0,
        "p90_tokens": 23.0,
        "truncation_rate": 0.0,
    }


# what `rl-reasoner eval --out DIR` writes to DIR/metrics.json, and the eval stage to eval/<stage>/
METRICS = {
    "config": {"data": {"source": f"recipe:{SMOKE}"}, "n": 1, "temperature": 0.0, "max_new_tokens": 16},
    "ks": [1],
    "overall": summary(4, 0.75, 21.5),
    "levels": {"1": summary(2, 1.0, 20.0), "2": summary(2, 0.5, 23.0)},
    "budget_curve": [{"budget": 16, "accuracy": 0.75}],
}
NUMBERS = "16 new tokens, 4 prompts): pass@1 75.0%, 21.5 completion tokens on average, 0.0% truncated"
OLD_RESULTS = {"models": {"grpo": {"overall": {"accuracy": 0.75, "mean_tokens": 21.5, "truncation_rate": 0}}}}


@pytest.fixture(scope="module")
def run_dir(answer_model, tmp_path_factory):
    """A run as the pipeline leaves it: manifest, a GRPO model with a checkpoint, the eval stage's table
    and the model's ``eval/grpo/metrics.json`` (written by hand, in the schema `rl-reasoner eval` uses)."""
    from rl_reasoner.pipeline import Manifest
    from rl_reasoner.recipe import load_recipe, recipe_to_dict

    run = tmp_path_factory.mktemp("runs") / "tiny-arith-smoke"
    recipe = recipe_to_dict(load_recipe(SMOKE, ["model.base=Qwen/Qwen2.5-Math-1.5B"]))
    Manifest.open(run, recipe).update("grpo", status="done")
    shutil.copytree(answer_model, run / "grpo")
    tokenizer = AutoTokenizer.from_pretrained(run / "grpo")
    tokenizer.chat_template = TEMPLATE
    tokenizer.save_pretrained(run / "grpo")
    checkpoint = run / "grpo" / "checkpoint-2"
    checkpoint.mkdir()
    history = [
        {"step": 1, "reward": 0.25, "completions/mean_length": 30.0, "loss": 0.1},
        {"step": 2, "reward": 0.5, "completions/mean_length": 21.5, "loss": 0.05},
    ]
    TrainerState(global_step=2, log_history=history).save_to_json(str(checkpoint / "trainer_state.json"))
    (checkpoint / "optimizer.pt").write_bytes(b"optimizer state: never exported")
    (run / "eval" / "grpo").mkdir(parents=True)
    (run / "eval" / "table.md").write_text(TABLE + "\n")
    (run / "eval" / "grpo" / "metrics.json").write_text(json.dumps(METRICS))
    return run


def greedy(folder, prompt="6+6=?\n"):
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    with torch.inference_mode():
        out = model.generate(**tokenizer(prompt, return_tensors="pt"), max_new_tokens=16, do_sample=False)
    return tokenizer.decode(out[0], skip_special_tokens=True), tokenizer


@pytest.fixture(scope="module")
def exported(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "tiny-reasoner"
    assert main(["export", str(run_dir), "--to", str(out)]) == 0
    return out


def test_export_loads_back_and_generates_the_same_text(exported, run_dir):
    assert {p.name for p in exported.iterdir()} == EXPORTED
    text, tokenizer = greedy(exported)
    original_text, original_tokenizer = greedy(run_dir / "grpo")
    assert text == original_text == "6+6=?\n\\boxed{12}"
    assert tokenizer.chat_template == original_tokenizer.chat_template == TEMPLATE
    config = AutoModelForCausalLM.from_pretrained(exported).generation_config
    assert config.eos_token_id == tokenizer.eos_token_id


def test_model_card_has_metadata_recipe_eval_lengths_and_curve(exported):
    readme = (exported / "README.md").read_text()
    meta = ModelCard.load(exported / "README.md").data
    assert meta.library_name == "transformers" and meta.base_model == "Qwen/Qwen2.5-Math-1.5B"
    assert {"rl-reasoner", "grpo"} <= set(meta.tags)
    assert "constrained_bonus" in readme and "name: tiny-arith-smoke" in readme  # the recipe
    assert "This model is the `grpo` row.\n\n" + TABLE in readme  # the eval stage's table
    assert NUMBERS in readme and "  - level 2: 50.0% · 23.0 tokens" in readme  # eval/grpo/metrics.json
    assert "training rollouts: 30.0 mean completion tokens at step 1, 21.5 at step 2" in readme
    assert "![training curve](training_curve.png)" in readme
    assert (exported / "training_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_a_model_folder_exports_with_a_plain_card(answer_model, tmp_path):
    out = tmp_path / "plain"
    out.mkdir()  # an empty folder may be used
    assert main(["export", str(answer_model), "--to", str(out), "--dataset", "openai/gsm8k"]) == 0
    assert {p.name for p in out.iterdir()} == EXPORTED - {"chat_template.jinja", "training_curve.png"}
    meta = ModelCard.load(out / "README.md").data.to_dict()
    assert "base_model" not in meta and meta["datasets"] == ["openai/gsm8k"]
    assert "pass@1" not in (out / "README.md").read_text()  # no run, no --eval: no eval numbers


@pytest.mark.parametrize("given", ["folder", "file"])
def test_eval_gives_a_model_folder_the_numbers_of_rl_reasoner_eval(answer_model, tmp_path, given):
    eval_out = tmp_path / "eval-out"  # as `rl-reasoner eval MODEL --data … --out eval-out` leaves it
    eval_out.mkdir()
    (eval_out / "metrics.json").write_text(json.dumps(METRICS))
    (eval_out / "samples.jsonl").write_text("")
    path = eval_out if given == "folder" else eval_out / "metrics.json"
    assert main(["export", str(answer_model), "--to", str(tmp_path / "out"), "--eval", str(path)]) == 0
    readme = (tmp_path / "out" / "README.md").read_text()
    assert NUMBERS in readme and "  - level 1: 100.0% · 20.0 tokens" in readme


@pytest.mark.parametrize(
    "where, message",
    [("nowhere", "does not exist"), ("empty", "has no metrics.json"), ("old/results.json", "has no metrics")],
)
def test_an_eval_path_without_metrics_is_refused_before_exporting(run_dir, tmp_path, capsys, where, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "results.json").write_text(json.dumps(OLD_RESULTS))
    args = ["export", str(run_dir), "--to", str(tmp_path / "out"), "--eval", str(tmp_path / where)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_an_old_runs_eval_gives_a_card_without_numbers(run_dir, tmp_path):
    old = tmp_path / "old-run"  # made before eval/<stage>/metrics.json: eval/results.json, old schema
    shutil.copytree(run_dir, old, ignore=shutil.ignore_patterns("checkpoint-*"))
    shutil.rmtree(old / "eval" / "grpo")
    (old / "eval" / "results.json").write_text(json.dumps(OLD_RESULTS))
    assert main(["export", str(old), "--to", str(tmp_path / "out")]) == 0
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "## Evaluation" in readme and "pass@1 75.0%" not in readme and "## Length statistics" not in readme


def test_never_writes_into_a_non_empty_folder(run_dir, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    assert main(["export", str(run_dir), "--to", str(taken)]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]  # no partial export left behind
    assert [p.name for p in taken.iterdir()] == ["notes.txt"] and (taken / "notes.txt").read_text() == "mine"


def test_push_without_network_or_token_fails_clearly_and_keeps_the_export(
    run_dir, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_TOKEN", "")
    out = tmp_path / "to-push"
    assert main(["export", str(run_dir), "--to", str(out), "--push", "someone/tiny-reasoner"]) == 2
    err = capsys.readouterr().err
    assert "cannot push to someone/tiny-reasoner" in err and "offline" in err
    last = err.strip().splitlines()[-1]  # (above it: transformers' loading progress bars)
    assert last.startswith("rl-reasoner: error: cannot push") and f"the export at {out} is intact" in last
    assert {p.name for p in out.iterdir()} == EXPORTED
    assert greedy(out)[0] == "6+6=?\n\\boxed{12}"


def test_dry_run_lists_what_would_be_uploaded(run_dir, tmp_path, capsys):
    out = tmp_path / "dry"
    args = ["export", str(run_dir), "--to", str(out), "--push", "someone/tiny-reasoner", "--revision", "v1"]
    assert main([*args, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "would upload to someone/tiny-reasoner (revision v1)" in printed
    for name in EXPORTED:
        assert f"  {name}  (" in printed


@pytest.mark.parametrize(
    "args, message",
    [
        (["--stage", "grpo-x"], "no finished 'grpo-x' model"),
        (["--push", "not a repo"], "is not a hub repo id"),
        (["--dry-run"], "go with --push"),
    ],
)
def test_bad_input_is_reported_before_exporting(run_dir, tmp_path, capsys, args, message):
    assert main(["export", str(run_dir), "--to", str(tmp_path / "out"), *args]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_a_hub_id_is_not_exportable(tmp_path, capsys):
    assert main(["export", "someone/model", "--to", str(tmp_path / "out")]) == 2
    assert "a local folder is needed" in capsys.readouterr().err
