"""Bad input to ``rl-reasoner influence`` is refused in one paragraph with exit code 2 before any model loads:
these tests run without the ``influence`` extra, on run folders whose "model" is an empty config."""

import json
from pathlib import Path

import pytest

from rl_reasoner.influence.inputs import (
    InfluenceError,
    QuerySpec,
    choose_documents,
    choose_queries,
    parse_queries,
    stratified,
)


def make_run(root: Path, sft_rows: int = 6, with_model: bool = True) -> Path:
    """A run folder with SFT rows over two levels, four eval prompts and (``with_model``) a model folder
    whose config.json is empty: anything that tried to load it would fail."""
    run = root / "run"
    (run / "data").mkdir(parents=True)
    if with_model:
        (run / "sft").mkdir()
        (run / "sft" / "config.json").write_text("{}")
    docs = [
        {
            "id": f"sft-{i}",
            "level": 1 + i % 2,
            "prompt": f"{i}+1=?\n",
            "answer": str(i + 1),
            "style": "direct",
            "completion": f"<think>\n</think>\n\\boxed{{{i + 1}}}",
        }
        for i in range(sft_rows)
    ]
    evals = [
        {"id": f"eval-{i}", "level": 1 + i % 2, "prompt": f"{i}+2=?\n", "answer": str(i + 2)}
        for i in range(4)
    ]
    for name, rows in (("sft", docs), ("eval", evals)):
        (run / "data" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


class TestQueries:
    def test_an_unknown_kind_is_named_with_the_valid_ones(self):
        with pytest.raises(InfluenceError, match=r"unknown query kind 'mul'.*\['add', 'sub', 'fact'\]"):
            parse_queries(["add:2", "mul:3"])

    def test_a_bad_count_is_refused(self):
        with pytest.raises(InfluenceError, match="N must be a whole number"):
            parse_queries(["add:0"])

    def test_a_kind_the_run_lacks_is_refused_with_the_kinds_it_has(self, tmp_path):
        run = make_run(tmp_path)
        with pytest.raises(InfluenceError, match=r"0 eval prompts of kind 'sub'.*kinds there: \['add'\]"):
            choose_queries(run, [QuerySpec("sub", 1)], seed=0)

    def test_queries_spread_over_levels(self, tmp_path):
        chosen = choose_queries(make_run(tmp_path), [QuerySpec("add", 2)], seed=0)
        assert sorted(r["level"] for r in chosen) == [1, 2]


class TestDocuments:
    def test_more_documents_than_rows_is_refused(self, tmp_path):
        with pytest.raises(InfluenceError, match=r"--docs 7 but run .* has 6 SFT rows"):
            choose_documents(make_run(tmp_path), 7, seed=0)

    def test_all_rows_by_default_and_a_stratified_subset_on_request(self, tmp_path):
        run = make_run(tmp_path)
        assert [d["id"] for d in choose_documents(run, None, 0)] == [f"sft-{i}" for i in range(6)]
        subset = choose_documents(run, 4, seed=0)
        assert len(subset) == 4 and sorted(d["level"] for d in subset) == [1, 1, 2, 2]

    def test_stratified_keeps_proportions_and_original_order(self):
        rows = [{"i": i, "g": "a" if i < 9 else "b"} for i in range(12)]
        picked = stratified(rows, 8, lambda r: r["g"], seed=3)
        assert [r["g"] for r in picked].count("a") == 6 and [r["i"] for r in picked] == sorted(
            r["i"] for r in picked
        )


class TestCommand:
    def test_a_run_without_an_sft_stage_folder(self, tmp_path, run_cli):
        done = run_cli("influence", str(make_run(tmp_path, with_model=False)))
        assert done.returncode == 2
        assert "has no SFT stage folder" in done.stderr and "--stages data,sft" in done.stderr

    def test_an_unknown_query_kind(self, tmp_path, run_cli):
        done = run_cli("influence", str(make_run(tmp_path)), "--queries", "mul:2")
        assert done.returncode == 2 and "unknown query kind 'mul'" in done.stderr

    def test_more_documents_than_exist(self, tmp_path, run_cli):
        done = run_cli("influence", str(make_run(tmp_path)), "--docs", "100")
        assert done.returncode == 2 and "--docs 100 but run" in done.stderr
        assert not (tmp_path / "run" / "influence").exists()

    def test_without_the_extra_the_error_gives_the_install_command(self, tmp_path, run_cli, monkeypatch):
        shadow = tmp_path / "shadow" / "kronfluence"
        shadow.mkdir(parents=True)
        (shadow / "__init__.py").write_text(
            "raise ImportError('No module named kronfluence (test shadow)')\n"
        )
        monkeypatch.setenv("PYTHONPATH", str(shadow.parent))
        done = run_cli("influence", str(make_run(tmp_path)), "--queries", "add:1")
        assert done.returncode == 2, done.stderr[-2000:]
        assert 'pip install -e ".[influence]" torch==2.13.0' in done.stderr
        assert not (tmp_path / "run" / "influence").exists()
