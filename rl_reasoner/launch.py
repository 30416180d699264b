"""Scale-out checks and the ``accelerate launch`` command for the sft/grpo stages.

Everything here runs before a model is loaded: a launch file that accelerate 1.15 would not parse or that
does not fit this machine (more processes than GPUs, ZeRO-3 that would save only shards, DeepSpeed not
installed, batch sizes written into the DeepSpeed config), a GRPO batch that does not split into prompt
groups over the processes, and vLLM settings (``grpo.use_vllm``) without an importable vLLM.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rl_reasoner.errors import UsageError
from rl_reasoner.trainer_config import grpo_settings

# Trainer settings the HF trainer writes into the DeepSpeed config ("auto"); set them in the recipe only.
DS_TRAINER_KEYS = ("train_batch_size", "train_micro_batch_size_per_gpu", "gradient_accumulation_steps")
VLLM_VERSIONS = ("0.22", "0.31")  # what TRL 1.16 supports (trl/import_utils.py)
CPU_EXAMPLE = "launch/accelerate/cpu-2proc.yaml"


class LaunchError(UsageError):
    """A launch file or a vLLM setting cannot work on this machine; the message says what to change."""


@dataclass(frozen=True)
class LaunchPlan:
    config_file: str
    """The accelerate config file, as given in the recipe."""
    num_processes: int
    """Processes over all machines (the recipe's ``launch.num_processes`` or the file's)."""
    distributed_type: str
    """accelerate's distributed type (MULTI_GPU, DEEPSPEED, FSDP, ...)."""
    use_cpu: bool
    """The file runs on CPUs (gloo)."""
    zero_stage: int | None = None
    """DeepSpeed ZeRO stage, None without DeepSpeed."""


def cuda_devices() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def check_launch(section: Any, devices: int | None = None) -> LaunchPlan:
    """Parse the recipe's ``launch`` section's config file with accelerate's own parser and check it
    against this machine (``devices``: CUDA devices, counted when None)."""
    path = section.config_file
    config = _load_launch_file(path)
    kind = getattr(config.distributed_type, "value", str(config.distributed_type))
    n = _process_count(path, section, config)
    _check_one_machine(path, config)
    _check_processes_fit(path, config, kind, n, cuda_devices() if devices is None else devices)
    zero_stage = _check_deepspeed(path, config.deepspeed_config) if kind == "DEEPSPEED" else None
    if kind == "FSDP":
        _check_fsdp(path, config.fsdp_config)
    return LaunchPlan(path, n, kind, bool(config.use_cpu), zero_stage)


def _load_launch_file(path: str) -> Any:
    """accelerate's ``ClusterConfig`` for ``path``, parsed as ``accelerate launch`` parses it."""
    from accelerate.commands.config.config_args import load_config_from_file

    if not Path(path).is_file():
        raise LaunchError(
            f"launch.config_file {path}: no such file (relative paths start at the current directory; "
            "the shipped files are launch/accelerate/*.yaml)"
        )
    try:
        return load_config_from_file(path)
    except Exception as exc:  # accelerate raises ValueError/TypeError/KeyError for bad keys and values
        raise LaunchError(f"launch.config_file {path} is not an accelerate config: {exc}") from None


def _process_count(path: str, section: Any, config: Any) -> int:
    """The recipe's ``launch.num_processes``, else the file's."""
    n = section.num_processes or getattr(config, "num_processes", -1)
    if n is None or n < 1:
        raise LaunchError(f"launch file {path} sets no num_processes; set launch.num_processes in the recipe")
    return n


def _check_one_machine(path: str, config: Any) -> None:
    machines = getattr(config, "num_machines", 1) or 1
    if machines > 1:
        raise LaunchError(
            f"launch file {path} spans {machines} machines; `rl-reasoner run` launches on this machine "
            "only. Run the data stage once, then `accelerate launch --config_file … --machine_rank R … -m "
            "rl_reasoner sft|grpo --recipe RECIPE --run-dir DIR` on every node (launch/slurm/train.sbatch)"
        )


