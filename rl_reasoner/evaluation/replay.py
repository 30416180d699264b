"""``rl-reasoner eval --search bon|bon-vote --candidates-from DIR``: rank a finished sampled eval's answers.

A best-of-N search over N candidates draws them exactly as ``rl-reasoner eval --n N`` draws its answers
(same chunks, same seeds). When such an eval is already in ``DIR``, its ``samples.jsonl`` holds every
candidate (text, token ids, token count, truncation), so the search can rank those instead of generating
them again: the picks and the spent tokens are the ones a fresh search would report, at the cost of
scoring only. The replay is refused, before any model is loaded, unless ``DIR`` was sampled from the same
model, data, prompts and sampling settings with ``--n`` equal to ``--candidates``, and holds every prompt.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from rl_reasoner.errors import UsageError
from rl_reasoner.generation import Generation

REPLAYABLE = ("bon", "bon-vote")  # searches whose candidates are a plain --n eval's samples
SAME = ("model", "data", "max_new_tokens", "temperature", "top_p", "seed", "chat_template", "backend",
        "extraction", "variants", "prompts")  # fmt: skip


class ReplayError(UsageError):
    """``--candidates-from`` names a folder whose samples are not the candidates this search would draw."""


def check_source(source: Path, config: dict) -> list[dict]:
    """The records of ``source`` when they are exactly the candidates of the eval ``config`` describes."""
    from rl_reasoner.evaluation.runner import CONFIG_FILE, METRICS_FILE, SAMPLES_FILE, read_samples

    search = config.get("search") or {}
    if search.get("name") not in REPLAYABLE:
        got = f"--search {search['name']}" if search else "no --search"
        raise ReplayError(
            "--candidates-from ranks a sampled eval's answers, which only --search "
            f"{' or '.join(REPLAYABLE)} does; got {got}"
        )
    candidates = search["candidates"]
    if not (source / CONFIG_FILE).exists():
        raise ReplayError(f"--candidates-from {source} has no {CONFIG_FILE}: pass an rl-reasoner eval --out")
    old = json.loads((source / CONFIG_FILE).read_text())
    wanted = {key: config.get(key) for key in SAME} | {"n": candidates, "search": None}
    changed = [f"{k}: {old.get(k)!r} there, {v!r} here" for k, v in wanted.items() if old.get(k) != v]
    if changed:
        raise ReplayError(
            f"--candidates-from {source} was not sampled as this search draws its candidates "
            f"({'; '.join(changed)}); rerun without --candidates-from, or point it at a plain eval with "
            f"--n {candidates} and the same model, data and sampling settings"
        )
    if not (source / METRICS_FILE).exists():  # the runner writes it once every prompt is sampled
        raise ReplayError(
            f"--candidates-from {source} is unfinished (no {METRICS_FILE} yet); finish it with the same "
            "rl-reasoner eval command first"
        )
    return read_samples(source / SAMPLES_FILE)


class ReplayBackend:
    """An eval backend that answers each prompt with the saved samples of a sampled eval, in their order."""

    def __init__(self, records: Sequence[dict], tokenizer, template=None):
        self.tokenizer = tokenizer
        self.groups: dict[str, list[Generation]] = {}
        for record in records:
            prompt = template(record["prompt"]) if template else record["prompt"]
            group = [_generation(s) for s in record["samples"]]
            if self.groups.setdefault(prompt, group) != group:
                raise ReplayError(
                    f"the candidates hold the prompt {record['prompt']!r} twice with different samples "
                    "(two variants share it), so which were drawn where is ambiguous: rerun without "
                    "--candidates-from"
                )

    def prompts_per_chunk(self, n: int) -> int:
        return 64  # nothing is generated: chunks only pace the runner's saves

    def generate(self, prompts: Sequence[str], *, n: int, **_sampling) -> list[list[Generation]]:
        """The saved ``n`` samples of each prompt (the sampling settings were checked against the source)."""
        missing = [p for p in prompts if p not in self.groups]
        if missing:
            raise ReplayError(f"the replayed eval has no samples of the prompt {missing[0]!r}")
        groups = [self.groups[p] for p in prompts]
        if any(len(g) != n for g in groups):
            raise ReplayError(f"the replayed eval has {len(groups[0])} samples a prompt, the search asks {n}")
        return groups


def _generation(sample: dict) -> Generation:
    return Generation(sample["text"], sample["tokens"], sample["truncated"], tuple(sample["token_ids"]))
