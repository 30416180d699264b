"""Cold-start SFT traces sampled from a trained model (``data.teacher``) instead of the task's own traces.

R1's cold start distils a trained model: for each SFT prompt the teacher samples ``k`` completions, each
is verified against the row's answer as the GRPO accuracy reward verifies (``rewards.verify``, its
``strict`` extraction: a ``\\boxed{}`` answer; model text is never evaluated), and one is kept:

* ``shortest_correct`` – the shortest verified sample (rejection sampling with a length preference); a
  prompt with none is dropped;
* ``shortest_reliable`` – the shortest verified sample longer than every wrong sample of its prompt (the
  longest verified one when a wrong sample is the longest): a wrong sample is evidence that reasoning that
  short fails on this prompt, so a short answer that was right by luck is not kept where its length class
  also fails (with ``shortest_correct`` the student learns the short style wherever it was *ever* right);
* ``level_reliable`` – the shortest verified sample at least as long as its *level's* reliable length: the
  level's samples (all prompts, right or wrong), sorted by length, are cut into ten equal bins, and the
  reliable length is where the first bin starts whose accuracy is at most ``margin`` below the level's best
  bin (the longest verified sample when every verified one is shorter). Unlike ``shortest_reliable``, which
  judges a length from one prompt's k samples, it pools every prompt of a level, so one unlucky sample
  does not push a reliable short style out, and a style that is right only by luck at that level is not kept
  where it was right (rows without a ``level`` form one level);
* ``first`` – the first sample, right or wrong (a control: plain distillation, no verifier);
* ``shortest`` – the shortest sample, right or wrong (a control: length preference without a verifier).

A sample counts as correct only when it also ended within ``max_new_tokens`` (a truncated trace would
teach the model to stop mid-thought). Ties in length go to the earlier sample. The selected row keeps its
``id``, ``level``, ``prompt`` and ``answer``; its ``completion`` is the sample, its ``style`` the trace
style the task reads off the completion (dropped when it cannot tell), and ``teacher`` records
``{samples, correct, tokens}``: the prompt's sample count, how many verified, the kept sample's tokens.

Every sample is kept in ``data/teacher-samples.jsonl`` (its text, tokens and whether it ran out of budget,
under a header naming the teacher and its sampling settings), so another selection or a smaller ``k`` can be
tried without sampling again (``data.teacher.samples``; the verdicts are recomputed, never read back).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewards.verify import verify_batch
from rl_reasoner.errors import UsageError
from rl_reasoner.generation import generate_samples, load_policy
from rl_reasoner.reward_funcs import GRPO_EXTRACTION

SELECTIONS = ("shortest_correct", "first", "shortest", "shortest_reliable", "level_reliable")
LENGTH_BINS = 10  # level_reliable: bins of equal sample counts per level
OTHER_STYLE = "other"  # style_mix_by_level's name for completions whose style the task cannot tell

StyleOf = Callable[[dict, str], "str | None"]  # (row, completion) -> the trace style, None: cannot tell


class TeacherError(UsageError):
    """The teacher cannot give SFT traces (no SFT rows, or none of its samples is correct)."""


@dataclass(frozen=True)
class Sample:
    text: str  # the completion, special tokens removed
    tokens: int  # completion tokens, EOS excluded
    correct: bool  # verified against the row's answer and ended within the token budget
    truncated: bool = False  # ran past the token budget


SAMPLES_FILE = "teacher-samples.jsonl"
DRAW = ("model", "temperature", "max_new_tokens")  # settings that decide what a draw's samples are


def verified(rows: Sequence[dict], drawn: Sequence[Sequence[tuple[str, int, bool]]]) -> list[list[Sample]]:
    """Each row's ``(text, tokens, truncated)`` samples with their verdicts against the row's answer."""
    golds = [row["answer"] for row, samples in zip(rows, drawn, strict=True) for _ in samples]
    verdicts = iter(verify_batch(golds, [text for samples in drawn for text, _, _ in samples],
                                 mode=GRPO_EXTRACTION))
    return [[Sample(text, tokens, next(verdicts) is True and not cut, cut) for text, tokens, cut in samples]
            for samples in drawn]


def sample_teacher(model, tokenizer, rows: Sequence[dict], teacher: Any, seed: int) -> list[list[Sample]]:
    """``teacher.k`` verified samples for each row's prompt (``teacher``: the recipe's ``data.teacher``)."""
    generations = generate_samples(
        model,
        tokenizer,
        [row["prompt"] for row in rows],
        n=teacher.k,
        temperature=teacher.temperature,
        max_new_tokens=teacher.max_new_tokens,
        batch_size=teacher.batch_size,
        seed=seed,
        desc="teacher",
    )
    return verified(rows, [[(g.text, g.tokens, g.truncated) for g in samples] for samples in generations])


def save_samples(path: Path, rows: Sequence[dict], samples: Sequence[Sequence[Sample]], teacher: Any) -> None:
    """Every sample of every row: a header line with the draw's settings, then one line per row."""
    with path.open("w") as f:
        f.write(json.dumps({"teacher": {key: getattr(teacher, key) for key in (*DRAW, "k")}}) + "\n")
        for row, row_samples in zip(rows, samples, strict=True):
            drawn = [{"text": s.text, "tokens": s.tokens, "truncated": s.truncated} for s in row_samples]
            f.write(json.dumps({"id": row["id"], "prompt": row["prompt"], "samples": drawn}) + "\n")


