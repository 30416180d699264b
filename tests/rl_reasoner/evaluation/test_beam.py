"""``rl-reasoner eval --search prm-beam`` on the chain model (it answers \\boxed{12} or wanders off) and the
PRM trained on its samples: the pick is the best finished candidate by the PRM's last-step score, every token
generated is counted, the search never reads the gold, and bad settings stop before anything is generated."""

import json

import pytest

from rewards.verify import verify_batch
from rl_reasoner.cli import main
from rl_reasoner.evaluation.backends import HFBackend
from rl_reasoner.evaluation.beam import PrmBeamSearch
from rl_reasoner.evaluation.runner import load_metrics, read_samples
from rl_reasoner.generation import generate_samples
from rl_reasoner.verifier import load_verifier

FLAGS = ["--max-new-tokens", "24", "--batch-size", "64", "--seed", "3", "--temperature", "1.0"]
PROMPTS = [f"{a}+{12 - a}=?\n" for a in range(6)]


def write_rows(path, answer: str):
    rows = [{"id": f"q{i}", "level": 1, "prompt": p, "answer": answer} for i, p in enumerate(PROMPTS)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


@pytest.fixture(scope="module")
def evals(twelve_run, prm, run_cli, tmp_path_factory):
    """prm-beam evals through the real CLI (beam width 4, 3 expansions), and the same with every gold answer
    scrambled."""
    tmp = tmp_path_factory.mktemp("beam")
    data, scrambled = write_rows(tmp / "twelve.jsonl", "12"), write_rows(tmp / "scrambled.jsonl", "13")
    search = ["--search", "prm-beam", "--verifier", str(prm[0]), "--beam-width", "4", "--expansions", "3"]
    outs = {}
    for name, rows in (("wide", data), ("scrambled", scrambled)):
        out = ["--out", str(tmp / name)]
        done = run_cli("eval", str(twelve_run / "sft"), "--data", rows, *out, *FLAGS, *search)
        assert done.returncode == 0, done.stderr[-3000:]
        outs[name] = tmp / name
    return outs


def test_each_pick_carries_its_spent_tokens_and_its_last_step_score(evals, prm):
    records = read_samples(evals["wide"] / "samples.jsonl")
    verifier = load_verifier(str(prm[0]), kind="prm")
    assert len(records) == len(PROMPTS) and all(len(r["samples"]) == 1 for r in records)
    for record in records:
        (pick,) = record["samples"]
        assert pick["spent_tokens"] >= pick["tokens"] and pick["tokens"] <= 24
        last = verifier.score_steps([record["prompt"]], [pick["text"]])[0][-1]
        assert pick["verifier_score"] == pytest.approx(last, abs=1e-4)
    metrics = load_metrics(evals["wide"])
    assert metrics["config"]["search"] == {
        "name": "prm-beam", "verifier": str(prm[0]), "beam_width": 4, "expansions": 3
    }
    assert metrics["overall"]["mean_spent_tokens"] > metrics["overall"]["mean_tokens"]
    assert "prm-beam (beam width 4, expansions 3)" in (evals["wide"] / "metrics.md").read_text()


def test_scrambled_gold_answers_change_no_chosen_answer(evals):
    texts = [
        {r["id"]: r["samples"][0]["text"] for r in read_samples(evals[name] / "samples.jsonl")}
        for name in ("wide", "scrambled")
    ]
    assert texts[0] == texts[1]
    assert load_metrics(evals["scrambled"])["overall"]["pass@1"] == 0.0  # no candidate says 13


@pytest.fixture(scope="module")
def verifier(prm):
    return load_verifier(str(prm[0]), kind="prm")


@pytest.fixture(scope="module")
def search(twelve_run, verifier):
    """The search in this process: the HF backend on the chain model and the PRM, 4 x 3."""
    backend = HFBackend(str(twelve_run / "sft"), batch_size=64)
    return PrmBeamSearch(backend, verifier, beam_width=4, expansions=3)


class RecordingBackend(HFBackend):
    """The real HF backend; every ``generate_lines`` call (prefixes, budgets, steps) is kept for the test."""

    def __init__(self, model_path: str):
        super().__init__(model_path, batch_size=512)
        self.calls = []

    def generate_lines(self, prefixes, budgets, **sampling):
        steps = super().generate_lines(prefixes, budgets, **sampling)
        self.calls.append((prefixes, budgets, steps))
        return steps


@pytest.fixture
def token_steps(twelve_run):
    """The recording backend with every token ending a step: a token-level beam search, where the chain
    model's wanderers give a beam many distinct prefixes to choose from (its lines are rare)."""
    backend = RecordingBackend(str(twelve_run / "sft"))
    backend.newline_ids = list(range(len(backend.tokenizer)))
    return backend


def test_spent_tokens_grow_with_the_beam_width(token_steps, verifier):
    spent = {}
    for width in (1, 4):
        search = PrmBeamSearch(token_steps, verifier, beam_width=width, expansions=3)
        found = search.search(PROMPTS, max_new_tokens=16, temperature=1.0, top_p=1.0, seed=1)
        spent[width] = sum(result.spent for result in found)
    assert spent[4] > spent[1]


def test_a_round_is_one_call_over_all_prompts_keeping_the_best_distinct_prefixes(token_steps, verifier):
    search = PrmBeamSearch(token_steps, verifier, beam_width=2, expansions=3)
    found = search.search(PROMPTS, max_new_tokens=16, temperature=1.0, top_p=1.0, seed=2)
    prompt_ids = [tuple(token_steps.tokenizer(p)["input_ids"]) for p in PROMPTS]
    calls = token_steps.calls
    assert [tuple(p) for p in calls[0][0]] == [ids for ids in prompt_ids for _ in range(3)]
    assert len(calls) <= 16  # every round writes at least one token per live prefix
    spent = [0] * len(PROMPTS)
    for round_index, (prefixes, budgets, steps) in enumerate(calls):
        kept: list[set] = [set() for _ in PROMPTS]
        for prefix, budget, step in zip(prefixes, budgets, steps, strict=True):
            (i,) = [i for i, ids in enumerate(prompt_ids) if tuple(prefix[: len(ids)]) == ids]
            completion = tuple(prefix[len(prompt_ids[i]) :])
            assert budget == 16 - len(completion)
            spent[i] += len(step.ids)
            kept[i].add(completion)
        assert all(len(k) <= 2 for k in kept)  # at most beam-width parents, each expanded 3 times
        if round_index:
            _check_parents_are_the_best(calls[round_index - 1], prompt_ids, kept, verifier)
    _check_parents_are_the_best(calls[-1], prompt_ids, [set() for _ in PROMPTS], verifier)  # none left
    assert spent == [result.spent for result in found]


def _check_parents_are_the_best(previous_call, prompt_ids, kept, verifier):
    """The prefixes continued in a round are the 2 best-scoring distinct unfinished children of the last."""
    prefixes, _, steps = previous_call
    children: list[dict] = [{} for _ in prompt_ids]
    for prefix, step in zip(prefixes, steps, strict=True):
        (i,) = [i for i, ids in enumerate(prompt_ids) if tuple(prefix[: len(ids)]) == ids]
        ids = tuple(prefix[len(prompt_ids[i]) :]) + step.ids
        if step.ended != "eos" and len(ids) < 16:
            children[i][ids] = None
    for i, live in enumerate(children):
        if not live:
            assert not kept[i]
            continue
        texts = [verifier.tokenizer.decode(ids, skip_special_tokens=True) for ids in live]
        scores = [s[-1] for s in verifier.score_steps([PROMPTS[i]] * len(texts), texts)]
        ranked = sorted(zip(scores, live, strict=True), key=lambda pair: -pair[0])
        if len(ranked) > 2 and ranked[1][0] - ranked[2][0] < 1e-4:
            continue  # too close to call after re-batching
        assert kept[i] == {ids for _, ids in ranked[:2]}


def test_the_pick_is_the_best_finished_candidate_and_never_beats_its_candidates(search):
    found = search.search(PROMPTS * 2, max_new_tokens=24, temperature=1.0, top_p=1.0, seed=5)
    picks = search.generate(PROMPTS * 2, n=1, max_new_tokens=24, temperature=1.0, top_p=1.0, seed=5)
    any_right = 0
    for result, (pick,) in zip(found, picks, strict=True):
        finished = [c for c in result.candidates if c.finished] or result.candidates
        assert pick.score == max(c.score for c in finished) and pick.text in [c.text for c in finished]
        assert pick.spent == result.spent >= max(len(c.ids) for c in result.candidates)
        assert all(c.finished or len(c.ids) == 24 for c in result.candidates)
        verdicts = verify_batch(["12"] * len(finished), [c.text for c in finished], mode="lenient")
        any_right += any(v is True for v, c in zip(verdicts, finished, strict=True) if c.finished)
    right = verify_batch(["12"] * len(picks), [p.text for (p,) in picks], mode="lenient")
    assert sum(v is True and not p.truncated for v, (p,) in zip(right, picks, strict=True)) <= any_right


def test_greedy_expansions_are_counted_even_when_they_are_dropped_as_copies(search):
    """At temperature 0 all 3 expansions write the greedy answer: the pick is greedy decoding's, and the
    search paid for three of them."""
    ((greedy,),) = generate_samples(search.inner.model, search.tokenizer, PROMPTS[:1], max_new_tokens=24,
                                  batch_size=4, progress=False)
    (result,) = search.search(PROMPTS[:1], max_new_tokens=24, temperature=0.0, top_p=1.0, seed=0)
    assert greedy.text == "\\boxed{12}" and len(result.candidates) == 3
    ((pick,),) = search.generate(PROMPTS[:1], n=1, max_new_tokens=24, temperature=0.0, top_p=1.0, seed=0)
    assert (pick.text, pick.tokens, pick.truncated) == (greedy.text, greedy.tokens, False)
    assert pick.spent == 3 * greedy.tokens


def test_a_budget_too_small_for_any_answer_gives_a_cut_off_pick(search):
    ((pick,),) = search.generate(PROMPTS[:1], n=1, max_new_tokens=4, temperature=0.0, top_p=1.0, seed=0)
    assert (pick.text, pick.tokens, pick.truncated, pick.spent) == ("\\box", 4, True, 12)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--search", "prm-beam"], "prm-beam ranks candidates with a process verifier: pass --verifier DIR"),
        (["--search", "prm-beam", "--verifier", "{prm}", "--beam-width", "0"], "--beam-width must be >= 1"),
        (["--search", "prm-beam", "--verifier", "{prm}", "--expansions", "-2"], "--expansions must be >= 1"),
        (["--search", "prm-beam", "--verifier", "{orm}"], "--verifier: "),
        (["--search", "prm-beam", "--verifier", "{orm}"], "kind 'orm', not the 'prm' asked for"),
        (["--search", "prm-beam", "--verifier", "{prm}", "--candidates", "4"], "--candidates is not a"),
        (["--search", "bon", "--verifier", "{orm}", "--beam-width", "2"], "--beam-width is not a setting"),
        (["--beam-width", "2"], "--beam-width only apply with --search"),
        (["--search", "prm-beam", "--verifier", "{prm}", "--backend", "vllm"], "pass --backend hf"),
    ],
)
def test_bad_beam_settings_stop_before_anything_is_generated(twelve_run, orm, prm, tmp_path, capsys, extra,
                                                             message):
    extra = [x.format(orm=orm[0], prm=prm[0]) for x in extra]
    data = write_rows(tmp_path / "rows.jsonl", "12")
    code = main(["eval", str(twelve_run / "sft"), "--data", data, "--out", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err[-2000:]
    assert not (tmp_path / "out").exists()
