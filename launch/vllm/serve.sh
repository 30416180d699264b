#!/usr/bin/env bash
# TRL's vLLM generation server for GRPO with `grpo.vllm_mode: server` (the trainer connects to it, sends
# prompts and pushes its new weights after every step). Run it on GPUs the trainer does not use.
#
#   launch/vllm/serve.sh MODEL [extra `trl vllm-serve` arguments]
#
# MODEL is what GRPO starts from: the base model (model.grpo_from: base) or the SFT output
# (runs/<name>/sft). Settings come from the environment (defaults in brackets):
#   VLLM_TP    tensor-parallel size [1]           VLLM_PORT  port [8000]
#   VLLM_HOST  address to bind [0.0.0.0]          VLLM_GPU_MEMORY_UTILIZATION  fraction [0.9]
#   VLLM_MAX_MODEL_LEN  context length [model's]  CUDA_VISIBLE_DEVICES  which GPUs [all]
# The recipe's grpo.vllm_server_host / vllm_server_port must point here (`rl-reasoner check` prints them).
#
# Example, one 8-GPU node: GPU 7 serves, GPUs 0-6 train (launch.num_processes: 7):
#   CUDA_VISIBLE_DEVICES=7 launch/vllm/serve.sh runs/qwen2.5-7b-sft-grpo/sft &
#   CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6 rl-reasoner run recipes/qwen2.5-7b/sft-grpo-zero3.yaml --stages grpo
set -euo pipefail

if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 2
fi
model="$1"
shift

args=(
    --model "$model"
    --tensor-parallel-size "${VLLM_TP:-1}"
    --host "${VLLM_HOST:-0.0.0.0}"
    --port "${VLLM_PORT:-8000}"
    --gpu-memory-utilization "${VLLM_GPU_MEMORY_UTILIZATION:-0.9}"
)
if [[ -n "${VLLM_MAX_MODEL_LEN:-}" ]]; then
    args+=(--max-model-len "$VLLM_MAX_MODEL_LEN")
fi
echo "[serve.sh] trl vllm-serve ${args[*]} $*" >&2
exec trl vllm-serve "${args[@]}" "$@"
