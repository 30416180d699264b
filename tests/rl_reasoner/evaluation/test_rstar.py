"""``rl-reasoner eval --search mcts|rstar`` on the chain model (it answers \\boxed{12} or wanders off):
rollouts are batched over prompts, every generated token is counted, the five actions are taken and the
two-action ablation takes only A1/A2, the discriminator verifies what it re-solves to the same answer, the
search never reads the gold, and bad settings stop before anything is generated."""

import json
from collections import Counter

import pytest

from rl_reasoner.cli import main
from rl_reasoner.evaluation.backends import HFBackend
from rl_reasoner.evaluation.rstar import REPHRASE, VOTES, MctsSearch
from rl_reasoner.evaluation.runner import load_metrics, read_samples

PROMPTS = [f"{a}+{12 - a}=?\n" for a in range(6)]
SAMPLING = {"max_new_tokens": 16, "temperature": 1.0, "top_p": 1.0}


class Recording(HFBackend):
    """The real HF backend; every generation call (kind, prefixes, steps) is kept for the test. With
    ``every_token`` each token ends a line, so the chain model's one-line answers make deep trees."""

    def __init__(self, model_path: str, every_token: bool = True):
        super().__init__(model_path, batch_size=512)
        self.calls = []
        if every_token:
            self.newline_ids = list(range(len(self.tokenizer)))

    def generate_lines(self, prefixes, budgets, **sampling):
        steps = super().generate_lines(prefixes, budgets, **sampling)
        self.calls.append(("lines", [tuple(p) for p in prefixes], steps))
        return steps

    def generate_rest(self, prefixes, budgets, **sampling):
        steps = super().generate_rest(prefixes, budgets, **sampling)
        self.calls.append(("rest", [tuple(p) for p in prefixes], steps))
        return steps


@pytest.fixture(scope="module")
def random_model(tmp_path_factory):
    """A randomly initialised tiny model: as a discriminator it never ends an answer within the budget."""
    from rl_reasoner.recipe import TinyModelSpec
    from rl_reasoner.tiny_model import save_tiny_model

    out = tmp_path_factory.mktemp("random") / "model"
    return str(save_tiny_model(out, TinyModelSpec(layers=1, hidden=64)))


def test_rollouts_are_batched_over_prompts_and_every_generated_token_is_spent(answer_model):
    backend = Recording(str(answer_model))
    picks = MctsSearch(backend, rollouts=6).generate(PROMPTS, n=1, seed=0, **SAMPLING)
    assert len(backend.calls) <= 2 * 6  # one line call and one completion call a rollout, all prompts in each
    assert max(len(prefixes) for _, prefixes, _ in backend.calls) >= len(PROMPTS)
    generated = sum(len(step.ids) for _, _, steps in backend.calls for step in steps)
    assert sum(pick.spent for (pick,) in picks) == generated
    assert all(pick.tokens <= 16 and pick.spent >= pick.tokens for (pick,) in picks)


def test_the_tree_counts_every_rollout_and_the_majority_pick_is_the_most_frequent_answer(answer_model):
    search = MctsSearch(Recording(str(answer_model)), rollouts=8)
    trees, verified = search.search(PROMPTS, seed=1, **SAMPLING)
    assert verified is None
    picks = search.generate(PROMPTS, n=1, seed=1, **SAMPLING)  # same seed: the same trees
    for tree, (pick,) in zip(trees, picks, strict=True):
        assert tree.root.visits == 8 and sum(c.visits for c in tree.root.children) == 8
        found = search.candidates(tree)
        assert len({c.ids for c in found}) == len(found) and sum(tree.answers.values()) <= len(tree.terminals)
        votes = Counter(c.answer for c in tree.terminals if c.answer is not None)
        assert tree.answers == votes
        if votes:
            top = max(votes.values())
            assert pick.ids in {c.ids for c in found if votes[c.answer] == top}


def _prefixes_after_prompts(backend, prompt_ids):
    """Every line-call prefix with its prompt removed, and how often each full prefix was asked in a row."""
    shown, repeats = [], []
    for kind, prefixes, _ in backend.calls:
        if kind != "lines":
            continue
        for ids in prompt_ids:
            shown += [p[len(ids):] for p in prefixes if p[: len(ids)] == ids]
        repeats += list(Counter(prefixes).values())
    return shown, repeats


def test_five_actions_force_the_rephrase_and_vote_on_lines_and_the_ablation_does_neither(answer_model):
    rephrase = tuple(Recording(str(answer_model)).tokenizer(REPHRASE, add_special_tokens=False)["input_ids"])
    seen = {}
    for actions in ("five", "two"):
        backend = Recording(str(answer_model))
        trees, _ = MctsSearch(backend, rollouts=10, actions=actions).search(PROMPTS, seed=2, **SAMPLING)
        prompt_ids = [tree.prompt_ids for tree in trees]
        shown, repeats = _prefixes_after_prompts(backend, prompt_ids)
        made = Counter()
        stack = [tree.root for tree in trees]
        while stack:
            node = stack.pop()
            made[node.action] += 1
            stack += node.children
        seen[actions] = (any(s[: len(rephrase)] == rephrase for s in shown), max(repeats, default=1), made)
    assert seen["five"][0] and seen["five"][1] >= VOTES
    assert {"rephrase", "subquestion"} <= set(seen["five"][2])
    assert not seen["two"][0] and seen["two"][1] < VOTES  # no forced opening, no line asked VOTES times
    assert set(seen["two"][2]) <= {"root", "step", "rest"}


