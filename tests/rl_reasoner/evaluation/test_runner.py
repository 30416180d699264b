"""Forced openings in the eval engine, on the chain model (after a prompt ending in "\\n" it writes
``\\boxed{12}``): one opening for every row, or one per row."""

from rl_reasoner.evaluation.runner import (
    ORIGINAL,
    Sampling,
    Variant,
    evaluate_model,
    prompts_digest,
    read_samples,
)

ROWS = [
    {"id": "a", "prompt": "5+7=?\n", "answer": "12", "level": 1, "op": "add"},
    {"id": "s", "prompt": "19-7=?\n", "answer": "12", "level": 1, "op": "sub"},
]
OPENING = {"add": "Add\n", "sub": "Subtract\n"}


def _samples(model, out, variants):
    sampling = Sampling(max_new_tokens=12)
    evaluate_model(str(model), variants, out, sampling, batch_size=4, data={"source": "ROWS"})
    return {(r["variant"], r["id"]): r["samples"][0] for r in read_samples(out / "samples.jsonl")}


def test_a_per_row_opening_is_forced_and_counted_as_part_of_each_completion(answer_model, tmp_path):
    variants = {ORIGINAL: Variant(ROWS), "forced": Variant(ROWS, lambda row: OPENING[row["op"]])}
    samples = _samples(answer_model, tmp_path / "eval", variants)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(answer_model)
    for row in ROWS:
        plain, forced = samples[(ORIGINAL, row["id"])], samples[("forced", row["id"])]
        opening = OPENING[row["op"]]
        assert forced["text"] == opening + plain["text"] and forced["correct"] is True
        opening_ids = tokenizer(opening, add_special_tokens=False)["input_ids"]
        assert forced["tokens"] == len(opening_ids) + plain["tokens"]
        assert forced["token_ids"] == opening_ids + plain["token_ids"]


def test_the_same_opening_as_a_string_or_a_function_is_the_same_eval(answer_model, tmp_path):
    as_text = {"forced": Variant(ROWS, "Add\n")}
    as_function = {"forced": Variant(ROWS, lambda row: "Add\n")}
    assert prompts_digest(as_text) == prompts_digest(as_function)  # an older eval folder resumes
    assert prompts_digest(as_text) != prompts_digest({"forced": Variant(ROWS, "Sub\n")})
    text = _samples(answer_model, tmp_path / "text", {ORIGINAL: Variant(ROWS), **as_text})
    function = _samples(answer_model, tmp_path / "function", {ORIGINAL: Variant(ROWS), **as_function})
    assert text == function
