import json

import pytest

from rl_reasoner.model_ref import ModelRefError, is_hub_id, resolve_model


@pytest.fixture
def run(tmp_path):
    run = tmp_path / "runs" / "demo"
    for stage in ("sft", "grpo", "grpo-accuracy-only", "grpo.bak-20260101-000000"):
        (run / stage).mkdir(parents=True)
        (run / stage / "config.json").write_text("{}")
    (run / "grpo" / "checkpoint-3").mkdir()
    (run / "grpo" / "checkpoint-3" / "config.json").write_text("{}")
    (run / "manifest.json").write_text(json.dumps({"recipe": {"name": "demo"}}))
    return run


def test_a_run_directory_picks_a_stage_model(run):
    ref = resolve_model(str(run))
    assert (ref.path, ref.stage, ref.run_dir) == (str(run / "grpo"), "grpo", run)
    assert ref.manifest() == {"recipe": {"name": "demo"}}
    assert resolve_model(str(run), "grpo-accuracy-only").path == str(run / "grpo-accuracy-only")
    with pytest.raises(ModelRefError, match=r"its model folders: \['grpo', 'grpo-accuracy-only', 'sft'\]"):
        resolve_model(str(run), "grpo-kimi")


def test_a_model_folder_or_checkpoint_is_taken_as_is(run):
    ref = resolve_model(str(run / "sft"))
    assert (ref.path, ref.run_dir, ref.stage) == (str(run / "sft"), run, "sft")  # still knows its run
    ckpt = resolve_model(str(run / "grpo" / "checkpoint-3"))
    assert ckpt.path == str(run / "grpo" / "checkpoint-3") and ckpt.run_dir is None
    with pytest.raises(ModelRefError, match="only applies to a run directory"):
        resolve_model(str(run / "sft"), "grpo")


def test_folders_without_a_model_and_unknown_names_are_explained(run, tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "checkpoint-1").mkdir()
    (tmp_path / "half" / "checkpoint-1" / "config.json").write_text("{}")
    with pytest.raises(ModelRefError, match="nor a model folder.*its checkpoints: .*checkpoint-1"):
        resolve_model(str(tmp_path / "half"))
    with pytest.raises(ModelRefError, match="no such model folder: ./nope"):
        resolve_model("./nope")
    with pytest.raises(ModelRefError, match="'someone/no-such-model' is not a local folder.*offline"):
        resolve_model("someone/no-such-model")  # conftest sets HF_HUB_OFFLINE=1


@pytest.mark.parametrize(
    "text, as_model, as_push_target",
    [
        ("Qwen/Qwen2.5-Math-1.5B", True, True),
        ("gpt2", True, False),  # a model may have no owner; a repo to push to needs one
        ("someone/tiny_reasoner.v2", True, True),
        ("./model", False, False),  # paths: a leading . / ~, or more than one /
        ("/abs/model", False, False),
        ("~/model", False, False),
        ("runs/demo/grpo", False, False),
        ("not a repo", False, False),  # and what the Hub refuses
        ("someone/model-", False, False),
        ("some--one/model", False, False),
        ("someone/" + "x" * 100, False, False),
    ],
)
def test_is_hub_id_accepts_what_the_hub_does_and_never_a_path(text, as_model, as_push_target):
    assert is_hub_id(text) is as_model
    assert is_hub_id(text, owner_required=True) is as_push_target
