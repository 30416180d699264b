"""The factual task (issue 16): a fixed random table stated in paraphrased SFT rows, each key queried in a
phrasing none of its own documents uses; off by default, where a run's data and fingerprints are what they
were before it."""

import json

import pytest

from rl_reasoner.data.facts import PHRASINGS, fact_rows, fact_table
from rl_reasoner.recipe import RecipeError, load_recipe, recipe_to_dict

SMOKE = "recipes/tiny-arith/smoke.yaml"


class TestTable:
    def test_the_same_seed_gives_the_same_table_and_another_seed_another(self):
        assert fact_table(20, seed=1) == fact_table(20, seed=1) != fact_table(20, seed=2)
        assert len(fact_table(20, seed=1)) == 20

    def test_every_document_states_its_value_in_its_own_phrasing(self):
        table = fact_table(5, seed=0)
        documents, queries = fact_rows(table, 3, seed=0)
        assert len(documents) == 15 and len(queries) == 5
        for key, value in table.items():
            own = [d for d in documents if d["key"] == key]
            assert len({d["prompt"] for d in own}) == 3
            assert all(
                f"{value}." in d["completion"] and d["completion"].endswith(f"\\boxed{{{value}}}")
                for d in own
            )
        for q in queries:  # asked in a phrasing of the table that none of the key's own documents uses
            own = {d["prompt"] for d in documents if d["key"] == q["key"]}
            assert q["prompt"] == PHRASINGS[q["phrasing"]][0].format(key=q["key"]) and q["prompt"] not in own
        assert len({q["phrasing"] for q in queries}) > 1  # drawn per key, not one phrasing for all
        assert all(r["kind"] == "fact" for r in documents + queries)

    def test_a_key_keeps_a_phrasing_for_its_query(self):
        top = len(PHRASINGS)
        with pytest.raises(ValueError, match=f"documents_per_key={top} must be in 1..{top - 1}"):
            fact_rows(fact_table(2, seed=0), top, seed=0)


class TestRecipe:
    def test_a_misspelt_key_is_named(self):
        with pytest.raises(
            RecipeError, match="unknown key 'kyes' in section 'data.facts'; did you mean 'keys'"
        ):
            load_recipe(SMOKE, ["data.facts.kyes=3"])

    def test_documents_per_key_beyond_the_phrasings_is_refused(self):
        with pytest.raises(RecipeError, match=f"documents_per_key' must be in 1..{len(PHRASINGS) - 1}"):
            load_recipe(SMOKE, ["data.facts.keys=3", f"data.facts.documents_per_key={len(PHRASINGS)}"])

    def test_off_keeps_the_fingerprints_of_runs_made_before_facts(self):
        from rl_reasoner.pipeline import fingerprint

        now = recipe_to_dict(load_recipe(SMOKE, ["report_to=none"]))
        before = {**now, "data": {k: v for k, v in now["data"].items() if k != "facts"}}
        off = recipe_to_dict(load_recipe(SMOKE, ["report_to=none", "data.facts.documents_per_key=5"]))
        on = recipe_to_dict(load_recipe(SMOKE, ["report_to=none", "data.facts.keys=4"]))
        for stage in ("data", "sft", "grpo", "eval"):
            assert fingerprint(now, stage) == fingerprint(before, stage) == fingerprint(off, stage)
            assert fingerprint(on, stage) != fingerprint(now, stage)


def test_data_stage_mixes_the_facts_into_the_sft_rows_and_leaves_the_rest_byte_identical(tmp_path, run_cli):
    runs = {}
    for name, extra in (("plain", []), ("facts", ["data.facts.keys=4"])):
        done = run_cli(
            "run", SMOKE, "--runs-dir", str(tmp_path / name), "--stages", "data", "report_to=none", *extra
        )
        assert done.returncode == 0, done.stderr[-3000:]
        runs[name] = tmp_path / name / "tiny-arith-smoke" / "data"
    plain, facts = runs["plain"], runs["facts"]
    assert not (plain / "eval_facts.jsonl").exists()
    sft_plain, sft_facts = (
        p.read_text().splitlines(keepends=True) for p in (plain / "sft.jsonl", facts / "sft.jsonl")
    )
    assert sft_facts[: len(sft_plain)] == sft_plain and len(sft_facts) == len(sft_plain) + 12
    for split in ("eval.jsonl", "grpo.jsonl"):
        assert (plain / split).read_bytes() == (facts / split).read_bytes()
    queries = [json.loads(line) for line in (facts / "eval_facts.jsonl").read_text().splitlines()]
    assert len(queries) == 4 and all(q["kind"] == "fact" for q in queries)