def _check_processes_fit(path: str, config: Any, kind: str, n: int, devices: int) -> None:
    """``n`` processes really start: several CPU processes need torchrun, GPU processes one GPU each."""
    if kind == "MULTI_CPU" and n > 1 and not config.mpirun_config:
        raise LaunchError(
            f"launch file {path}: distributed_type MULTI_CPU without mpirun_config starts ONE process in "
            f"accelerate 1.15, not {n}; for several CPU processes use distributed_type MULTI_GPU with "
            f"use_cpu: true (torchrun + gloo), as {CPU_EXAMPLE} does"
        )
    if config.use_cpu or kind == "NO":
        return
    have = devices
    if config.gpu_ids not in (None, "all"):
        have = min(have, len(str(config.gpu_ids).split(",")))
    if n > have:
        fix = f"set launch.num_processes: {have}" if have else f"on a CPU-only machine use {CPU_EXAMPLE}"
        raise LaunchError(
            f"launch file {path} ({kind}) starts {n} processes, one per GPU, but this machine has {have} "
            f"usable CUDA device(s); {fix}"
        )


def _check_deepspeed(path: str, ds: Mapping[str, Any]) -> int | None:
    """DeepSpeed installed and a ZeRO-3 that saves whole 16-bit weights; returns the ZeRO stage."""
    zero_stage, saves_16bit = _deepspeed_settings(path, ds)
    if zero_stage == 3 and not saves_16bit:
        raise LaunchError(
            f"launch file {path} uses ZeRO-3 without zero3_save_16bit_model: true (in a DeepSpeed JSON: "
            "stage3_gather_16bit_weights_on_model_save): the trainer would save only DeepSpeed shards, "
            "which the next stage and eval cannot load; add it to deepspeed_config"
        )
    if importlib.util.find_spec("deepspeed") is None:
        raise LaunchError(
            f"launch file {path} uses DeepSpeed, which is not installed here: pip install -e "
            "'.[deepspeed]' (or use launch/accelerate/ddp.yaml or fsdp2.yaml)"
        )
    return zero_stage


def _deepspeed_settings(path: str, ds: Mapping[str, Any]) -> tuple[int | None, bool]:
    """``(zero stage, saves 16-bit weights)`` from the accelerate keys or the DeepSpeed JSON they name."""
    where = f"launch file {path}"
    for key in ("gradient_accumulation_steps", "gradient_clipping"):
        if ds.get(key, "auto") != "auto":
            raise LaunchError(
                f"{where} sets deepspeed_config.{key}: {ds[key]!r}; leave it out: the HF trainer fills it "
                "from the recipe's sft/grpo settings (gradient_accumulation_steps, max_grad_norm), and two "
                "values for one setting are what DeepSpeed refuses at start-up"
            )
    if not ds.get("deepspeed_config_file"):
        return ds.get("zero_stage"), bool(ds.get("zero3_save_16bit_model", False))
    json_path = Path(ds["deepspeed_config_file"])
    try:
        config = json.loads(json_path.read_text())
    except (OSError, ValueError) as exc:
        raise LaunchError(f"{where}: deepspeed_config_file {json_path} cannot be read: {exc}") from None
    fixed = {k: config[k] for k in DS_TRAINER_KEYS if config.get(k, "auto") != "auto"}
    if fixed:
        raise LaunchError(
            f"{where}: {json_path} fixes {fixed}; write \"auto\" there (the HF trainer fills them from the "
            "recipe's per_device_train_batch_size and gradient_accumulation_steps times the process count)"
        )
    zero = config.get("zero_optimization", {})
    return zero.get("stage"), bool(zero.get("stage3_gather_16bit_weights_on_model_save", False))


def _check_fsdp(path: str, fsdp: Mapping[str, Any]) -> None:
    """FSDP saves full state dicts (a normal HF folder). Without ``fsdp_state_dict_type`` the type is
    accelerate's default for the file's ``fsdp_version``, which is sharded for FSDP2."""
    state_dict, unset = fsdp.get("fsdp_state_dict_type"), ""
    if not state_dict:
        from accelerate.utils import FullyShardedDataParallelPlugin

        version = {"fsdp_version": int(fsdp["fsdp_version"])} if fsdp.get("fsdp_version") else {}
        state_dict = FullyShardedDataParallelPlugin(**version).state_dict_type.name
        unset = " (accelerate's default without fsdp_state_dict_type)"
    if str(state_dict) != "FULL_STATE_DICT":
        raise LaunchError(
            f"launch file {path} saves FSDP models as {state_dict}{unset}; set fsdp_state_dict_type: "
            "FULL_STATE_DICT so the saved model is a normal HF folder the next stage can load"
        )


