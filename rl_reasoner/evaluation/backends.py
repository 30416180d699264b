"""Generation backends for ``rl-reasoner eval``: HF ``generate`` (default) and vLLM.

Both return, per prompt, ``n`` :class:`~rl_reasoner.generation.Generation` records (text, token ids
without EOS, truncation flag), so scoring, metrics and ``samples.jsonl`` do not depend on the backend.
The HF backend also writes one line at a time after token prefixes (``generate_lines``), the step of
``--search prm-beam``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from rl_reasoner.errors import UsageError
from rl_reasoner.generation import Generation, Step

VLLM_PROMPTS_PER_CHUNK = 256  # vLLM batches internally; chunks only bound what a crash can lose


class BackendError(UsageError):
    """The requested backend cannot run here (e.g. vLLM not installed)."""


class EvalBackend(Protocol):
    """What the eval runner needs from a generation engine (the model is loaded on its device)."""

    tokenizer: object  # a transformers tokenizer: chat templates and forced-prefix token counts

    def prompts_per_chunk(self, n: int) -> int:
        """Prompts per ``generate`` call (the runner saves samples after each call)."""
        ...

    def generate(
        self,
        prompts: Sequence[str],
        *,
        n: int,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
    ) -> list[list[Generation]]:
        """``n`` completions per prompt: greedy at temperature 0, else sampled."""
        ...


def check_backend(name: str) -> None:
    """Fails before anything is loaded when ``name`` cannot run on this machine."""
    if name not in BACKENDS:
        raise BackendError(f"unknown eval backend {name!r}; valid backends: {list(BACKENDS)}")
    if name == "vllm":
        try:
            import vllm  # noqa: F401
        except ImportError:
            raise BackendError(
                "the vllm eval backend needs vLLM, which is not installed here; install it on a GPU machine "
                "with pip install -e '.[vllm]', or use the default backend hf"
            ) from None


def load_backend(name: str, model_path: str, *, batch_size: int) -> EvalBackend:
    """The backend ``name`` with ``model_path`` loaded on its device (the GPU when there is one)."""
    check_backend(name)
    return BACKENDS[name](model_path, batch_size=batch_size)


class HFBackend:
    """Batched HF ``generate`` on :func:`~rl_reasoner.generation.default_device`; ``batch_size`` counts
    sequences."""

    def __init__(self, model_path: str, *, batch_size: int):
        from rl_reasoner.generation import load_policy

        self.model, self.tokenizer = load_policy(model_path)
        self.batch_size = batch_size
        self.newline_ids: list[int] | None = None  # tokens that end a step (None: those holding a "\n")

    def prompts_per_chunk(self, n: int) -> int:
        return max(1, self.batch_size // n)

    def generate(
        self,
        prompts: Sequence[str],
        *,
        n: int,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
    ) -> list[list[Generation]]:
        from rl_reasoner.generation import generate_samples

        return generate_samples(
            self.model,
            self.tokenizer,
            prompts,
            n=n,
            max_new_tokens=max_new_tokens,
            batch_size=self.batch_size,
            temperature=temperature,
            top_p=top_p,
            seed=seed,
            progress=False,
        )

    def generate_lines(
        self, prefixes: Sequence[Sequence[int]], budgets: Sequence[int], *, temperature: float, top_p: float
    ) -> list[Step]:
        """One more line after each token-id prefix, at most ``budgets[i]`` tokens (``--search prm-beam``)."""
        from rl_reasoner.generation import generate_lines, newline_token_ids

        if self.newline_ids is None:
            self.newline_ids = newline_token_ids(self.tokenizer)  # read off the vocabulary once
        return generate_lines(
            self.model,
            self.tokenizer,
            prefixes,
            budgets,
            newline_ids=self.newline_ids,
            batch_size=self.batch_size,
            temperature=temperature,
            top_p=top_p,
        )


    def generate_rest(
        self, prefixes: Sequence[Sequence[int]], budgets: Sequence[int], *, temperature: float, top_p: float
    ) -> list[Step]:
        """The rest of each token-id prefix, to EOS or ``budgets[i]`` tokens (``--search mcts|rstar``)."""
        from rl_reasoner.generation import generate_lines

        return generate_lines(
            self.model,
            self.tokenizer,
            prefixes,
            budgets,
            newline_ids=(),  # no line end: each row runs to EOS or its budget
            batch_size=self.batch_size,
            temperature=temperature,
            top_p=top_p,
        )


class VLLMBackend:
    """vLLM offline generation. UNTESTED in this repository's CI (CPU only, vLLM not installed); it
    follows vLLM's documented ``LLM.generate`` / ``SamplingParams`` API and the same output format."""

    def __init__(self, model_path: str, *, batch_size: int = 0):  # batch_size: vLLM schedules its own
        from vllm import LLM

        self.llm = LLM(model=model_path)
        self.tokenizer = self.llm.get_tokenizer()
        self.stop_ids = {self.tokenizer.eos_token_id} | _generation_config_eos(model_path)

    def prompts_per_chunk(self, n: int) -> int:
        return VLLM_PROMPTS_PER_CHUNK

    def generate(
        self,
        prompts: Sequence[str],
        *,
        n: int,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
    ) -> list[list[Generation]]:
        from vllm import SamplingParams

        params = SamplingParams(
            n=n, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens, seed=seed
        )
        outputs = self.llm.generate(list(prompts), params, use_tqdm=False)
        results = []
        for request in outputs:
            group = []
            for out in request.outputs:
                ids = list(out.token_ids)
                truncated = out.finish_reason == "length"
                if not truncated and ids and ids[-1] in self.stop_ids:
                    ids = ids[:-1]  # vLLM keeps the stop token in token_ids; HF records exclude EOS
                text = self.tokenizer.decode(ids, skip_special_tokens=True)
                group.append(Generation(text=text, tokens=len(ids), truncated=truncated, ids=tuple(ids)))
            results.append(group)
        return results


def _generation_config_eos(model_path: str) -> set[int]:
    """EOS ids from the model's generation config (chat models often stop on several ids)."""
    from transformers import GenerationConfig

    try:
        eos = GenerationConfig.from_pretrained(model_path).eos_token_id
    except OSError:
        return set()
    return set(eos) if isinstance(eos, list) else ({eos} if isinstance(eos, int) else set())


# Backend name (``rl-reasoner eval --backend``, recipe ``eval.backend``) -> class.
BACKENDS: dict[str, Callable[..., EvalBackend]] = {"hf": HFBackend, "vllm": VLLMBackend}
