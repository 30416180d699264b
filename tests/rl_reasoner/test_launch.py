"""Launch files through accelerate's own parser and launcher preparation, and the checks that refuse a launch
file, DeepSpeed or vLLM set-up that cannot work on this machine (before any model is loaded)."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from rl_reasoner.launch import (
    LaunchError,
    check_grpo_batch,
    check_launch,
    check_launched_env,
    check_scaleout,
    check_vllm,
    launch_command,
    one_process_view,
)
from rl_reasoner.recipe import LaunchSection, load_recipe

LAUNCH = Path("launch/accelerate")
FILES = sorted(LAUNCH.glob("*.yaml"))
SMOKE = "recipes/tiny-arith/smoke.yaml"
EXPECTED = {  # file -> (distributed type, processes, CPU)
    "cpu-2proc": ("MULTI_GPU", 2, True),
    "ddp": ("MULTI_GPU", 8, False),
    "zero2": ("DEEPSPEED", 8, False),
    "zero3": ("DEEPSPEED", 8, False),
    "fsdp2": ("FSDP", 8, False),
    "multinode": ("DEEPSPEED", 16, False),
}


def launcher_env(path: Path) -> tuple[object, dict[str, str]]:
    """What `accelerate launch --config_file path -m rl_reasoner grpo` computes before it starts anything:
    accelerate's own argument validation and launcher environment (no process is started)."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import prepare_deepspeed_cmd_env, prepare_multi_gpu_env

    args = launch_command_parser().parse_args(["--config_file", str(path), "-m", "rl_reasoner", "grpo"])
    args, defaults, _ = _validate_launch_command(args)
    if args.use_deepspeed:
        args.deepspeed_fields_from_accelerate_config = ",".join(defaults.deepspeed_config)
        return args, prepare_deepspeed_cmd_env(args)[1]
    return args, prepare_multi_gpu_env(args)