def test_the_discriminator_verifies_what_it_solves_to_the_same_answer(answer_model, random_model):
    agreeing = MctsSearch(Recording(str(answer_model)), rollouts=6, discriminator=HFBackend(str(answer_model),
                          batch_size=64))  # fmt: skip
    trees, verified = agreeing.search(PROMPTS, seed=3, **SAMPLING)
    checked = [(c.answer, ok[c.ids]) for tree, ok in zip(trees, verified, strict=True) for c in
               agreeing.candidates(tree) if c.answer is not None]  # fmt: skip
    assert checked and all(ok == (answer == "12") for answer, ok in checked)  # its greedy answer is 12
    assert any(ok for _, ok in checked)
    other = MctsSearch(Recording(str(answer_model)), rollouts=6,
                       discriminator=HFBackend(random_model, batch_size=64))  # fmt: skip
    trees, verified = other.search(PROMPTS, seed=3, **SAMPLING)
    assert not any(any(ok.values()) for ok in verified)
    spent_without = sum(t.spent for t in MctsSearch(Recording(str(answer_model)), rollouts=6).search(
        PROMPTS, seed=3, **SAMPLING)[0])  # fmt: skip
    assert sum(t.spent for t in trees) > spent_without  # the discriminator's tokens are spent too


def write_rows(path, answer: str) -> str:
    rows = [{"id": f"q{i}", "level": 1, "prompt": p, "answer": answer} for i, p in enumerate(PROMPTS)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def test_rstar_through_the_cli_never_reads_the_gold(answer_model, tmp_path, capsys):
    flags = ["--max-new-tokens", "16", "--batch-size", "64", "--seed", "4", "--search", "rstar",
             "--rollouts", "5", "--discriminator", str(answer_model)]  # fmt: skip
    texts = {}
    for name, answer in (("right", "12"), ("scrambled", "13")):
        out = tmp_path / name
        code = main(["eval", str(answer_model), "--data", write_rows(tmp_path / f"{name}.jsonl", answer),
                     "--out", str(out), *flags])  # fmt: skip
        assert code == 0, capsys.readouterr().err[-2000:]
        texts[name] = {r["id"]: r["samples"][0]["text"] for r in read_samples(out / "samples.jsonl")}
    assert texts["right"] == texts["scrambled"]
    for record in read_samples(tmp_path / "right" / "samples.jsonl"):  # candidates judged after the search
        (pick,) = record["samples"]
        assert pick["candidates"] and all(c["correct"] == (c["answer"] == "12") for c in pick["candidates"])
        assert all(c["verified"] == c["correct"] for c in pick["candidates"])  # the discriminator says 12
    metrics = load_metrics(tmp_path / "right")
    assert metrics["config"]["search"] == {
        "name": "rstar", "verifier": None, "rollouts": 5, "actions": "five",
        "discriminator": str(answer_model),
    }  # fmt: skip
    assert metrics["overall"]["mean_spent_tokens"] > metrics["overall"]["mean_tokens"]
    page = (tmp_path / "right" / "metrics.md").read_text()
    assert f"rstar (rollouts 5, actions five, discriminator {answer_model})" in page
    assert "verifier" not in page
    assert load_metrics(tmp_path / "scrambled")["overall"]["pass@1"] == 0.0


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--search", "rstar"], "checks each trajectory with a second model: pass --discriminator"),
        (["--search", "rstar", "--discriminator", "{missing}"], "cannot be loaded as a model"),
        (["--search", "mcts", "--rollouts", "0"], "--rollouts must be >= 1"),
        (["--search", "mcts", "--actions", "three"], "--actions must be one of ['five', 'two']"),
        (["--search", "mcts", "--discriminator", "{model}"], "--discriminator is not a setting of --search"),
        (["--search", "mcts", "--verifier", "{model}"], "--search mcts ranks with no verifier"),
        (["--search", "bon", "--rollouts", "3"], "--rollouts is not a setting of --search bon"),
        (["--rollouts", "3"], "--rollouts only apply with --search"),
        (["--search", "mcts", "--backend", "vllm"], "pass --backend hf"),
    ],
)
def test_bad_rstar_settings_stop_before_anything_is_generated(answer_model, tmp_path, capsys, extra, message):
    extra = [x.format(model=answer_model, missing=tmp_path / "no-model") for x in extra]
    data = write_rows(tmp_path / "rows.jsonl", "12")
    code = main(["eval", str(answer_model), "--data", data, "--out", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err[-2000:]
    assert not (tmp_path / "out").exists()
