"""``rl-reasoner eval --search bon`` end to end: the chain model (it answers \\boxed{12} or wanders off) and
an ORM trained on its samples; the search ranks exactly the candidates an ``--n`` eval draws, records what
they cost, never reads the gold, and bad settings stop before anything is generated."""

import json
import math
import shutil

import pytest

from rl_reasoner.evaluation.runner import load_metrics, read_samples
from rl_reasoner.verifier import load_verifier

FLAGS = ["--max-new-tokens", "40", "--batch-size", "16", "--seed", "3", "--temperature", "1.0"]


def write_rows(path, answer: str):
    rows = [{"id": f"q{a}", "level": 1, "prompt": f"{a}+{12 - a}=?\n", "answer": answer} for a in range(13)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


@pytest.fixture(scope="module")
def evals(twelve_run, orm, run_cli, tmp_path_factory):
    """(plain --n 4 eval, bon and bon-vote over 4 candidates, bon with every gold answer scrambled)."""
    tmp = tmp_path_factory.mktemp("search")
    data, scrambled = write_rows(tmp / "twelve.jsonl", "12"), write_rows(tmp / "scrambled.jsonl", "13")
    model = str(twelve_run / "sft")
    outs = {}
    for name, rows, extra in (
        ("plain", data, ["--n", "4", "--k", "1,4"]),
        ("bon", data, ["--search", "bon", "--verifier", str(orm[0]), "--candidates", "4"]),
        ("vote", data, ["--search", "bon-vote", "--verifier", str(orm[0]), "--candidates", "4"]),
        ("scrambled", scrambled, ["--search", "bon", "--verifier", str(orm[0]), "--candidates", "4"]),
        ("replayed", data, ["--search", "bon", "--verifier", str(orm[0]), "--candidates", "4",
                            "--candidates-from", str(tmp / "plain")]),
    ):
        done = run_cli("eval", model, "--data", rows, "--out", str(tmp / name), *FLAGS, *extra)
        assert done.returncode == 0, done.stderr[-3000:]
        outs[name] = tmp / name
    return outs


def test_best_of_n_picks_the_verifiers_best_of_the_candidates_an_n_eval_draws(evals, orm):
    plain = {r["id"]: r for r in read_samples(evals["plain"] / "samples.jsonl")}
    picks = {r["id"]: r["samples"] for r in read_samples(evals["bon"] / "samples.jsonl")}
    verifier = load_verifier(str(orm[0]), kind="orm")
    assert set(plain) == set(picks) and all(len(p) == 1 for p in picks.values())
    for qid, record in plain.items():
        candidates, (pick,) = record["samples"], picks[qid]
        scores = verifier.score([record["prompt"]] * len(candidates), [c["text"] for c in candidates])
        finished = [s for s, c in zip(scores, candidates, strict=True) if not c["truncated"]] or scores
        assert pick["text"] in [c["text"] for c in candidates]
        assert pick["verifier_score"] == pytest.approx(max(finished), abs=1e-4)
        assert pick["spent_tokens"] == sum(c["tokens"] for c in candidates)


def test_ranking_a_finished_evals_answers_picks_what_the_search_picks_by_sampling(evals):
    sampled, replayed = (
        {r["id"]: r["samples"] for r in read_samples(evals[name] / "samples.jsonl")}
        for name in ("bon", "replayed")
    )
    assert sampled.keys() == replayed.keys() and len(sampled) == 13
    for qid, (pick,) in sampled.items():
        (again,) = replayed[qid]
        assert (again["text"], again["spent_tokens"]) == (pick["text"], pick["spent_tokens"])
        assert again["verifier_score"] == pytest.approx(pick["verifier_score"], abs=1e-5)
    config = load_metrics(evals["replayed"])["config"]
    assert config.pop("candidates_from") == str(evals["plain"].resolve())
    assert config == load_metrics(evals["bon"])["config"]


def test_the_replay_ranks_the_saved_answers_not_fresh_ones(evals, twelve_run, orm, run_cli, tmp_path):
    """Every candidate of one prompt replaced by a copy of one it did not pick: the replay must pick that."""
    plain = {r["id"]: r for r in read_samples(evals["plain"] / "samples.jsonl")}
    picks = {r["id"]: r["samples"][0]["text"] for r in read_samples(evals["bon"] / "samples.jsonl")}
    qid = next(q for q, r in plain.items() if len({s["text"] for s in r["samples"]}) > 1)
    other = next(s for s in plain[qid]["samples"] if s["text"] != picks[qid])
    edited = tmp_path / "edited"
    shutil.copytree(evals["plain"], edited)
    lines = [json.loads(line) for line in (edited / "samples.jsonl").read_text().splitlines()]
    for record in lines:
        if record["id"] == qid:
            record["samples"] = [other] * len(record["samples"])
    (edited / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    done = run_cli("eval", str(twelve_run / "sft"), "--data", str(evals["plain"].parent / "twelve.jsonl"),
                   "--out", str(tmp_path / "out"), *FLAGS, "--search", "bon", "--verifier", str(orm[0]),
                   "--candidates", "4", "--candidates-from", str(edited))  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    again = {r["id"]: r["samples"][0] for r in read_samples(tmp_path / "out" / "samples.jsonl")}
    assert again[qid]["text"] == other["text"] != picks[qid]
    assert again[qid]["spent_tokens"] == 4 * other["tokens"]
    assert all(again[q]["text"] == picks[q] for q in picks if q != qid)


def test_a_prompt_held_twice_is_replayed_as_each_row_was_sampled(twelve_run, orm, run_cli, tmp_path):
    """Two rows, one text: the sampled eval drew each row its own candidates (another chunk, another seed),
    and the replay ranks each row's own, as a fresh search does (the bench's seed 16 held 364+530 twice)."""
    data = tmp_path / "twice.jsonl"
    write_rows(data, "12")
    lines = data.read_text().splitlines()
    data.write_text("\n".join([*lines, json.dumps({**json.loads(lines[5]), "id": "q5-again"})]) + "\n")
    model, bon = str(twelve_run / "sft"), ["--search", "bon", "--verifier", str(orm[0]), "--candidates", "4"]
    replay = [*bon, "--candidates-from", str(tmp_path / "plain")]
    for name, extra in (("plain", ["--n", "4"]), ("replayed", replay)):
        done = run_cli("eval", model, "--data", str(data), "--out", str(tmp_path / name), *FLAGS, *extra)
        assert done.returncode == 0, done.stderr[-3000:]
    plain = {r["id"]: r for r in read_samples(tmp_path / "plain" / "samples.jsonl")}
    picks = {r["id"]: r["samples"][0] for r in read_samples(tmp_path / "replayed" / "samples.jsonl")}
    assert plain["q5"]["samples"] != plain["q5-again"]["samples"]  # the case: one text, two sample sets
    verifier = load_verifier(str(orm[0]), kind="orm")
    for qid, record in plain.items():  # each row's pick: the best of its own candidates, as bon's (above)
        candidates = record["samples"]
        scores = verifier.score([record["prompt"]] * len(candidates), [c["text"] for c in candidates])
        best = max(range(len(candidates)), key=lambda i: (not candidates[i]["truncated"], scores[i], -i))
        assert picks[qid]["text"] == candidates[best]["text"]
        assert picks[qid]["spent_tokens"] == sum(c["tokens"] for c in candidates)


def broken_copies(plain, tmp_path):
    """Copies of the sampled eval: one unfinished (no metrics.json), one missing a prompt's line."""
    unfinished, short = tmp_path / "unfinished", tmp_path / "short"
    for copy in (unfinished, short):
        shutil.copytree(plain, copy)
    (unfinished / "metrics.json").unlink()
    lines = (short / "samples.jsonl").read_text().splitlines(keepends=True)
    (short / "samples.jsonl").write_text("".join(lines[1:]))
    return {"unfinished": unfinished, "short": short}


@pytest.mark.parametrize(
    "extra, source, message",
    [
        (["--candidates", "2"], "plain", "n: 4 there, 2 here"),
        (["--seed", "4"], "plain", "seed: 3 there, 4 here"),
        (["--batch-size", "8"], "plain", "batch_size: 16 there, 8 here"),
        ([], "bon", "search: {'name': 'bon'"),
        ([], "nowhere", "has no eval_config.json"),
        ([], "unfinished", "is unfinished (no metrics.json yet)"),
        ([], "short", "holds 1 prompts without 4 samples"),
        (["--perturb"], "plain", "replays an eval of the original prompts only"),
        (["--no-search"], "plain", "only --search bon or bon-vote does; got no --search"),
    ],
)
def test_replaying_candidates_that_the_search_would_not_draw_stops_first(
    evals, twelve_run, orm, tmp_path, capsys, extra, source, message
):
    """In this process (the refusals load nothing; a subprocess each would spend seconds importing)."""
    from rl_reasoner.cli import main

    folder = (evals | broken_copies(evals["plain"], tmp_path)).get(source, tmp_path)
    search = ["--search", "bon", "--verifier", str(orm[0]), "--candidates", "4"]
    if extra == ["--no-search"]:
        search, extra = [], []
    flags = [*FLAGS, *search, "--candidates-from", str(folder), *extra]  # argparse: the last value wins
    out = tmp_path / "out"
    capsys.readouterr()
    code = main(["eval", str(twelve_run / "sft"), "--data", str(evals["plain"].parent / "twelve.jsonl"),
                 "--out", str(out), *flags])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err[-2000:]
    assert not out.exists()


def test_bon_vote_picks_the_best_member_of_the_answer_with_the_most_verifier_weight(evals, orm):
    plain = {r["id"]: r for r in read_samples(evals["plain"] / "samples.jsonl")}
    picks = {r["id"]: r["samples"][0] for r in read_samples(evals["vote"] / "samples.jsonl")}
    verifier = load_verifier(str(orm[0]), kind="orm")
    for qid, record in plain.items():
        candidates = record["samples"]
        scores = verifier.score([record["prompt"]] * len(candidates), [c["text"] for c in candidates])
        weight: dict = {}
        for c, s in zip(candidates, scores, strict=True):
            if c["vote"] is not None:
                weight[c["vote"]] = weight.get(c["vote"], 0.0) + 1 / (1 + math.exp(-s))
        if not weight:
            continue
        top = max(weight.values())
        members = [s for c, s in zip(candidates, scores, strict=True) if weight.get(c["vote"]) == top]
        assert picks[qid]["verifier_score"] == pytest.approx(max(members), abs=1e-4)
    assert picks and load_metrics(evals["vote"])["config"]["search"]["name"] == "bon-vote"


def test_search_accuracy_is_bounded_by_its_candidates_and_costs_are_reported(evals):
    plain, bon = load_metrics(evals["plain"]), load_metrics(evals["bon"])
    assert bon["overall"]["pass@1"] <= plain["overall"]["pass@4"] + 1e-9
    assert bon["overall"]["mean_spent_tokens"] == pytest.approx(4 * plain["overall"]["mean_tokens"])
    assert bon["config"]["search"]["name"] == "bon" and bon["config"]["search"]["candidates"] == 4
    assert "spent tokens" in (evals["bon"] / "metrics.md").read_text()


def test_scrambled_gold_answers_change_no_chosen_answer(evals):
    texts = [
        {r["id"]: r["samples"][0]["text"] for r in read_samples(evals[name] / "samples.jsonl")}
        for name in ("bon", "scrambled")
    ]
    assert texts[0] == texts[1]
    assert load_metrics(evals["scrambled"])["overall"]["pass@1"] == 0.0  # no candidate says 13


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--search", "bon"], "pass --verifier DIR"),
        (["--search", "bon", "--verifier", "{orm}", "--candidates", "0"], "--candidates must be >= 1"),
        (["--search", "bon", "--verifier", "{orm}", "--n", "2"], "takes --n 1"),
        (["--search", "bon", "--verifier", "{run}"], "is not a verifier folder"),
        (["--search", "bon", "--verifier", "{prm}"], "kind 'prm', not the 'orm' asked for"),
        (["--search", "beam", "--verifier", "{orm}"], "valid searches"),
    ],
)
def test_bad_search_settings_stop_before_anything_is_generated(twelve_run, orm, prm, run_cli, tmp_path, extra,
                                                               message):
    extra = [x.format(orm=orm[0], prm=prm[0], run=twelve_run) for x in extra]
    data = write_rows(tmp_path / "rows.jsonl", "12")
    done = run_cli("eval", str(twelve_run / "sft"), "--data", data, "--out", str(tmp_path / "out"), *extra)
    assert done.returncode == 2 and message in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()
