"""What ``rl-reasoner influence`` writes: ``scores.npz`` (every score matrix), ``influence.json`` (queries,
documents, each query's top documents per method, and how far EK-FAC and the gradient baseline agree) and
``influence.md`` (each query with its top documents, text included)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

# keys of the score matrices, (queries, documents) each; ekfac_relative: EK-FAC over sqrt(self-influence)
METHODS = ("ekfac", "ekfac_relative", "grad_dot", "grad_cosine")
QUERY_FIELDS = ("id", "kind", "level", "prompt", "answer", "completion", "truncated", "correct")


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman rank correlation (ties ranked by position); None for fewer than 2 values or a constant rank.

    >>> spearman([1, 2, 3], [10, 20, 30]), spearman([1, 2, 3], [3, 2, 1])
    (1.0, -1.0)
    """
    n = len(x)
    if n < 2:
        return None

    def ranks(v: Sequence[float]) -> list[int]:
        order = sorted(range(n), key=lambda i: v[i])
        out = [0] * n
        for r, i in enumerate(order):
            out[i] = r
        return out

    rx, ry = ranks(x), ranks(y)
    mean = (n - 1) / 2
    cov = sum((a - mean) * (b - mean) for a, b in zip(rx, ry, strict=True))
    var = sum((a - mean) ** 2 for a in rx)
    return round(cov / var, 6) if var else None


def top_indices(row: Sequence[float], k: int) -> list[int]:
    """Indices of the ``k`` largest values, largest first (ties: lower index first)."""
    return sorted(range(len(row)), key=lambda j: (-row[j], j))[:k]


def agreement(scores: Mapping[str, list[list[float]]], top_k: int) -> dict:
    """Per baseline: mean over queries of the Spearman correlation with EK-FAC and of the share of EK-FAC's
    top ``top_k`` documents that are also in the baseline's top ``top_k``."""
    out = {}
    for method in METHODS[1:]:
        rhos, overlaps = [], []
        for ek, other in zip(scores["ekfac"], scores[method], strict=True):
            if (rho := spearman(ek, other)) is not None:
                rhos.append(rho)
            overlaps.append(len(set(top_indices(ek, top_k)) & set(top_indices(other, top_k))) / top_k)
        out[method] = {
            "spearman_mean": round(sum(rhos) / len(rhos), 6) if rhos else None,
            f"top{top_k}_overlap_mean": round(sum(overlaps) / len(overlaps), 6),
        }
    return out


def _answer_shown(answer: str, document: dict) -> bool:
    return f"\\boxed{{{answer}}}" in document.get("completion", "")


def query_entries(
    queries: Sequence[dict], documents: Sequence[dict], scores: Mapping, top_k: int
) -> list[dict]:
    """Each query with its top ``top_k`` documents per method (id, score) and whether one shows its answer."""
    entries = []
    for i, q in enumerate(queries):
        top = {}
        for method in METHODS:
            idx = top_indices(scores[method][i], top_k)
            top[method] = [{"id": documents[j]["id"], "score": scores[method][i][j]} for j in idx]
        ek_top = top_indices(scores["ekfac"][i], top_k)
        entries.append(
            {
                **{k: q.get(k) for k in QUERY_FIELDS},
                "top": top,
                "answer_in_top_ekfac": any(_answer_shown(q["answer"], documents[j]) for j in ek_top),
            }
        )
    return entries


def write_report(
    out: Path, info: dict, queries: Sequence[dict], documents: Sequence[dict], scores: Mapping
) -> dict:
    """Writes ``scores.npz``, ``influence.json`` and ``influence.md`` into ``out``; returns the JSON dict.
    ``scores`` maps each of :data:`METHODS` to a (queries, documents) tensor."""
    import numpy as np

    lists = {m: scores[m].tolist() for m in METHODS}
    np.savez(
        out / "scores.npz",
        **{m: scores[m].numpy() for m in METHODS},
        query_ids=np.array([q["id"] for q in queries]),
        document_ids=np.array([d["id"] for d in documents]),
    )
    top_k = min(info["top_k"], len(documents))
    report = {
        **info,
        "score_sign": "positive: training on the document made the query's completion more likely",
        "documents": [{k: d.get(k) for k in ("id", "level", "kind", "style")} for d in documents],
        "queries": query_entries(queries, documents, lists, top_k),
        "agreement_with_ekfac": agreement(lists, top_k),
    }
    (out / "influence.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "influence.md").write_text(markdown(report, {d["id"]: d for d in documents}))
    return report


def _fence(text: str) -> list[str]:
    return ["```", text.rstrip("\n").replace("```", "` ` `"), "```"]


def markdown(report: dict, by_id: Mapping[str, dict]) -> str:
    """The readable report: settings, agreement, then each query and its top EK-FAC documents with text."""
    lines = [
        f"# Influence of {report['run']}'s SFT rows on its own answers",
        "",
        f"Model `{report['model']}`, {len(report['documents'])} documents, {len(report['queries'])} queries, "
        f"EK-FAC (kronfluence {report['kronfluence']}); {report['score_sign']}.",
        "",
        "| baseline | mean Spearman with EK-FAC | mean top-k overlap |",
        "|---|---|---|",
    ]
    for method, stats in report["agreement_with_ekfac"].items():
        overlap = next(v for k, v in stats.items() if k.endswith("_overlap_mean"))
        lines.append(f"| {method} | {stats['spearman_mean']} | {overlap} |")
    for q in report["queries"]:
        verdict = "right" if q["correct"] else "wrong"
        lines += [
            "",
            f"## {q['id']} ({q['kind']}, level {q['level']}): {verdict}, gold {q['answer']}",
            "",
            *_fence(q["prompt"] + q["completion"]),
            "",
            "| rank | document | EK-FAC score |",
            "|---|---|---|",
        ]
        lines += [f"| {r} | {t['id']} | {t['score']:.4g} |" for r, t in enumerate(q["top"]["ekfac"], 1)]
        for t in q["top"]["ekfac"]:
            doc = by_id[t["id"]]
            lines += [
                "",
                f"**{t['id']}** (level {doc.get('level')}, {doc.get('style', 'no style')}):",
                "",
                *_fence(doc["prompt"] + doc["completion"]),
            ]
    return "\n".join(lines) + "\n"
