"""Agreement of the verifier with the labeled case set ``verify_cases.jsonl``.

Labels are mathematical truth (is the completion's final answer equal to the gold answer?), not the
output of any grader; ``null`` only where the gold itself is empty or unparsable. The set must stay
balanced: every category has both correct and incorrect completions (the all-null gold category aside).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rewards.verify import extract_answer, verify_batch

CASES_PATH = Path(__file__).with_name("verify_cases.jsonl")
MIN_AGREEMENT = 0.99
MIN_CASES = 250
NULL_ONLY_CATEGORIES = {"gold_invalid"}  # labels there are all null by construction


def load_cases(path: Path = CASES_PATH) -> list[dict]:
    """The labeled cases, one dict per jsonl line (category, gold, completion, label, note)."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _short(text: str | None, limit: int = 80) -> str:
    if text is None:
        return "None"
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else f"{text[: limit // 2]}...{text[-limit // 2 :]}"


def disagreements(cases: list[dict], results: list[bool | None]) -> list[str]:
    """One line per case where the verifier's result differs from the label."""
    lines = []
    for case, got in zip(cases, results, strict=True):
        if got is not case["label"]:
            extracted = _short(extract_answer(case["completion"]))
            lines.append(
                f"[{case['category']}] gold={case['gold']!r} extracted={extracted!r}"
                f" expected={case['label']} got={got} ({case['note']})"
            )
    return lines


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    return load_cases()


def test_case_file_is_well_formed(cases: list[dict]) -> None:
    assert len(cases) >= MIN_CASES
    for case in cases:
        assert set(case) == {"category", "gold", "completion", "label", "note"}, case
        assert case["label"] in (True, False, None), case
        assert isinstance(case["gold"], str) and isinstance(case["completion"], str), case
        assert case["note"], case
    labels_by_category: dict[str, Counter] = {}
    for case in cases:
        labels_by_category.setdefault(case["category"], Counter())[case["label"]] += 1
    for category, labels in labels_by_category.items():
        if category in NULL_ONLY_CATEGORIES:
            assert set(labels) == {None}, (category, labels)
        else:
            assert labels[True] > 0 and labels[False] > 0, (category, labels)
            assert labels[None] == 0, (category, labels)
    assert any(len(case["completion"]) > 5000 for case in cases)


def test_agreement_with_labels(cases: list[dict]) -> None:
    results = verify_batch([c["gold"] for c in cases], [c["completion"] for c in cases], timeout_s=1.0)
    assert all(r is None or isinstance(r, bool) for r in results)
    agreement = sum(r is c["label"] for r, c in zip(results, cases, strict=True)) / len(cases)
    wrong = disagreements(cases, results)
    assert agreement >= MIN_AGREEMENT, (
        f"agreement {agreement:.3f} < {MIN_AGREEMENT} ({len(wrong)} of {len(cases)} disagree):\n"
        + "\n".join(wrong)
    )