def load_samples(rows: Sequence[dict], teacher: Any) -> list[list[Sample]]:
    """The first ``teacher.k`` samples of each row from ``teacher.samples`` (:func:`save_samples`' file),
    verified again; a file of another teacher, draw or set of prompts is a :class:`TeacherError`."""
    path = Path(teacher.samples)
    fix = "point data.teacher.samples at the teacher-samples.jsonl of a data stage run with the same teacher"
    if not path.is_file():
        raise TeacherError(f"data.teacher.samples {path} is not a file; {fix}, or remove it to sample")
    header, *lines = path.read_text().splitlines()
    drawn_with = json.loads(header).get("teacher", {})
    if differ := [k for k in DRAW if drawn_with.get(k) != getattr(teacher, k)]:
        theirs = ", ".join(f"{k}: {drawn_with.get(k)!r}" for k in differ)
        ours = ", ".join(f"{k}: {getattr(teacher, k)!r}" for k in differ)
        raise TeacherError(f"data.teacher.samples {path} was drawn with {{{theirs}}}, this recipe's "
                           f"data.teacher has {{{ours}}}; {fix} and settings, or remove it to sample")
    if teacher.k > drawn_with["k"]:
        raise TeacherError(f"data.teacher.k is {teacher.k} but data.teacher.samples {path} holds "
                           f"{drawn_with['k']} samples per prompt; set k <= {drawn_with['k']}, or remove it "
                           "to sample")
    records = [json.loads(line) for line in lines]
    if [(r["id"], r["prompt"]) for r in records] != [(row["id"], row["prompt"]) for row in rows]:
        raise TeacherError(
            f"data.teacher.samples {path} holds {len(records)} prompts that are not this run's "
            f"{len(rows)} SFT prompts (same ids, prompts and order); {fix} and data settings (seed, "
            "train_size, levels), or remove it to sample"
        )
    drawn = [[(s["text"], s["tokens"], s["truncated"]) for s in r["samples"][: teacher.k]] for r in records]
    return verified(rows, drawn)


def reliable_lengths(
    rows: Sequence[dict], samples: Sequence[Sequence[Sample]], margin: float
) -> dict[str, int]:
    """Per level, the shortest length whose samples are about as often right as the level's best: its
    samples sorted by length are cut into :data:`LENGTH_BINS` equal bins, and the first bin whose accuracy
    is at least the best bin's − ``margin`` starts there.

    >>> rows = [{"level": 1}, {"level": 1}, {"level": 3}, {"level": 3}]
    >>> short, long = [Sample("", 10, True)] * 5, [Sample("", 50, True)] * 5
    >>> luck = [Sample("", 10, i % 2 == 0) for i in range(5)]  # short samples right half of the time
    >>> reliable_lengths(rows, [short, long, luck, long], margin=0.05)
    {'1': 10, '3': 50}
    """
    pools: dict[str, dict[int, list[bool]]] = {}
    for row, row_samples in zip(rows, samples, strict=True):
        pool = pools.setdefault(str(row.get("level", "")), {})
        for s in row_samples:
            pool.setdefault(s.tokens, []).append(s.correct)
    return {level: _reliable_length(pool, margin) for level, pool in sorted(pools.items())}


def _reliable_length(verdicts: dict[int, list[bool]], margin: float) -> int:
    """``reliable_lengths`` of one level: ``verdicts`` maps a length to its samples' verdicts; a bin holds
    whole lengths (samples of one length are never split) and closes once it has a tenth of the samples."""
    size = sum(map(len, verdicts.values())) / LENGTH_BINS
    bins: list[tuple[int, list[bool]]] = []  # (shortest length, verdicts)
    for tokens in sorted(verdicts):
        if not bins or len(bins[-1][1]) >= size:
            bins.append((tokens, []))
        bins[-1][1].extend(verdicts[tokens])
    accuracy = [sum(b) / len(b) for _, b in bins]
    return next(start for (start, _), a in zip(bins, accuracy, strict=True) if a >= max(accuracy) - margin)


