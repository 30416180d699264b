"""What ``rl-reasoner influence RUN`` reads, checked before any model loads: the run's SFT model folder, its
SFT rows (the training documents, all or a stratified subset) and the query prompts (held-out eval rows of
the asked kinds), and whether the ``influence`` extra (kronfluence) is importable.

A query kind is what a row asks: its operation (``add``, ``sub``) or ``fact`` (a lookup in the factual
table: ``data.facts.keys`` writes one query per key to ``data/eval_facts.jsonl``). A spec ``KIND`` or
``KIND:N`` takes N eval prompts of that kind (default :data:`DEFAULT_PER_KIND`), drawn by the seed evenly
over the levels.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rl_reasoner.errors import UsageError

QUERY_KINDS = ("add", "sub", "fact")
DEFAULT_PER_KIND = 2
DOCUMENTS = "data/sft.jsonl"  # inside a run directory
QUERY_ROWS = "data/eval.jsonl"
FACT_QUERY_ROWS = "data/eval_facts.jsonl"  # written when the recipe sets data.facts.keys
INSTALL = 'pip install -e ".[influence]" torch==2.13.0 && pip uninstall -y torchvision'


class InfluenceError(UsageError):
    """``rl-reasoner influence`` cannot run as asked (no SFT model, unknown query kind, too many docs…)."""


@dataclass(frozen=True)
class QuerySpec:
    kind: str
    count: int


def row_kind(row: dict) -> str:
    """A row's query kind: its ``kind`` field, else its operation (``add`` when it names none).

    >>> row_kind({"prompt": "1+2=?\\n"}), row_kind({"op": "sub"}), row_kind({"kind": "fact", "op": "add"})
    ('add', 'sub', 'fact')
    """
    return row.get("kind") or row.get("op") or "add"


def parse_queries(specs: Sequence[str]) -> list[QuerySpec]:
    """``KIND`` or ``KIND:N`` specs, each kind once; an unknown kind or a bad count is an error.

    >>> parse_queries(["add:3", "sub"])
    [QuerySpec(kind='add', count=3), QuerySpec(kind='sub', count=2)]
    """
    parsed: dict[str, QuerySpec] = {}
    for spec in specs:
        kind, _, count = spec.partition(":")
        if kind not in QUERY_KINDS:
            raise InfluenceError(
                f"unknown query kind {kind!r} in --queries {spec!r}: a query is KIND or KIND:N with KIND "
                f"one of {list(QUERY_KINDS)} (eval prompts of that operation, or factual lookups), e.g. add:4"
            )
        if count and (not count.isdigit() or int(count) < 1):
            raise InfluenceError(f"--queries {spec!r}: N must be a whole number >= 1 (KIND:N, e.g. {kind}:4)")
        if kind in parsed:
            raise InfluenceError(f"--queries names {kind!r} twice; give each kind once (KIND:N)")
        parsed[kind] = QuerySpec(kind, int(count) if count else DEFAULT_PER_KIND)
    return list(parsed.values())


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def query_rows(run: Path) -> list[dict]:
    """The run's held-out eval rows, then its fact queries where it has them."""
    rows = read_rows(run / QUERY_ROWS)
    return rows + (read_rows(run / FACT_QUERY_ROWS) if (run / FACT_QUERY_ROWS).is_file() else [])


def check_run(run: Path) -> Path:
    """The run's SFT model folder, once RUN holds one (``sft/config.json``), its SFT rows and eval split."""
    sft = run / "sft"
    if not (sft / "config.json").is_file():
        raise InfluenceError(
            f"{run} has no SFT stage folder with a model ({sft}/config.json): influence scores a run's SFT "
            "model against the rows it was trained on, so pass runs/<name> of a run whose SFT stage finished "
            "(rl-reasoner run RECIPE --stages data,sft)"
        )
    for what, rel in (
        ("SFT rows (the training documents)", DOCUMENTS),
        ("eval split (the queries)", QUERY_ROWS),
    ):
        if not (run / rel).is_file():
            raise InfluenceError(f"run {run} has no {what} ({run / rel}); rerun its data stage")
    return sft


def stratified(rows: Sequence[dict], n: int, key, seed: int) -> list[dict]:
    """``n`` of ``rows`` with each group (by ``key``) in proportion to its size (largest remainders get the
    rest), drawn by ``seed``; returned in their original order.

    >>> rows = [{"level": 1}] * 6 + [{"level": 2}] * 2
    >>> sorted(r["level"] for r in stratified(rows, 4, lambda r: r["level"], seed=0))
    [1, 1, 1, 2]
    """
    groups: dict = defaultdict(list)
    for i, row in enumerate(rows):
        groups[key(row)].append(i)
    exact = {g: n * len(idx) / len(rows) for g, idx in groups.items()}
    quota = {g: int(x) for g, x in exact.items()}
    for g in sorted(groups, key=lambda g: (quota[g] - exact[g], str(g)))[: n - sum(quota.values())]:
        quota[g] += 1
    rng = random.Random(seed)
    chosen = [i for g in sorted(groups, key=str) for i in rng.sample(groups[g], quota[g])]
    return [rows[i] for i in sorted(chosen)]


def choose_documents(run: Path, n: int | None, seed: int) -> list[dict]:
    """The run's SFT rows, or ``n`` of them stratified by query kind and level."""
    rows = read_rows(run / DOCUMENTS)
    if n is None or n == len(rows):
        return rows
    if n < 1 or n > len(rows):
        raise InfluenceError(
            f"--docs {n} but run {run} has {len(rows)} SFT rows ({run / DOCUMENTS}): pass --docs between 1 "
            f"and {len(rows)}, or leave it out to score against all of them"
        )
    return stratified(rows, n, lambda r: (row_kind(r), r.get("level")), seed)


def choose_queries(run: Path, specs: Sequence[QuerySpec], seed: int) -> list[dict]:
    """For each spec, ``count`` held-out eval rows of its kind, spread over the levels."""
    rows = query_rows(run)
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_kind[row_kind(row)].append(row)
    chosen = []
    for spec in specs:
        pool = by_kind.get(spec.kind, [])
        if spec.count > len(pool):
            raise InfluenceError(
                f"--queries {spec.kind}:{spec.count} but run {run} has {len(pool)} eval prompts of kind "
                f"{spec.kind!r} ({QUERY_ROWS}, {FACT_QUERY_ROWS}; kinds there: {sorted(by_kind)}): ask for "
                f"at most {len(pool)}"
            )
        chosen += stratified(pool, spec.count, lambda r: r.get("level"), seed)
    return chosen


def default_specs(run: Path) -> list[QuerySpec]:
    """Without --queries: :data:`DEFAULT_PER_KIND` prompts of every kind the run's eval split holds."""
    kinds = {row_kind(row) for row in query_rows(run)}
    return [QuerySpec(k, DEFAULT_PER_KIND) for k in QUERY_KINDS if k in kinds]


def require_kronfluence() -> None:
    """Raises :class:`InfluenceError` naming the install command when kronfluence cannot be imported."""
    try:
        import kronfluence  # noqa: F401
    except ImportError as exc:
        raise InfluenceError(
            f"rl-reasoner influence needs the `influence` extra (kronfluence), which cannot be imported here "
            f"({exc}). Install it with the torch you have pinned on the same line, e.g. on a CPU machine "
            f"`{INSTALL}` (README: Set-up); without the pin pip replaces torch with a CUDA build"
        ) from None
