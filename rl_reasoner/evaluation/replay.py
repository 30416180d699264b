"""``rl-reasoner eval --search bon|bon-vote --candidates-from DIR``: rank a finished sampled eval's answers.

A best-of-N search over N candidates draws them exactly as ``rl-reasoner eval --n N`` draws its answers
(same chunks, same seeds). When such an eval is already in ``DIR``, its ``samples.jsonl`` holds every
candidate (text, token ids, token count, truncation), so the search can rank those instead of generating
them again: the picks and the spent tokens are the ones a fresh search would report, at the cost of
scoring only. The replay is refused, before any model is loaded and before ``--out`` is touched, unless
``DIR`` was sampled from the same model, prompts (the eval's digest of ids, prompts and answers), sampling
settings and batch size (the chunks, hence the seeds) with ``--n`` equal to ``--candidates``, holds every
prompt with that many samples, and is an eval of the original prompts only (no ``--perturb``, no forced
openings: candidates are looked up by prompt). A prompt the data holds twice (two rows, one text) was sampled
twice: each of its rows gets its own row's samples, in row order, as a fresh search would draw them.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from pathlib import Path

from rl_reasoner.errors import UsageError
from rl_reasoner.evaluation.layout import CONFIG_FILE, METRICS_FILE, ORIGINAL, SAMPLES_FILE
from rl_reasoner.generation import Generation

REPLAYABLE = ("bon", "bon-vote")  # searches whose candidates are a plain --n eval's samples
SAME = ("model", "max_new_tokens", "temperature", "top_p", "seed", "chat_template", "batch_size", "backend",
        "extraction", "variants", "prompts")  # fmt: skip


class ReplayError(UsageError):
    """``--candidates-from`` names a folder whose samples are not the candidates this search would draw."""


def check_source(source: Path, config: dict, rows: Sequence[dict]) -> list[dict]:
    """The records of ``source`` when they are exactly the candidates of the eval ``config`` describes on
    ``rows`` (the original variant's rows)."""
    search = config.get("search") or {}
    if search.get("name") not in REPLAYABLE:
        got = f"--search {search['name']}" if search else "no --search"
        raise ReplayError(
            "--candidates-from ranks a sampled eval's answers, which only --search "
            f"{' or '.join(REPLAYABLE)} does; got {got}"
        )
    if config["variants"] != [ORIGINAL]:
        raise ReplayError(
            f"--candidates-from replays an eval of the original prompts only; this one also has "
            f"{config['variants'][1:]} (drop --perturb)"
        )
    if not (source / CONFIG_FILE).exists():
        raise ReplayError(f"--candidates-from {source} has no {CONFIG_FILE}: pass an rl-reasoner eval --out")
    _same_draw(source, json.loads((source / CONFIG_FILE).read_text()), config, search["candidates"])
    if not (source / METRICS_FILE).exists():  # the runner writes it once every prompt is sampled
        raise ReplayError(
            f"--candidates-from {source} is unfinished (no {METRICS_FILE} yet); finish it with the same "
            "rl-reasoner eval command first"
        )
    records = _complete_lines(source / SAMPLES_FILE)
    _cover(source, records, rows, search["candidates"])
    return records


def _same_draw(source: Path, old: dict, config: dict, candidates: int) -> None:
    wanted = {key: config.get(key) for key in SAME} | {"n": candidates, "search": None}
    changed = [f"{k}: {old.get(k)!r} there, {v!r} here" for k, v in wanted.items() if old.get(k) != v]
    if changed:
        raise ReplayError(
            f"--candidates-from {source} was not sampled as this search draws its candidates "
            f"({'; '.join(changed)}); rerun without --candidates-from, or point it at a plain eval with "
            f"--n {candidates} and the same model, data, sampling settings and --batch-size"
        )


def _complete_lines(path: Path) -> list[dict]:
    """The finished lines of another eval's ``samples.jsonl``, read without touching the file."""
    text = path.read_text() if path.exists() else ""
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines() if line.strip()]


def _cover(source: Path, records: Sequence[dict], rows: Sequence[dict], n: int) -> None:
    """Every row, by id and with its prompt, with ``n`` samples."""
    by_id = {r["id"]: r for r in records}
    short = [row["id"] for row in rows if len(by_id.get(row["id"], {}).get("samples", ())) != n
             or by_id[row["id"]]["prompt"] != row["prompt"]]  # fmt: skip
    if short:
        raise ReplayError(
            f"--candidates-from {source} holds {len(short)} prompts without {n} samples (first: "
            f"{short[0]!r}), so it is not the finished eval its config describes; rerun that eval into a new "
            "folder"
        )


class ReplayBackend:
    """An eval backend that answers each prompt with the saved samples of a sampled eval, in their order;
    chunked as the hf backend chunks ``--batch-size`` sequences (the verifier scores the same batches).

    ``records``: one per row still to answer, in row order; a text asked for again gets its next row's."""

    def __init__(
        self,
        records: Sequence[dict],
        tokenizer,
        batch_size: int,
        template: Callable[[str], str] | None = None,
    ) -> None:
        self.tokenizer, self.batch_size = tokenizer, batch_size
        self.groups: dict[str, deque[list[Generation]]] = defaultdict(deque)
        for r in records:
            key = template(r["prompt"]) if template else r["prompt"]
            self.groups[key].append([_generation(s) for s in r["samples"]])

    def prompts_per_chunk(self, n: int) -> int:
        return max(1, self.batch_size // n)

    def generate(self, prompts: Sequence[str], *, n: int, **_sampling) -> list[list[Generation]]:
        """The saved ``n`` samples of each prompt (the sampling settings were checked against the source)."""
        missing = [p for p in prompts if not self.groups.get(p)]
        if missing:
            raise ReplayError(f"the replayed eval has no samples of the prompt {missing[0]!r}")
        return [self.groups[p].popleft() for p in prompts]


def _generation(sample: dict) -> Generation:
    return Generation(sample["text"], sample["tokens"], sample["truncated"], tuple(sample["token_ids"]))
