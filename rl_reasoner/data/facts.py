"""A factual task beside the arithmetic (issue 16): a fixed random table f(key) -> value, each key stated in a
few paraphrased SFT documents, so that factual and procedural queries live in one model.

Turned on by ``data.facts.keys`` (0, the default, writes nothing: a run's files stay byte-identical to those
made before facts existed). The table is drawn from the recipe seed alone: ``keys`` made-up five-letter
names (consonant-vowel, distinct) with values 100..999. Each key gets ``documents_per_key`` SFT rows, each in
another of the :data:`PHRASINGS` (a question and a one-line thought that states the value, then
``\\boxed{value}``); rows carry ``kind: fact``, ``key`` and level :data:`FACT_LEVEL`. The queries
(``eval_facts`` split, one per key) ask in a phrasing none of *that key's* documents uses (other keys' do),
so a right answer means the model recalled the value across phrasings, not a memorised string. (Asked in a
phrasing no document of any key used, seed 0 recalled 10 of 50 values and any SFT rerun lost them, with or
without the top documents: docs/influence.md at 0aea552.) GRPO prompts and the eval split are untouched
(their per-level metrics stay arithmetic).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

FACT_LEVEL = 0  # level of fact rows (arithmetic levels are 1..9)
PHRASINGS = (  # (prompt, the thought that states the value); a key's query uses one its documents do not
    ("What value does the table give {key}?\n", "The table gives {key} the value {value}."),
    ("Look up {key}.\n", "{key} is listed as {value}."),
    ("Recall the entry for {key}.\n", "The entry for {key} reads {value}."),
    ("{key} -> ?\n", "{key} maps to {value}."),
    ("Which number belongs to {key}?\n", "The number that belongs to {key} is {value}."),
    ("f({key})=?\n", "f({key}) is {value}."),
)
CONSONANTS, VOWELS = "bdfgklmnprstvz", "aeiou"


def fact_table(keys: int, seed: int) -> dict[str, int]:
    """``keys`` distinct made-up names -> values in 100..999, the same for the same ``seed``.

    >>> table = fact_table(3, seed=0)
    >>> table == fact_table(3, seed=0) and len(table) == 3 and all(100 <= v <= 999 for v in table.values())
    True
    """
    rng = random.Random(f"facts-{seed}")
    table: dict[str, int] = {}
    while len(table) < keys:
        name = "".join(rng.choice(CONSONANTS if i % 2 == 0 else VOWELS) for i in range(5))
        table.setdefault(name, rng.randint(100, 999))
    return table


def document(key: str, value: int, phrasing: int) -> tuple[str, str]:
    """(prompt, completion) of one document stating ``f(key) = value`` in phrasing ``phrasing``."""
    prompt, thought = PHRASINGS[phrasing]
    completion = f"<think>\n{thought.format(key=key, value=value)}\n</think>\n\\boxed{{{value}}}"
    return prompt.format(key=key), completion


def fact_rows(table: Mapping[str, int], documents_per_key: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(SFT documents, one query per key) for ``table``; each key's phrasings (``documents_per_key`` for its
    documents, one of the others for its query) are drawn by ``seed``."""
    if not 1 <= documents_per_key < len(PHRASINGS):
        raise ValueError(f"documents_per_key={documents_per_key} must be in 1..{len(PHRASINGS) - 1}")
    rng = random.Random(f"fact-documents-{seed}")
    documents, queries = [], []
    for i, (key, value) in enumerate(table.items()):
        base = {"kind": "fact", "key": key, "level": FACT_LEVEL, "answer": str(value)}
        drawn = rng.sample(range(len(PHRASINGS)), documents_per_key + 1)
        for j in sorted(drawn[:-1]):
            prompt, completion = document(key, value, j)
            documents.append({"id": f"fact-{key}-{j}", **base, "prompt": prompt, "completion": completion})
        prompt = PHRASINGS[drawn[-1]][0].format(key=key)
        queries.append({"id": f"eval-fact-{i}", **base, "prompt": prompt, "phrasing": drawn[-1]})
    return documents, queries


def facts_splits(splits: Mapping[str, list[dict]], facts: Any, seed: int) -> tuple[dict, dict]:
    """``splits`` with the fact documents after the SFT rows and an ``eval_facts`` split of the queries,
    and what was added (``facts``: a ``data.facts`` section with ``keys`` >= 1)."""
    table = fact_table(facts.keys, seed)
    documents, queries = fact_rows(table, facts.documents_per_key, seed)
    out = {**splits, "sft": [*splits["sft"], *documents], "eval_facts": queries}
    return out, {"keys": len(table), "documents": len(documents), "queries": len(queries)}