def test_the_shipped_launch_files_are_the_expected_set():
    assert sorted(p.stem for p in FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_launch_file_parses_and_prepares_like_accelerate_launch(path):
    from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file

    config = load_config_from_file(str(path))
    assert isinstance(config, ClusterConfig)
    kind, processes, cpu = EXPECTED[path.stem]
    assert (config.distributed_type.value, config.num_processes, config.use_cpu) == (kind, processes, cpu)
    args, env = launcher_env(path)
    assert int(args.nproc_per_node) == processes // config.num_machines  # torchrun starts this many here
    if kind == "DEEPSPEED":  # batch settings are left to the trainer: never written by hand
        assert not {"gradient_accumulation_steps", "gradient_clipping"} & set(config.deepspeed_config)
        assert "ACCELERATE_GRADIENT_ACCUMULATION_STEPS" not in env
    if path.stem == "fsdp2":
        assert env["FSDP_VERSION"] == "2" and env["FSDP_STATE_DICT_TYPE"] == "FULL_STATE_DICT"


@pytest.mark.parametrize("name", ["zero2", "zero3", "multinode"])
def test_deepspeed_config_has_auto_batch_sizes_that_the_trainer_fills(name, monkeypatch):
    """accelerate's DeepSpeedPlugin built from the launcher's environment (as in the launched process);
    then transformers' HfTrainerDeepSpeedConfig fills the batch sizes from the trainer arguments."""
    from accelerate.utils import DeepSpeedPlugin

    _, env = launcher_env(LAUNCH / f"{name}.yaml")
    for key, value in env.items():
        if key.startswith("ACCELERATE_"):
            monkeypatch.setenv(key, value)
    config = DeepSpeedPlugin().deepspeed_config
    assert {k: config[k] for k in ("train_batch_size", "train_micro_batch_size_per_gpu")} == {
        "train_batch_size": "auto",
        "train_micro_batch_size_per_gpu": "auto",
    }
    assert config["gradient_accumulation_steps"] == "auto"
    zero = config["zero_optimization"]
    assert zero["stage"] == (2 if name == "zero2" else 3)
    if zero["stage"] == 3:
        assert zero["stage3_gather_16bit_weights_on_model_save"] is True
    if importlib.util.find_spec("deepspeed") is None:
        pytest.skip("transformers' HfTrainerDeepSpeedConfig needs the deepspeed package (pip install -e "
                    "'.[deepspeed]'); without it transformers defines a placeholder that cannot be built")
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig

    hf = HfTrainerDeepSpeedConfig(config)
    trainer_args = SimpleNamespace(  # the TrainingArguments fields trainer_config_process reads
        world_size=16, per_device_train_batch_size=4, gradient_accumulation_steps=2, max_grad_norm=1.0,
        learning_rate=1e-6, adam_beta1=0.9, adam_beta2=0.99, adam_epsilon=1e-8, weight_decay=0.0,
        save_on_each_node=False, fp16=False, fp16_full_eval=False, bf16=True, bf16_full_eval=False,
    )
    hf.trainer_config_process(trainer_args)
    assert (hf.get_value("train_batch_size"), hf.get_value("train_micro_batch_size_per_gpu")) == (128, 4)
    assert hf.get_value("gradient_accumulation_steps") == 2 and hf.get_value("gradient_clipping") == 1.0


def write_config(tmp_path: Path, base: str, **changes) -> str:
    data = yaml.safe_load((LAUNCH / f"{base}.yaml").read_text())
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            data[section] = {k: v for k, v in data[section].items() if k != name}
            if value is not None:
                data[section][name] = value
        else:
            data[key] = value
    path = tmp_path / f"{base}-changed.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def launch(path: str, n: int | None = None) -> LaunchSection:
    return LaunchSection(config_file=path, num_processes=n)


def test_cpu_launch_file_plans_two_cpu_processes():
    plan = check_launch(launch(str(LAUNCH / "cpu-2proc.yaml")), devices=0)
    assert (plan.num_processes, plan.distributed_type, plan.use_cpu) == (2, "MULTI_GPU", True)
    cmd = launch_command(plan, "grpo", Path("r.yaml"), Path("runs/x"), force=False)
    assert cmd[1:] == ["-m", "accelerate.commands.launch", "--config_file", str(LAUNCH / "cpu-2proc.yaml"),
                       "--num_processes", "2", "-m", "rl_reasoner", "grpo", "--recipe", "r.yaml",
                       "--run-dir", "runs/x"]


@pytest.mark.parametrize(
    ("devices", "n", "message"),
    [
        (0, None, "starts 8 processes, one per GPU, but this machine has 0 usable CUDA device.*cpu-2proc"),
        (4, None, "starts 8 processes.*has 4 usable CUDA.*set launch.num_processes: 4"),
        (2, 3, "starts 3 processes.*has 2"),
    ],
)
def test_more_processes_than_gpus_is_refused(devices, n, message):
    with pytest.raises(LaunchError, match=message):
        check_launch(launch(str(LAUNCH / "ddp.yaml"), n), devices=devices)
    if devices:
        plan = check_launch(launch(str(LAUNCH / "ddp.yaml"), devices), devices=devices)
        assert plan.num_processes == devices


@pytest.mark.parametrize(
    ("base", "changes", "message"),
    [
        ("zero3", {"deepspeed_config__zero3_save_16bit_model": None}, "ZeRO-3 without zero3_save_16bit"),
        ("zero3", {"deepspeed_config__zero3_save_16bit_model": False}, "ZeRO-3 without zero3_save_16bit"),
        ("zero2", {"deepspeed_config__gradient_accumulation_steps": 4}, "gradient_accumulation_steps: 4;"),
        ("fsdp2", {"fsdp_config__fsdp_state_dict_type": "SHARDED_STATE_DICT"}, "FULL_STATE_DICT"),
        ("fsdp2", {"fsdp_config__fsdp_state_dict_type": None}, r"SHARDED_STATE_DICT \(accelerate's default"),
        ("cpu-2proc", {"distributed_type": "MULTI_CPU"}, "MULTI_CPU without mpirun_config starts ONE"),
        ("multinode", {}, "spans 2 machines; `rl-reasoner run` launches on this machine only"),
        ("ddp", {"num_processes": -1}, "sets no num_processes"),
        ("ddp", {"not_a_key": 1}, r"is not an accelerate config: .*unknown keys \(\['not_a_key'\]\)"),
    ],
)
def test_launch_files_that_cannot_work_are_refused_with_the_reason(tmp_path, base, changes, message):
    with pytest.raises(LaunchError, match=message):
        check_launch(launch(write_config(tmp_path, base, **changes)), devices=16)


def test_deepspeed_json_with_fixed_batch_sizes_is_refused(tmp_path):
    ds_json = tmp_path / "ds.json"
    ds_json.write_text('{"train_micro_batch_size_per_gpu": 4, "zero_optimization": {"stage": 2}}')
    path = write_config(tmp_path, "zero2", deepspeed_config={"deepspeed_config_file": str(ds_json)})
    with pytest.raises(LaunchError, match=r"fixes \{'train_micro_batch_size_per_gpu': 4\}; write \"auto\""):
        check_launch(launch(path), devices=8)


def test_deepspeed_not_installed_is_named(tmp_path, monkeypatch):
    hide(monkeypatch, "deepspeed")
    with pytest.raises(LaunchError, match=r"uses DeepSpeed, which is not installed here: pip install -e"):
        check_launch(launch(str(LAUNCH / "zero2.yaml")), devices=8)
    env = {"ACCELERATE_USE_DEEPSPEED": "true", "LOCAL_WORLD_SIZE": "2"}
    with pytest.raises(LaunchError, match="launched with DeepSpeed, which is not installed"):
        check_launched_env(env, devices=0)


def test_launched_environment_is_checked_inside_the_launched_process():
    zero3 = {"ACCELERATE_USE_DEEPSPEED": "true", "ACCELERATE_DEEPSPEED_ZERO_STAGE": "3"}
    if importlib.util.find_spec("deepspeed") is not None:
        with pytest.raises(LaunchError, match="ZeRO-3 without zero3_save_16bit_model"):
            check_launched_env(zero3, devices=8)
        check_launched_env({**zero3, "ACCELERATE_DEEPSPEED_ZERO3_SAVE_16BIT_MODEL": "true"}, devices=8)
    with pytest.raises(LaunchError, match="8 processes were launched on this machine; it has 4 CUDA"):
        check_launched_env({"LOCAL_WORLD_SIZE": "8"}, devices=4)
    check_launched_env({"LOCAL_WORLD_SIZE": "2"}, devices=0)  # CPU processes: gloo, no device limit


def test_grpo_batch_must_split_into_groups_over_the_processes():
    check_grpo_batch({"per_device_train_batch_size": 6, "num_generations": 4}, 2)  # 12 = 3 groups
    with pytest.raises(LaunchError, match="with 3 processes GRPO generates 18 completions.*generations=4"):
        check_grpo_batch({"per_device_train_batch_size": 6, "num_generations": 4}, 3)


def test_one_process_view_scales_per_device_batches_by_the_launched_processes():
    recipe = load_recipe(SMOKE, ["launch.config_file=launch/accelerate/cpu-2proc.yaml"])
    view = one_process_view(recipe)
    assert view["per_device_train_batch_size"] == 2 * recipe.grpo["per_device_train_batch_size"]
    assert one_process_view(load_recipe(SMOKE)) == load_recipe(SMOKE).grpo


def test_use_cpu_false_without_cuda_under_several_processes_is_refused():
    """The cause of 'train_batch_size 8 != 8 * 1 * 2': with use_cpu false and no CUDA, accelerate reports
    one process (no GPU backend) while DeepSpeed counts the launched two."""
    recipe = load_recipe(SMOKE, ["launch.config_file=launch/accelerate/cpu-2proc.yaml", "grpo.use_cpu=false"])
    with pytest.raises(LaunchError, match="grpo.use_cpu is false on a machine without CUDA.*world size 1"):
        check_scaleout(recipe, devices=0)


def hide(monkeypatch, module: str, version: str | None = None):
    """Make ``module`` look absent (or installed at ``version``) to the checks."""
    import importlib.metadata

    real_spec, real_version, present = importlib.util.find_spec, importlib.metadata.version, object()

    def find_spec(name, *args):
        return (present if version else None) if name == module else real_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    if version:
        fake = {module: version}
        monkeypatch.setattr(importlib.metadata, "version", lambda n: fake.get(n) or real_version(n))


def test_vllm_without_vllm_is_a_clear_error(monkeypatch):
    hide(monkeypatch, "vllm")
    for mode in ("colocate", "server"):
        message = f"use_vllm is true \\(vllm_mode: {mode}\\) but vllm cannot be imported here; .*0.22-0.31"
        with pytest.raises(LaunchError, match=message):
            check_vllm({"use_vllm": True, "vllm_mode": mode}, devices=1)
    assert check_vllm({"use_vllm": False}, devices=0) == []


def test_vllm_modes_are_described_and_checked(monkeypatch):
    hide(monkeypatch, "vllm", version="0.30.1")
    server = {"use_vllm": True, "vllm_mode": "server", "vllm_server_host": "10.0.0.5", "vllm_server_port": 81}
    assert check_vllm(server, devices=0) == [
        "vLLM server mode: the trainer connects to http://10.0.0.5:81 (start it first: launch/vllm/serve.sh)"
    ]
    colocate = {"use_vllm": True, "vllm_gpu_memory_utilization": 0.4, "vllm_enable_sleep_mode": True}
    assert "0.4 of each GPU's memory, sleep mode on" in check_vllm(colocate, devices=1)[0]
    with pytest.raises(LaunchError, match="colocate needs a CUDA GPU"):
        check_vllm(colocate, devices=0)
    hide(monkeypatch, "vllm", version="0.35.0")
    with pytest.raises(LaunchError, match="vllm 0.35.0 is installed; TRL 1.16 supports 0.22-0.31.x"):
        check_vllm(server, devices=0)


@pytest.mark.filterwarnings("ignore:`gradient_checkpointing` is deprecated:FutureWarning")
def test_unset_grpo_settings_are_what_trl_builds(monkeypatch):
    """What the checks report for settings the recipe leaves out is what TRL's GRPOConfig holds."""
    from trl import GRPOConfig

    hide(monkeypatch, "vllm", version="0.30.1")
    trl = GRPOConfig(output_dir=os.devnull, use_cpu=True, bf16=False)
    colocate = check_vllm({"use_vllm": True}, devices=1)[0]
    assert f"{trl.vllm_gpu_memory_utilization} of each GPU's memory" in colocate
    assert f"tensor parallel {trl.vllm_tensor_parallel_size}" in colocate
    server = check_vllm({"use_vllm": True, "vllm_mode": "server"}, devices=0)[0]
    assert f"http://{trl.vllm_server_host}:{trl.vllm_server_port} " in server
    view = one_process_view(load_recipe(SMOKE, ["launch.config_file=launch/accelerate/cpu-2proc.yaml"]))
    assert view["per_device_eval_batch_size"] == 2 * trl.per_device_eval_batch_size


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LOCAL_RANK", "WORLD_SIZE", "RANK")}
    return subprocess.run([sys.executable, "-m", "rl_reasoner", *args], capture_output=True, text=True,
                          timeout=300, env=env)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["launch.config_file=launch/no-such.yaml"], "launch.config_file launch/no-such.yaml: no such file"),
        (["grpo.use_vllm=true", "grpo.vllm_mode=server"], "(vllm_mode: server) but vllm cannot be imported"),
        (["launch.config_file=launch/accelerate/cpu-2proc.yaml", "grpo.per_device_train_batch_size=6",
          "launch.num_processes=3"], "with 3 processes GRPO generates 18 completions"),
    ],
)
def test_preflight_names_the_launch_problem(overrides, message, monkeypatch):
    from rl_reasoner.preflight import PreflightError, preflight

    hide(monkeypatch, "vllm")
    with pytest.raises(PreflightError, match=f"recipe 'tiny-arith-smoke' cannot run: .*{re.escape(message)}"):
        preflight(load_recipe(SMOKE, overrides))


def test_cli_refuses_a_launch_file_that_does_not_fit_before_touching_anything(tmp_path):
    import torch

    if torch.cuda.device_count() >= 8:
        pytest.skip("this machine has 8 GPUs: ddp.yaml fits")
    runs = tmp_path / "runs"
    out = cli("run", SMOKE, "launch.config_file=launch/accelerate/ddp.yaml", "--runs-dir", str(runs))
    assert out.returncode == 2 and "starts 8 processes, one per GPU" in out.stderr, out.stderr[-2000:]
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert not runs.exists()
    ok = cli("check", SMOKE, "launch.config_file=launch/accelerate/cpu-2proc.yaml")
    assert ok.returncode == 0, ok.stderr[-2000:]
    note = "launch: sft/grpo via accelerate launch --config_file launch/accelerate/cpu-2proc.yaml (MULTI_GPU,"
    assert note + " 2 processes, CPU)" in ok.stdout
