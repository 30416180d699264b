from rl_reasoner.evaluation.report import comparison_table, write_comparison


def summary(acc, tokens, style=None):
    level = {"prompts": 10, "pass@1": acc, "mean_tokens": tokens, "truncation_rate": 0.0}
    if style:
        level = {**level, "style": style}
    return {"overall": {"prompts": 20, "pass@1": acc, "mean_tokens": tokens, "truncation_rate": 0.0},
            "levels": {"1": level, "2": dict(level)}}


RESULTS = {
    "models": {"sft": summary(1.0, 120.0), "grpo": summary(0.99, 40.0)},
    "oracle": summary(1.0, 35.0, style="concise"),
}


def test_table_has_a_row_per_model_and_the_oracle_with_its_styles():
    table = comparison_table(RESULTS, "demo")
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert [r.split("|")[1].strip() for r in rows] == ["model", "sft", "grpo", "oracle"]
    assert "| grpo | 99.0% | 40.0 |" in table and "(concise)" in table


def test_write_comparison_writes_markdown_and_a_png(tmp_path):
    table = write_comparison(RESULTS, tmp_path, "demo")
    assert (tmp_path / "table.md").read_text() == table
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