def select(samples: Sequence[Sample], how: str, floor: int = 0) -> Sample | None:
    """The sample ``how`` (one of :data:`SELECTIONS`) keeps; None when no sample is correct and ``how``
    needs one (all but ``first`` and ``shortest``). ``floor``: ``level_reliable``'s reliable length.

    >>> samples = [Sample("a wrong one", 3, False), Sample("right", 5, True), Sample("right too", 4, True)]
    >>> [select(samples, how, floor=5).tokens for how in SELECTIONS]
    [4, 3, 3, 4, 5]
    >>> select(samples + [Sample("a long wrong one", 9, False), Sample("long and right", 8, True)],
    ...        "shortest_reliable").tokens
    8
    """
    if how not in SELECTIONS:
        raise ValueError(f"unknown teacher selection {how!r}; expected one of {SELECTIONS}")
    if how == "first":
        return samples[0]
    right = [s for s in samples if s.correct]
    if how in ("shortest_reliable", "level_reliable"):
        if how == "shortest_reliable":  # longer than every wrong sample of this prompt
            floor = max((s.tokens for s in samples if not s.correct), default=-1) + 1
        longer = [s for s in right if s.tokens >= floor]
        if not longer:  # every right one is shorter: the longest right one
            return max(right, key=lambda s: s.tokens, default=None)
        right = longer
    pool = right if how != "shortest" else samples
    return min(pool, key=lambda s: s.tokens, default=None)  # min keeps the first of equally short ones


def teacher_rows(
    rows: Sequence[dict],
    samples: Sequence[Sequence[Sample]],
    how: str,
    style_of: StyleOf,
    margin: float = 0.05,
) -> list[dict]:
    """The SFT rows with their completions replaced by the selected samples; rows without one are left out.
    ``margin``: ``level_reliable``'s (see :func:`reliable_lengths`)."""
    floors = reliable_lengths(rows, samples, margin) if how == "level_reliable" else {}
    out = []
    for row, row_samples in zip(rows, samples, strict=True):
        chosen = select(row_samples, how, floors.get(str(row.get("level", "")), 0))
        if chosen is None:
            continue
        kept = {k: v for k, v in row.items() if k not in ("completion", "style")}
        kept["completion"] = chosen.text
        style = style_of(row, chosen.text)
        if style is not None:
            kept["style"] = style
        kept["teacher"] = {"samples": len(row_samples), "correct": sum(s.correct for s in row_samples),
                           "tokens": chosen.tokens}
        out.append(kept)
    return out


def style_mix_by_level(rows: Sequence[dict]) -> dict[str, dict[str, float]]:
    """Per level, the share of each trace style among ``rows`` (``other``: rows without a ``style``)."""
    by_level: dict[str, Counter] = {}
    for row in rows:
        by_level.setdefault(str(row["level"]), Counter())[row.get("style", OTHER_STYLE)] += 1
    return {level: {style: round(n / sum(counts.values()), 4) for style, n in sorted(counts.items())}
            for level, counts in sorted(by_level.items())}


def distil_sft_rows(
    rows: Sequence[dict], teacher: Any, seed: int, style_of: StyleOf, out: Path
) -> tuple[list[dict], dict]:
    """The SFT rows as the teacher ``teacher.model`` writes them, and the summary the data stage records
    (``selected``, ``dropped``, ``accuracy`` over all samples, ``style_mix_by_level``); every sample is
    saved in ``out`` (:data:`SAMPLES_FILE`), or read from ``teacher.samples`` when it is set."""
    from rl_reasoner.model_ref import resolve_model

    if not rows:
        raise TeacherError("data.teacher.model is set but the task gave no SFT rows to write traces for "
                           "(a hub dataset needs data.hub.completion_column); remove data.teacher")
    if teacher.samples is not None:
        samples = load_samples(rows, teacher)
    else:
        model, tokenizer = load_policy(resolve_model(teacher.model).path)
        samples = sample_teacher(model, tokenizer, rows, teacher, seed)
    out.mkdir(parents=True, exist_ok=True)
    save_samples(out / SAMPLES_FILE, rows, samples, teacher)
    correct = sum(s.correct for row_samples in samples for s in row_samples)
    accuracy = correct / (len(rows) * teacher.k)
    if correct == 0:
        raise TeacherError(
            f"data.teacher.model {teacher.model!r} answered none of the {len(rows)} SFT prompts correctly "
            f"(accuracy {accuracy:.0%} over {len(rows) * teacher.k} samples at temperature "
            f"{teacher.temperature}, {teacher.max_new_tokens} new tokens): it cannot teach this task; use a "
            "model trained on it, or raise data.teacher.k or data.teacher.max_new_tokens"
        )
    selected = teacher_rows(rows, samples, teacher.select, style_of, teacher.margin)
    dropped = len(rows) - len(selected)
    summary = {"selected": len(selected), "dropped": dropped, "accuracy": round(accuracy, 4)}
    if teacher.select == "level_reliable":
        summary["reliable_tokens"] = reliable_lengths(rows, samples, teacher.margin)
    return selected, summary | {"style_mix_by_level": style_mix_by_level(selected)}