def check_grpo_batch(grpo_args: Mapping[str, Any], num_processes: int) -> None:
    """TRL's generation batch over ``num_processes`` must hold whole prompt groups (checked here because
    the GRPOConfig built before launching sees one process)."""
    get = grpo_settings(grpo_args).get
    global_batch = get("per_device_train_batch_size") * num_processes
    steps = get("steps_per_generation") or get("gradient_accumulation_steps")
    generation = get("generation_batch_size") or global_batch * steps
    if generation % global_batch == 0 and generation % get("num_generations") == 0:
        return
    raise LaunchError(
        f"with {num_processes} processes GRPO generates {generation} completions per generation step "
        f"({get('per_device_train_batch_size')} per device x {num_processes} processes x {steps} steps), "
        f"which is not a multiple of num_generations={get('num_generations')} (and of the global batch "
        f"{global_batch}); change grpo.per_device_train_batch_size or launch.num_processes"
    )


def one_process_view(recipe: Any) -> dict[str, Any]:
    """``recipe.grpo`` as one process must see it to make the GRPOConfig the launched processes will: per
    device batch sizes times the process count (same global batches, so TRL's own batch checks hold)."""
    if not recipe.launch.config_file or "LOCAL_RANK" in os.environ:
        return dict(recipe.grpo)
    from accelerate.commands.config.config_args import load_config_from_file

    n = recipe.launch.num_processes or load_config_from_file(recipe.launch.config_file).num_processes
    settings = grpo_settings(recipe.grpo)
    view = dict(recipe.grpo)
    for key in ("per_device_train_batch_size", "per_device_eval_batch_size"):
        view[key] = settings[key] * n
    return view


def check_vllm(grpo_args: Mapping[str, Any], devices: int | None = None) -> list[str]:
    """With ``grpo.use_vllm``: vLLM importable (and a version TRL supports) and a GPU for colocate mode.
    Returns lines that describe the set-up (``rl-reasoner check`` prints them)."""
    get = grpo_settings(grpo_args).get
    if not get("use_vllm"):
        return []
    _check_vllm_installed(get("vllm_mode"))
    if get("vllm_mode") == "server":
        url = get("vllm_server_base_url") or f"http://{get('vllm_server_host')}:{get('vllm_server_port')}"
        return [f"vLLM server mode: the trainer connects to {url} (start it first: launch/vllm/serve.sh)"]
    if (cuda_devices() if devices is None else devices) == 0:
        raise LaunchError("grpo.use_vllm with vllm_mode: colocate needs a CUDA GPU; this machine has none")
    return [
        f"vLLM colocate mode: {get('vllm_gpu_memory_utilization')} of each GPU's memory, "
        f"sleep mode {'on' if get('vllm_enable_sleep_mode') else 'off'}, tensor parallel "
        f"{get('vllm_tensor_parallel_size')}"
    ]


def _check_vllm_installed(mode: str) -> None:
    if importlib.util.find_spec("vllm") is None:
        raise LaunchError(
            f"grpo.use_vllm is true (vllm_mode: {mode}) but vllm cannot be imported here; install it on "
            f"the GPU machine with pip install -e '.[vllm]' (vLLM {VLLM_VERSIONS[0]}-{VLLM_VERSIONS[1]}, "
            "the range TRL 1.16 supports) or set grpo.use_vllm: false"
        )
    from packaging.version import Version

    version = importlib.metadata.version("vllm")
    low, high = (Version(v) for v in VLLM_VERSIONS)
    if not low <= Version(".".join(Version(version).base_version.split(".")[:2])) <= high:
        supported = f"{VLLM_VERSIONS[0]}-{VLLM_VERSIONS[1]}.x"
        raise LaunchError(f"vllm {version} is installed; TRL 1.16 supports {supported}")


def check_scaleout(recipe: Any, devices: int | None = None) -> list[str]:
    """All of the above for a recipe; returns description lines, raises LaunchError. Inside a launched
    process (LOCAL_RANK set) the launch file was checked before launching; the environment is checked."""
    notes = check_vllm(recipe.grpo, devices)
    devices = cuda_devices() if devices is None else devices
    if "LOCAL_RANK" in os.environ:
        check_launched_env(devices=devices)
        check_cpu_flags(recipe, int(os.environ.get("WORLD_SIZE", "1")), devices)
    elif recipe.launch.config_file:
        plan = check_launch(recipe.launch, devices)
        check_cpu_flags(recipe, plan.num_processes, devices)
        check_grpo_batch(recipe.grpo, plan.num_processes)
        _check_vllm_tensor_parallel(recipe.grpo, plan.num_processes)
        zero = f", ZeRO-{plan.zero_stage}" if plan.zero_stage else ""
        cpu = ", CPU" if plan.use_cpu else ""
        notes.append(
            f"launch: sft/grpo via accelerate launch --config_file {plan.config_file} "
            f"({plan.distributed_type}{zero}, {plan.num_processes} processes{cpu})"
        )
    return notes


def _check_vllm_tensor_parallel(grpo_args: Mapping[str, Any], processes: int) -> None:
    """Colocated vLLM splits the launched processes into tensor-parallel groups."""
    get = grpo_settings(grpo_args).get
    tp = get("vllm_tensor_parallel_size")
    if get("use_vllm") and get("vllm_mode") == "colocate" and processes % tp:
        raise LaunchError(f"grpo.vllm_tensor_parallel_size {tp} must divide the {processes} processes")


def check_cpu_flags(recipe: Any, processes: int, devices: int) -> None:
    """Without CUDA, several processes need ``use_cpu`` in the trainer args (the stages set it unless the
    recipe says otherwise): with ``use_cpu: false`` accelerate finds no GPU backend, reports ONE process
    while the launcher started several, and DeepSpeed then fails with "train_batch_size … != … * 1 * N"."""
    if devices or processes < 2:
        return
    for section in ("sft", "grpo"):
        if getattr(recipe, section).get("use_cpu") is False:
            raise LaunchError(
                f"{section}.use_cpu is false on a machine without CUDA while {processes} processes are "
                "launched: accelerate would see one process (world size 1) and DeepSpeed/DDP would disagree "
                f"with it; remove {section}.use_cpu (the stages set it on CPU-only machines)"
            )


def check_launched_env(env: Mapping[str, str] = os.environ, devices: int | None = None) -> None:
    """Inside ``accelerate launch``: the settings it passed in the environment fit this process."""
    if env.get("ACCELERATE_USE_DEEPSPEED", "false").lower() == "true":
        if importlib.util.find_spec("deepspeed") is None:
            raise LaunchError("launched with DeepSpeed, which is not installed: pip install '.[deepspeed]'")
        if env.get("ACCELERATE_DEEPSPEED_ZERO_STAGE") == "3" and env.get(
            "ACCELERATE_DEEPSPEED_ZERO3_SAVE_16BIT_MODEL", "false"
        ).lower() != "true":
            raise LaunchError(
                "launched with ZeRO-3 without zero3_save_16bit_model: true; the saved model would be "
                "DeepSpeed shards that the next stage cannot load (add it to the launch file's "
                "deepspeed_config)"
            )
    local = int(env.get("LOCAL_WORLD_SIZE", "1"))
    devices = cuda_devices() if devices is None else devices
    if devices and local > devices:
        raise LaunchError(f"{local} processes were launched on this machine; it has {devices} CUDA device(s)")


def launch_command(plan: LaunchPlan, stage: str, recipe_file: Path, run_dir: Path, force: bool) -> list[str]:
    """``python -m accelerate.commands.launch … -m rl_reasoner <stage> --recipe … --run-dir …``."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", plan.config_file]
    cmd += ["--num_processes", str(plan.num_processes), "-m", "rl_reasoner", stage]
    cmd += ["--recipe", str(recipe_file), "--run-dir", str(run_dir)]
    return cmd + (["--force"] if force else [])
